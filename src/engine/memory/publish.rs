//! Published ports, for tests that need them: a running container's host port
//! answers on 127.0.0.1 with an SSH banner, as its sshd would behind Docker's port
//! publishing, so code that waits for sshd runs unchanged over the memory engine.
//! Off unless asked for ([`super::MemoryEngine::publishing`]).
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use tokio::io::AsyncWriteExt;

pub(super) struct Publisher {
    pub on: bool,
    /// Host port -> the task answering on it.
    open: Mutex<HashMap<u16, tokio::task::AbortHandle>>,
}

impl Publisher {
    pub fn new(on: bool) -> Self {
        Self {
            on,
            open: Mutex::default(),
        }
    }

    /// Takes the host port before a start, as the engine would: `Err` when another
    /// program holds it.
    pub fn bind(&self, port: u16) -> std::io::Result<std::net::TcpListener> {
        let l = std::net::TcpListener::bind(("127.0.0.1", port))?;
        l.set_nonblocking(true)?;
        Ok(l)
    }

    /// Answers on `port` with an SSH banner until closed.
    pub fn serve(&self, port: u16, listener: std::net::TcpListener) {
        let Ok(l) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        let task = tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let _ = s
                    .write_all(b"SSH-2.0-OpenSSH_9.2 berth-memory-engine\r\n")
                    .await;
            }
        });
        if let Ok(mut open) = self.open.lock() {
            if let Some(old) = open.insert(port, task.abort_handle()) {
                old.abort();
            }
        }
    }

    /// Closes the ports no running container publishes any more.
    pub fn keep_only(&self, ports: &BTreeSet<u16>) {
        if let Ok(mut open) = self.open.lock() {
            open.retain(|port, task| {
                let keep = ports.contains(port);
                if !keep {
                    task.abort();
                }
                keep
            });
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.keep_only(&BTreeSet::new());
    }
}
