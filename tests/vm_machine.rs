//! The VM machines for real: `VmHost` with the real Docker engine and real QEMU
//! (TCG here), `berth/workspace:latest`: create, boot, ssh in with a pinned host
//! key, stop cleanly and boot again, survive a `kill -9`, sample, remove.
//! Ports 4200-4219. Every QEMU the test starts is killed by its pid at the end,
//! and its directories removed, pass or fail. The assets (kernel, initramfs,
//! base disk) are cached in `$HOME/.cache/berth-test/vm`, made once per machine.
mod common;

use berth::domain::create_options::PortMap;
use berth::domain::vm::{Accel, VmNet, VmShape};
use berth::engine::docker::DockerEngine;
use berth::engine::vm::host::VmHost;
use berth::engine::vm::{VmCreate, VmRun};
use berth::engine::EngineError;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SSH_PORT: u16 = 4200;
const TAKEN_PORT: u16 = 4201;
const IMAGE: &str = "berth/workspace:latest";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// qemu, or why not: fails under CI, skips loudly elsewhere.
fn qemu_or_skip() -> bool {
    let ok = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if ci() {
            panic!("vm_machine: qemu-system-x86_64 is missing and CI=true; scripts/setup.sh must install qemu-system-x86");
        }
        eprintln!("\n!!!!!!!! SKIPPED vm_machine: qemu-system-x86_64 is not installed !!!!!!!!\n");
    }
    ok
}

/// Kills every QEMU the test saw (by pid, only while its command line still
/// names the VM) and any other QEMU naming one of its machines (one a failed
/// start left), and removes the VMs' directory, pass or fail.
struct Cleanup {
    dir: tempfile::TempDir,
    pids: Arc<Mutex<Vec<(u32, String)>>>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let pids = self.pids.lock().map(|p| p.clone()).unwrap_or_default();
        for (pid, name) in pids {
            let named = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|b| *b == 0).any(|a| a == name.as_bytes()))
                .unwrap_or(false);
            if named {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        let machines = std::fs::read_dir(self.dir.path().join("vm/machines"));
        for m in machines.into_iter().flatten().flatten() {
            let name = format!("berth-vm-{}", m.file_name().to_string_lossy());
            for pid in qemus_named(&name) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        let _ = std::fs::remove_dir_all(self.dir.path());
    }
}

fn track(
    vms: &VmHost,
    container: &str,
    pids: &Arc<Mutex<Vec<(u32, String)>>>,
    rt: &tokio::runtime::Handle,
) -> u32 {
    let rec = rt.block_on(vms.find(container)).unwrap().unwrap();
    match vms.run_state(&rec) {
        VmRun::Running { pid, .. } => {
            pids.lock()
                .unwrap()
                .push((pid, format!("berth-vm-{}", rec.id)));
            pid
        }
        VmRun::Stopped => panic!("{container} is not running after start"),
    }
}

/// Pids of the processes whose command line has `name` as one argument.
fn qemus_named(name: &str) -> Vec<u32> {
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|b| *b == 0).any(|a| a == name.as_bytes()))
                .unwrap_or(false)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Waits for an SSH banner on the port (a bound on the wait, not a timed assertion).
fn wait_sshd(port: u16) -> Duration {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(300) {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut b = [0u8; 4];
            if s.read_exact(&mut b).is_ok() && &b == b"SSH-" {
                return t0.elapsed();
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("no sshd banner on 127.0.0.1:{port} within 300 s");
}

fn ssh(key: &Path, known_hosts: &Path, port: u16, cmd: &str) -> String {
    let out = Command::new("ssh")
        .args(["-i"])
        .arg(key)
        .args(["-p", &port.to_string()])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=30",
            "workspace@127.0.0.1",
            cmd,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ssh {cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn request(name: &str, port: u16, key: &str) -> VmCreate {
    VmCreate {
        container: format!("workspace-{name}"),
        hostname: name.to_string(),
        volume: format!("workspace-{name}"),
        image: IMAGE.to_string(),
        labels: [("berth.test-run".to_string(), common::run_id().to_string())].into(),
        env: vec![],
        ssh_port: port,
        ports: vec![] as Vec<PortMap>,
        bind_address: "127.0.0.1".parse().unwrap(),
        shape: VmShape {
            accel: Accel::Tcg,
            mem_mib: 512,
            cpus: 1,
            disk_bytes: 512 << 20,
            net: VmNet::Offline,
        },
        authorized_key: key.to_string(),
        workdir: None,
    }
}

#[test]
fn a_vm_boots_keeps_its_home_and_goes_away() {
    if !common::engine_or_skip("vm_machine") || !qemu_or_skip() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.handle().clone();
    let cleanup = Cleanup {
        dir: tempfile::Builder::new()
            .prefix("bvm")
            .tempdir_in("/tmp")
            .unwrap(),
        pids: Arc::new(Mutex::new(Vec::new())),
    };
    let root = cleanup.dir.path().join("vm");
    let cache = PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/berth-test/vm");
    let vms = VmHost::new(root.clone(), cache.clone());
    let docker = h.block_on(DockerEngine::connect()).unwrap();

    let key = cleanup.dir.path().join("id_test");
    assert!(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "vm-test", "-f"])
        .arg(&key)
        .status()
        .unwrap()
        .success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let name = format!("vmt{}", common::run_id());
    let req = request(&name, SSH_PORT, public.trim());
    let container = req.container.clone();

    // create (the assets are made here the first time on a machine)
    let t0 = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(16);
    let printer = h.spawn(async move {
        while let Some(l) = rx.recv().await {
            eprintln!("[{:>6.1}s] {l}", t0.elapsed().as_secs_f64());
        }
    });
    let rec = h
        .block_on(vms.create(&docker, req.clone(), Some(tx)))
        .unwrap();
    h.block_on(printer).unwrap();
    eprintln!("measured: create {:.1}s", t0.elapsed().as_secs_f64());
    assert_eq!(vms.run_state(&rec), VmRun::Stopped);
    assert!(h.block_on(vms.home_exists(&rec.volume)).unwrap());
    assert_eq!(
        h.block_on(vms.homes_labelled(&[("berth.test-run", common::run_id())]))
            .unwrap(),
        vec![rec.volume.clone()]
    );
    // the name is taken now
    match h.block_on(vms.create(&docker, req.clone(), None)) {
        Err(EngineError::Conflict(m)) => assert!(m.contains(&container), "{m}"),
        other => panic!("a second create of {container}: {other:?}"),
    }

    // boot, ssh in with the pinned key, write in the home
    let target = vms.ssh_target(&rec);
    assert_eq!((target.host.as_str(), target.port), ("127.0.0.1", SSH_PORT));
    let t0 = Instant::now();
    h.block_on(vms.start(&container)).unwrap();
    track(&vms, &container, &cleanup.pids, &h);
    wait_sshd(SSH_PORT);
    eprintln!(
        "measured: start to sshd banner {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let out = ssh(
        &key,
        &target.known_hosts,
        SSH_PORT,
        "id -u; echo kept > ~/persist.txt; sudo -n true && echo sudo-ok; stat -f -c %T /run/berth; stat -c %u:%a /run/berth; hostname",
    );
    assert!(out.starts_with("1000\n"), "{out}");
    assert!(out.contains("sudo-ok"), "{out}");
    assert!(out.contains("tmpfs\n1000:700\n"), "{out}");
    assert!(out.contains(&name), "{out}");
    let s = vms.sample(&rec).expect("a sample of the running VM");
    assert!(s.rss_bytes > 0, "{s:?}");

    // a clean stop, then boot again: the file is there
    h.block_on(vms.stop(&container, Duration::from_secs(60)))
        .unwrap();
    assert_eq!(vms.run_state(&rec), VmRun::Stopped);
    let console = std::fs::read_to_string(vms.console_path(&rec)).unwrap();
    assert!(
        console.contains("berth-init: poweroff requested"),
        "{console}"
    );
    assert!(
        console.contains("berth-init: disks synced, powered off cleanly"),
        "{console}"
    );
    assert!(vms.sample(&rec).is_none());
    // two berths start it at once (another handle on the same state, as another
    // process has): both succeed, one QEMU boots
    let second = VmHost::new(root.clone(), cache);
    let t0 = Instant::now();
    let (a, b) =
        h.block_on(async { tokio::join!(vms.start(&container), second.start(&container)) });
    a.unwrap();
    b.unwrap();
    let pid = track(&vms, &container, &cleanup.pids, &h);
    assert_eq!(qemus_named(&format!("berth-vm-{}", rec.id)), vec![pid]);
    wait_sshd(SSH_PORT);
    eprintln!(
        "measured: restart to sshd banner {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(
        ssh(&key, &target.known_hosts, SSH_PORT, "cat ~/persist.txt"),
        "kept\n"
    );
    // starting a running VM is a no-op
    h.block_on(vms.start(&container)).unwrap();

    // kill -9: stopped, and it boots again with the file
    // the guest writes it out before the hard kill
    ssh(&key, &target.known_hosts, SSH_PORT, "sync");
    assert!(Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    let t = Instant::now();
    while vms.run_state(&rec) != VmRun::Stopped && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(vms.run_state(&rec), VmRun::Stopped);
    h.block_on(vms.start(&container)).unwrap();
    track(&vms, &container, &cleanup.pids, &h);
    wait_sshd(SSH_PORT);
    assert_eq!(
        ssh(&key, &target.known_hosts, SSH_PORT, "cat ~/persist.txt"),
        "kept\n"
    );
    let console = std::fs::read_to_string(vms.console_path(&rec)).unwrap();
    assert!(
        console
            .matches("berth-init: starting the workspace entrypoint")
            .count()
            >= 3,
        "{console}"
    );

    // a second VM whose port is taken: PortTaken from start
    let taken = std::net::TcpListener::bind(("127.0.0.1", TAKEN_PORT)).unwrap();
    let other = request(&format!("{name}b"), TAKEN_PORT, public.trim());
    h.block_on(vms.create(&docker, other.clone(), None))
        .unwrap();
    match h.block_on(vms.start(&other.container)) {
        Err(EngineError::PortTaken(m)) => assert!(m.contains(&TAKEN_PORT.to_string()), "{m}"),
        r => panic!("start on a taken port: {r:?}"),
    }
    drop(taken);
    h.block_on(vms.remove(&other.container)).unwrap();
    h.block_on(vms.remove_home(&other.volume)).unwrap();

    // a create that fails leaves nothing (here: an image the engine lacks)
    let mut bad = request(&format!("{name}c"), TAKEN_PORT + 1, public.trim());
    bad.image = "berth/no-such-image:none".into();
    match h.block_on(vms.create(&docker, bad.clone(), None)) {
        Err(e) if e.is_not_found() => assert!(e.to_string().contains("no-such-image"), "{e}"),
        r => panic!("create from a missing image: {r:?}"),
    }
    assert!(!h.block_on(vms.home_exists(&bad.volume)).unwrap());
    assert!(h.block_on(vms.find(&bad.container)).unwrap().is_none());

    let console = std::fs::read_to_string(vms.console_path(&rec)).unwrap();
    eprintln!("console (berth-init lines):");
    for l in console.lines().filter(|l| l.contains("berth-init:")) {
        eprintln!("  {l}");
    }

    // remove (running: stopped hard), then the home: nothing left
    match h.block_on(vms.remove_home(&rec.volume)) {
        Err(EngineError::Conflict(_)) => {}
        r => panic!("removing a home in use: {r:?}"),
    }
    h.block_on(vms.remove(&container)).unwrap();
    assert!(h.block_on(vms.find(&container)).unwrap().is_none());
    assert!(
        h.block_on(vms.home_exists(&rec.volume)).unwrap(),
        "remove keeps the home disk"
    );
    h.block_on(vms.remove_home(&rec.volume)).unwrap();
    assert!(!h.block_on(vms.home_exists(&rec.volume)).unwrap());
    assert!(h.block_on(vms.list()).unwrap().is_empty());
    let left: Vec<_> = ["machines", "homes", "names"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(root.join(d))
                .map(|r| {
                    r.filter_map(Result::ok)
                        .map(|e| e.path())
                        // The claims' lock file stays (it holds no VM).
                        .filter(|p| !p.ends_with("names/.lock"))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
