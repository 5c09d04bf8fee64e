//! VM workspaces in tests (the `vm` provider, QEMU with TCG here): the asset
//! cache shared by every sandbox of the machine, the QEMU processes under a
//! sandbox's state directory, and their last-resort cleanup.
//!
//! The kernel, initramfs and base disks are made once per machine: every sandbox
//! points `XDG_CACHE_HOME` at `$HOME/.cache/berth-test/vm-cache` (the runner's
//! own HOME), so berth's cache is `<that>/berth/vm`. The machines themselves
//! (overlays, home disks, sockets, pid files) live under the sandbox's state
//! directory and go with it.
#![allow(dead_code)]
use super::{stdout, Sandbox};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The runner's `XDG_CACHE_HOME` for berth (see the module's doc).
pub fn cache_home() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache/berth-test/vm-cache")
}

/// VM tests of one binary take turns: each VM is an emulated CPU (TCG) on a
/// small machine, and the first create makes the shared assets.
pub fn turn() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `<state>/vm` of a sandbox.
pub fn vm_root(sb: &Sandbox) -> PathBuf {
    sb.state_dir().join("vm")
}

/// The machine directories (`<state>/vm/machines/<id>`).
pub fn machine_dirs(sb: &Sandbox) -> Vec<PathBuf> {
    entries(&vm_root(sb).join("machines"))
}

/// The home disks' directories (`<state>/vm/homes/<volume>`).
pub fn home_dirs(sb: &Sandbox) -> Vec<PathBuf> {
    entries(&vm_root(sb).join("homes"))
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    v
}

/// The machine directory of workspace `name` (its `record.json` names
/// `workspace-NAME`).
pub fn machine_dir(sb: &Sandbox, name: &str) -> Option<PathBuf> {
    let want = format!("workspace-{name}");
    machine_dirs(sb)
        .into_iter()
        .find(|d| record(d).is_some_and(|r| r["container"] == want.as_str()))
}

/// A machine directory's `record.json`.
pub fn record(dir: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("record.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The pid of a live QEMU process of this sandbox in `dir` (its pid file, and a
/// process whose command line names that directory: a pid reused by another
/// process is never taken for it).
pub fn live_pid(dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(dir.join("qemu.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    let is_zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('Z'))
    });
    (cmdline.contains("qemu") && cmdline.contains(&*dir.to_string_lossy()) && !is_zombie)
        .then_some(pid)
}

/// Every live QEMU process of this sandbox.
pub fn live_pids(sb: &Sandbox) -> Vec<u32> {
    machine_dirs(sb)
        .iter()
        .filter_map(|d| live_pid(d))
        .collect()
}

/// Waits (up to `secs`) until `pid` is gone.
pub fn wait_gone(pid: u32, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        });
        if !alive {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

pub fn kill(pid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status();
}

/// Cleanup of a sandbox's VMs (from its `Drop`): each VM deleted through berth
/// (what a user does), then any QEMU process still alive killed by its pid, so
/// none outlives the test. Its disks go with the sandbox's directory.
pub fn cleanup(sb: &Sandbox) {
    let dirs = machine_dirs(sb);
    if dirs.is_empty() {
        return;
    }
    for d in &dirs {
        if let Some(name) = record(d)
            .and_then(|r| r["container"].as_str().map(String::from))
            .and_then(|c| c.strip_prefix("workspace-").map(String::from))
        {
            let o = sb.berth(&["delete", &name, "--yes"]);
            if !o.status.success() {
                eprintln!(
                    "cleanup: berth delete {name} failed: {}{}",
                    stdout(&o),
                    super::stderr(&o)
                );
            }
        }
    }
    for d in &dirs {
        if let Some(pid) = live_pid(d) {
            eprintln!(
                "cleanup: qemu {pid} in {} outlived delete; killing it",
                d.display()
            );
            kill(pid, "KILL");
            wait_gone(pid, 10);
        }
    }
}

/// Whether this host can give VMs `kvm` (a hardware KVM module and a writable
/// /dev/kvm); `false` here (kvm_pvm), where every VM is `tcg`.
pub fn host_has_kvm() -> bool {
    let hw =
        Path::new("/sys/module/kvm_intel").exists() || Path::new("/sys/module/kvm_amd").exists();
    hw && std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

/// `list --json`'s entry for workspace `name`.
pub fn listed(sb: &Sandbox, name: &str) -> Option<serde_json::Value> {
    let v = sb.json(&["list", "--json"]);
    v.as_array()?.iter().find(|w| w["name"] == name).cloned()
}

/// Waits (up to `secs`) until `list --json` shows `name` in state `state`.
pub fn wait_state(sb: &Sandbox, name: &str, state: &str, secs: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let w = listed(sb, name);
        if w.as_ref().is_some_and(|w| w["state"] == state) {
            return w.unwrap_or_default();
        }
        if Instant::now() > deadline {
            panic!("{name} not {state} after {secs}s: {w:?}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
