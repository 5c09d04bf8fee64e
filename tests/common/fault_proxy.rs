//! A fault-injecting proxy on the engine socket: a Unix-socket HTTP proxy in the
//! test process that forwards to /var/run/docker.sock and answers the first few
//! requests matching a rule with an error status instead (berth runs with
//! `DOCKER_HOST=unix://<its socket>`). Requests that are not upgraded are sent on
//! with `Connection: close`, so every request arrives on a connection of its own
//! and is looked at (a kept-alive connection would carry later ones unseen).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

pub const ENGINE_SOCKET: &str = "/var/run/docker.sock";

/// Answer `status` to the first `times` requests with `method` whose path holds
/// `path_contains`.
pub struct Rule {
    pub method: &'static str,
    pub path_contains: String,
    pub status: u16,
    pub times: usize,
    served: AtomicUsize,
}

impl Rule {
    pub fn new(method: &'static str, path_contains: &str, status: u16, times: usize) -> Self {
        Self {
            method,
            path_contains: path_contains.to_string(),
            status,
            times,
            served: AtomicUsize::new(0),
        }
    }

    /// Takes one fault if this rule matches and has some left.
    fn take(&self, method: &str, path: &str) -> bool {
        if method != self.method || !path.contains(&self.path_contains) {
            return false;
        }
        self.served
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.times).then_some(n + 1)
            })
            .is_ok()
    }
}

pub struct FaultProxy {
    pub socket: PathBuf,
    rules: Arc<Vec<Rule>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on `socket` (in the test's own directory).
    pub fn start(socket: &Path, rules: Vec<Rule>) -> Self {
        let listener = UnixListener::bind(socket).expect("bind the proxy socket");
        let rules = Arc::new(rules);
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (rules.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let r = r.clone();
                // Ends when either side closes (berth exits at the latest).
                std::thread::spawn(move || serve(conn, &r));
            }
        });
        Self {
            socket: socket.to_path_buf(),
            rules,
            stop,
            accept: Some(accept),
        }
    }

    /// `DOCKER_HOST` for berth.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Faults answered so far, per rule.
    pub fn served(&self) -> Vec<usize> {
        self.rules
            .iter()
            .map(|r| r.served.load(Ordering::SeqCst))
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.socket);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn serve(mut client: UnixStream, rules: &[Rule]) {
    // The request's head (and whatever of its body came with it).
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    if let Some(rule) = rules.iter().find(|r| r.take(method, path)) {
        let body = format!(
            "{{\"message\":\"injected fault {} for {method} {path}\"}}",
            rule.status
        );
        let reply = format!(
            "HTTP/1.1 {} Injected\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            rule.status,
            body.len()
        );
        let _ = client.write_all(reply.as_bytes());
        return;
    }
    let Ok(mut engine) = UnixStream::connect(ENGINE_SOCKET) else {
        return;
    };
    let upgrade = head.to_ascii_lowercase().contains("\r\nupgrade:");
    let mut out = Vec::new();
    if upgrade {
        out.extend_from_slice(&buf);
    } else {
        let kept: Vec<&str> = head[..head.len() - 4]
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect();
        out.extend_from_slice(kept.join("\r\n").as_bytes());
        out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        out.extend_from_slice(&buf[head_end..]);
    }
    if engine.write_all(&out).is_err() {
        return;
    }
    let (Ok(mut c2), Ok(mut e2)) = (client.try_clone(), engine.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut e2);
        let _ = e2.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut engine, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}
