//! A second (third, ...) Docker engine started by a test itself: its own
//! data-root, exec-root, pidfile, socket, containerd, bridge and subnet, with
//! iptables off (published ports go through docker-proxy on 127.0.0.1, and its
//! containers reach nothing beyond the host). Optionally it also listens on
//! 127.0.0.1:PORT with TLS, with certificates made by the test. berth's images
//! are copied in with `docker save | docker load`.
//!
//! Everything of it lives in 10.NET.0.0/16: its bridge, and (its own address pool)
//! the networks made on it, so none of them can take one of the ranges the default
//! engine draws networks from. Dropping it (or [`ExtraDockerd::shut_down`]) removes
//! its containers and networks while it runs, stops it by PID, ends what it started
//! (its containerd, shims and, after a SIGKILL, its containers' processes, found by
//! their cgroups), deletes every link holding an address of its range (the bridges
//! a dockerd leaves behind when it stops) and its directory.
#![allow(dead_code)]

use super::tls_certs::make_certs;
pub use super::tls_certs::TlsCerts;
use super::{docker, run_id, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct ExtraDockerd {
    /// A short tag (a-z0-9, at most 6): names its bridge and directory.
    pub tag: String,
    pub dir: PathBuf,
    pub socket: PathBuf,
    /// 127.0.0.1:port with TLS, when asked for.
    pub tls: Option<(u16, TlsCerts)>,
    pid: Option<u32>,
    net: u8,
    stopped: bool,
    bridge: String,
    /// Bridges in its pool's range before it started (never its own).
    before: Vec<String>,
    subnet: String,
    tls_port: Option<u16>,
}

/// Whether this process may start engines: root. Outside CI a non-root run
/// skips loudly; in CI it fails.
pub fn can_start_engines(test: &str) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if root {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    if ci || std::env::var("BERTH_REQUIRE_ENGINE").is_ok() {
        panic!("{test}: starting extra engines needs root; run `sudo scripts/test.sh`");
    }
    eprintln!("\n!!!!!!!! SKIPPED {test}: starting extra engines needs root. These tests did NOT run. !!!!!!!!\n");
    false
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

pub(super) fn must(cmd: &mut Command) -> Output {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

impl ExtraDockerd {
    /// Starts an engine tagged `tag` on subnet `10.<net>.0.0/24`, its networks in
    /// `10.<net>.64.0/18` (each test binary picks its own `net`, 200-250), with TLS on 127.0.0.1:`tls_port` when given.
    /// `None` when engines cannot be started here (see [`can_start_engines`]).
    pub fn start(tag: &str, net: u8, tls_port: Option<u16>) -> Option<Self> {
        assert!(
            !tag.is_empty() && tag.len() <= 6 && tag.bytes().all(|b| b.is_ascii_alphanumeric()),
            "tag {tag:?}: 1-6 of a-z0-9"
        );
        if !can_start_engines(tag) {
            return None;
        }
        // Short: the sockets under it must fit a unix socket path.
        let dir = PathBuf::from(format!("/tmp/bd-{}-{tag}", run_id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut d = Self {
            tag: tag.to_string(),
            socket: dir.join("docker.sock"),
            dir,
            tls: None,
            pid: None,
            net,
            stopped: false,
            bridge: format!("br-bt-{tag}"),
            before: pool_bridges(net),
            subnet: format!("10.{net}.0.1/24"),
            tls_port,
        };
        if let Some(port) = tls_port {
            d.tls = Some((port, make_certs(&d.dir.join("tls"))));
        }
        d.make_bridge();
        d.launch();
        Some(d)
    }

    fn make_bridge(&self) {
        let _ = run(Command::new("ip").args(["link", "del", &self.bridge]));
        must(Command::new("ip").args(["link", "add", &self.bridge, "type", "bridge"]));
        must(Command::new("ip").args(["addr", "add", &self.subnet, "dev", &self.bridge]));
        must(Command::new("ip").args(["link", "set", &self.bridge, "up"]));
    }

    fn launch(&mut self) {
        let pools = format!(
            "{{\"default-address-pools\": [{{\"base\": \"10.{}.64.0/18\", \"size\": 24}}]}}\n",
            self.net
        );
        std::fs::write(self.dir.join("daemon.json"), pools).unwrap();
        let ns = format!("berth-{}-{}", run_id(), self.tag);
        let mut c = Command::new("dockerd");
        c.arg("--config-file")
            .arg(self.dir.join("daemon.json"))
            .arg("--data-root")
            .arg(self.dir.join("data"))
            .arg("--exec-root")
            .arg(self.dir.join("x"))
            .arg("--pidfile")
            .arg(self.dir.join("docker.pid"))
            .arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .args(["--bridge", &self.bridge])
            .args(["--iptables=false", "--ip-masq=false", "--ip-forward=false"])
            .args(["--containerd-namespace", &ns])
            .args(["--containerd-plugins-namespace", &format!("{ns}-p")])
            .args(["--shutdown-timeout", "3", "--log-level", "warn"]);
        if let Some((port, certs)) = &self.tls {
            c.arg("-H")
                .arg(format!("tcp://127.0.0.1:{port}"))
                .arg("--tlsverify")
                .arg("--tlscacert")
                .arg(&certs.ca)
                .arg("--tlscert")
                .arg(certs.dir.join("server-cert.pem"))
                .arg("--tlskey")
                .arg(certs.dir.join("server-key.pem"));
        }
        let log = std::fs::File::create(self.dir.join("dockerd.log")).unwrap();
        c.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = c.spawn().expect("start dockerd");
        self.pid = Some(child.id());
        // The child is reaped by whoever waits on it; this harness stops it by PID.
        std::mem::forget(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if self
                .docker(&["version", "--format", "{{.Server.Version}}"])
                .status
                .success()
            {
                return;
            }
            if !self.alive() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let log = std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        panic!("extra dockerd {} did not come up:\n{log}", self.tag);
    }

    /// `unix://...`: its socket (what a berth `[engines.NAME] host` names).
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// `tcp://127.0.0.1:PORT` when it listens with TLS.
    pub fn tcp_host(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|(p, _)| format!("tcp://127.0.0.1:{p}"))
    }

    /// `[engines.NAME]` for berth's config: over TLS when it has it, else its socket.
    pub fn config(&self, name: &str) -> String {
        match &self.tls {
            Some((port, c)) => format!(
                "[engines.{name}]\nhost = \"tcp://127.0.0.1:{port}\"\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n",
                c.ca.display(),
                c.cert.display(),
                c.key.display()
            ),
            None => format!("[engines.{name}]\nhost = \"{}\"\n", self.host()),
        }
    }

    /// The docker CLI against this engine (through its socket).
    pub fn docker(&self, args: &[&str]) -> Output {
        run(Command::new("docker").arg("-H").arg(self.host()).args(args))
    }

    pub fn alive(&self) -> bool {
        self.pid
            .is_some_and(|p| Path::new(&format!("/proc/{p}")).exists() && !zombie(p))
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Copies `images` from the default engine (saved once per run into a shared
    /// cache by image id, then loaded).
    pub fn load_images(&self, images: &[&str]) {
        for image in images {
            let tar = saved(image);
            let o = run(Command::new("docker")
                .arg("-H")
                .arg(self.host())
                .args(["load", "-q", "-i"])
                .arg(&tar));
            assert!(
                o.status.success(),
                "loading {image} into {}: {}",
                self.tag,
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }

    /// Kills the dockerd by PID at once (SIGKILL): the engine is gone, as after a
    /// crash. Its containers' processes stay until drop, which ends them by PID.
    pub fn kill(&mut self) {
        if let Some(p) = self.pid {
            let _ = run(Command::new("kill").args(["-KILL", &p.to_string()]));
            let started = Instant::now();
            while self.alive() && started.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Processes this engine started that outlive it: its containerd and shims
    /// (their command lines name its directory) and docker-proxies for its subnet.
    fn kill_leftovers(&self) {
        for pid in container_processes(&self.container_ids()) {
            let _ = run(Command::new("kill").args(["-KILL", &pid.to_string()]));
        }
        let dir = self.dir.display().to_string();
        // Its containers' addresses: 10.NET.0.x on its bridge, 10.NET.64+.x on its networks.
        let net = format!("10.{}", self.net);
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return;
        };
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let cmd = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            let ours = cmd.contains(&dir)
                || (cmd.starts_with("/usr/sbin/docker-proxy")
                    && cmd.contains(&format!("-container-ip {net}.")));
            if ours && pid != std::process::id() {
                let _ = run(Command::new("kill").args(["-KILL", &pid.to_string()]));
            }
        }
    }

    /// Ids of the containers this engine made (its data-root keeps one directory
    /// each), whether or not it still runs.
    fn container_ids(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.join("data/containers"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The bridges this engine made for its networks: bridges holding an address
    /// of its pool (10.NET.64.0/18) that were not there when it started.
    fn own_links(&self) -> Vec<String> {
        let mut links: Vec<String> = pool_bridges(self.net)
            .into_iter()
            .filter(|b| !self.before.contains(b))
            .collect();
        if link_exists(&self.bridge) {
            links.push(self.bridge.clone());
        }
        links
    }

    /// Stops it and everything it made (as drop does), then says what is still
    /// there: its dockerd, its containers' processes, links in its range. Empty
    /// when it left nothing.
    pub fn shut_down(mut self) -> Vec<String> {
        let ids = self.container_ids();
        self.stop();
        let mut left: Vec<String> = container_processes(&ids)
            .into_iter()
            .map(|p| format!("process {p} of one of its containers"))
            .collect();
        left.extend(self.own_links().into_iter().map(|l| format!("link {l}")));
        if self.alive() {
            left.push(format!("dockerd {:?}", self.pid));
        }
        left
    }

    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        let ids = self.container_ids();
        if self.alive() {
            // Its own engine: everything on it goes, its networks too (a dockerd
            // that stops keeps their bridges on the host).
            let running = stdout(&self.docker(&["ps", "-aq"]));
            let running: Vec<&str> = running.split_whitespace().collect();
            if !running.is_empty() {
                let mut a = vec!["rm", "-f", "-v"];
                a.extend(running);
                let _ = self.docker(&a);
            }
            let _ = self.docker(&["network", "prune", "-f"]);
            if let Some(p) = self.pid {
                let _ = run(Command::new("kill").args(["-TERM", &p.to_string()]));
            }
            let started = Instant::now();
            while self.alive() && started.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(200));
            }
            self.kill();
        }
        self.kill_leftovers();
        // Its containers' processes, killed above, may take a moment to go.
        let started = Instant::now();
        while !container_processes(&ids).is_empty() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
        }
        unmount_under(&self.dir);
        let _ = run(Command::new("ip").args(["link", "del", &self.bridge]));
        for link in self.own_links() {
            let _ = run(Command::new("ip").args(["link", "del", &link]));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        self.stopped = true;
    }
}

impl Drop for ExtraDockerd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Unmounts what is mounted under `dir` (deepest first), so it can be removed.
pub fn unmount_under(dir: &Path) {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let dir = dir.display().to_string();
    let mut under: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|m| m.starts_with(&dir))
        .collect();
    under.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in under {
        let _ = run(Command::new("umount").args(["-l", m]));
    }
}

/// Bridges (`ip -o link show type bridge`) holding an IPv4 address in
/// 10.`net`.64.0/18, the pool of the engine on `net`.
fn pool_bridges(net: u8) -> Vec<String> {
    let o = run(Command::new("ip").args(["-o", "link", "show", "type", "bridge"]));
    let bridges: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1).map(|n| n.trim().to_string()))
        .collect();
    let o = run(Command::new("ip").args(["-o", "-4", "addr", "show"]));
    let mut links: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let addr = f.get(3).filter(|_| f.get(2) == Some(&"inet"))?;
            let mut o = addr.split(['.', '/']).map(|p| p.parse::<u16>().ok());
            let (a, b, c) = (o.next()??, o.next()??, o.next()??);
            (a == 10 && b == u16::from(net) && (64..128).contains(&c)).then(|| f[1].to_string())
        })
        .filter(|l| bridges.contains(l))
        .collect();
    links.sort();
    links.dedup();
    links
}

/// Whether the link `name` exists.
fn link_exists(name: &str) -> bool {
    run(Command::new("ip").args(["link", "show", name]))
        .status
        .success()
}

/// Live processes in the cgroup of one of the containers `ids` (a line of
/// /proc/PID/cgroup names the container's id under cgroup v1 and v2, with the
/// cgroupfs and the systemd driver alike).
fn container_processes(ids: &[String]) -> Vec<u32> {
    if ids.is_empty() {
        return Vec::new();
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| !zombie(*pid))
        .filter(|pid| {
            let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
            ids.iter().any(|id| cg.contains(id.as_str()))
        })
        .collect()
}

fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// `image` saved from the default engine into a cache kept between runs
/// (`~/.cache/berth-test/images`, one file per image id; files of ids no longer
/// on the engine are removed when a new one is saved), written aside and renamed
/// into place so test binaries running at once share it.
pub fn saved(image: &str) -> PathBuf {
    let id = stdout(&docker(&["image", "inspect", "-f", "{{.Id}}", image]));
    let id = id.trim().trim_start_matches("sha256:");
    assert!(!id.is_empty(), "{image} is not on the default engine");
    let id = &id[..16.min(id.len())];
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let cache = PathBuf::from(home).join(".cache/berth-test/images");
    std::fs::create_dir_all(&cache).unwrap();
    let tar = cache.join(format!("{id}.tar"));
    if !tar.exists() {
        let present = stdout(&docker(&["images", "-q", "--no-trunc"]));
        for old in std::fs::read_dir(&cache).unwrap().flatten() {
            let n = old.file_name().to_string_lossy().to_string();
            let old_id = n.split('.').next().unwrap_or("");
            if !present.contains(old_id) {
                let _ = std::fs::remove_file(old.path());
            }
        }
        let tmp = cache.join(format!("{id}.{}.part", std::process::id()));
        let st = Command::new("docker")
            .args(["save", "-o"])
            .arg(&tmp)
            .arg(image)
            .status()
            .expect("docker save");
        assert!(st.success(), "docker save {image}");
        std::fs::rename(&tmp, &tar).unwrap();
    }
    tar
}
