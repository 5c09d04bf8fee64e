//! A rootful podman API service started by a test itself
//! (`podman system service --time=0 unix://DIR/podman.sock`), kept off the
//! machine's podman: its own `--root`, `--runroot`, `--tmpdir`, network config
//! directory, a containers.conf of its own (CONTAINERS_CONF) with its own default
//! network on its own bridge and subnet, CNI's IP allocations under its
//! directory, and events in a file there. berth's workspace image is copied in
//! from the default engine (`docker save | podman load`). Dropping it removes
//! every container on it, stops the service by PID (and the conmon processes
//! it started), removes its bridge, unmounts and removes its directory.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Podman {
    pub dir: PathBuf,
    pub socket: PathBuf,
    pid: Option<u32>,
    bridge: String,
}

/// This machine's soft limit of `what` (`-n` open files, `-u` processes).
fn ulimit(what: &str) -> u64 {
    let o = Command::new("sh")
        .args(["-c", &format!("ulimit -H {what}")])
        .output()
        .expect("sh");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(4096)
}

impl Podman {
    /// Starts the service on subnet `10.<net>.0.0/24`; `None` when this process
    /// may not start engines (see `dockerd::can_start_engines`).
    pub fn start(tag: &str, net: u8) -> Option<Self> {
        if !super::dockerd::can_start_engines(tag) {
            return None;
        }
        assert!(
            Command::new("podman").arg("--version").output().is_ok(),
            "podman is not installed: run `sudo scripts/setup.sh test`"
        );
        let dir = std::env::temp_dir().join(format!("berth-podman-{tag}-{}", super::run_id()));
        let _ = std::fs::remove_dir_all(&dir);
        for d in ["root", "runroot", "tmp", "net", "ipam"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let bridge = format!("bpod{net}");
        let network = format!("berthpod{net}");
        let subnet = format!("10.{net}.0.0/24");
        let gateway = format!("10.{net}.0.1");
        // Podman sets every container's nofile and nproc limits to its own maximum
        // unless told; a machine without CAP_SYS_RESOURCE cannot raise them.
        let nofile = ulimit("-n");
        let nproc = ulimit("-u") / 2;
        let conf = format!(
            "[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"]\n\
             [network]\nnetwork_backend = \"cni\"\nnetwork_config_dir = \"{net_dir}\"\n\
             default_network = \"{network}\"\ndefault_subnet = \"{subnet}\"\n\
             [engine]\nevents_logger = \"file\"\ntmp_dir = \"{tmp}\"\nruntime = \"runc\"\n",
            net_dir = dir.join("net").display(),
            tmp = dir.join("tmp").display(),
        );
        std::fs::write(dir.join("containers.conf"), conf).unwrap();
        let conflist = serde_json::json!({
            "cniVersion": "0.4.0",
            "name": network,
            "plugins": [
                {"type": "bridge", "bridge": bridge, "isGateway": true, "ipMasq": true,
                 "hairpinMode": true,
                 "ipam": {"type": "host-local", "dataDir": dir.join("ipam"),
                          "routes": [{"dst": "0.0.0.0/0"}],
                          "ranges": [[{"subnet": subnet, "gateway": gateway}]]}},
                {"type": "portmap", "capabilities": {"portMappings": true}},
                {"type": "firewall"},
                {"type": "tuning"}
            ]
        });
        std::fs::write(
            dir.join("net").join(format!("{network}.conflist")),
            conflist.to_string(),
        )
        .unwrap();
        let socket = dir.join("podman.sock");
        let log = std::fs::File::create(dir.join("service.log")).unwrap();
        let child = Command::new("podman")
            .args(Self::global(&dir))
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .env("CONTAINERS_CONF", dir.join("containers.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("podman system service");
        let p = Podman {
            dir,
            socket,
            pid: Some(child.id()),
            bridge,
        };
        // Reaped by nobody else: a thread waits for it so it never lingers as a zombie.
        std::thread::spawn(move || {
            let mut child = child;
            let _ = child.wait();
        });
        let started = Instant::now();
        while !p.socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(60) && p.alive(),
                "podman service did not start: {}",
                std::fs::read_to_string(p.dir.join("service.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let tar = super::dockerd::saved("berth/workspace:latest");
        let o = p.podman(&["load", "-q", "-i", &tar.display().to_string()]);
        assert!(o.status.success(), "podman load: {}", super::stderr(&o));
        // `podman load` names it localhost/berth/workspace; berth asks for the
        // short name, which podman resolves to that.
        Some(p)
    }

    fn global(dir: &std::path::Path) -> Vec<String> {
        let d = |s: &str| dir.join(s).display().to_string();
        vec![
            "--root".into(),
            d("root"),
            "--runroot".into(),
            d("runroot"),
            "--tmpdir".into(),
            d("tmp"),
            "--network-config-dir".into(),
            d("net"),
            "--cgroup-manager".into(),
            "cgroupfs".into(),
        ]
    }

    /// The podman CLI on this instance's storage.
    pub fn podman(&self, args: &[&str]) -> Output {
        Command::new("timeout")
            .arg("120")
            .arg("podman")
            .args(Self::global(&self.dir))
            .args(args)
            .env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .output()
            .expect("podman")
    }

    /// `unix://DIR/podman.sock`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// `[engines.NAME]` for berth's config (with `extra` lines such as `init = false`).
    pub fn config(&self, name: &str, extra: &str) -> String {
        format!("\n[engines.{name}]\nhost = \"{}\"\n{extra}\n", self.host())
    }

    pub fn alive(&self) -> bool {
        self.pid
            .is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
    }

    /// Processes it started that outlive it (conmon, container processes under
    /// it): their command lines name its directory.
    fn kill_leftovers(&self) {
        let dir = self.dir.display().to_string();
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return;
        };
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let cmd = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(&dir) && pid != std::process::id() {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .output();
            }
        }
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // Its own storage: everything on it goes (pods, containers, volumes).
        let _ = self.podman(&["rm", "-af", "-t", "0"]);
        let _ = self.podman(&["volume", "rm", "-af"]);
        if let Some(p) = self.pid {
            let _ = Command::new("kill")
                .args(["-TERM", &p.to_string()])
                .output();
            let started = Instant::now();
            while self.alive() && started.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_millis(100));
            }
            if self.alive() {
                let _ = Command::new("kill")
                    .args(["-KILL", &p.to_string()])
                    .output();
            }
        }
        self.kill_leftovers();
        super::dockerd::unmount_under(&self.dir);
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
