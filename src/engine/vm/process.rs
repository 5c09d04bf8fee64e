//! A VM's QEMU process: started daemonized, found again by its pid file and
//! `/proc/<pid>/cmdline` naming it (`-name berth-vm-<id>`), stopped cleanly
//! over the control port (bounded by the timeout), then with QMP `quit`, then
//! SIGKILL; sampled from `/proc/<pid>/stat` and `status`.
use super::qemu_args::{classify_start_error, process_name, qemu_args, MachineFiles, StartFailure};
use super::record::remove_if_exists;
use super::tools::{self, blocking};
use super::{VmRecord, VmRun, VmSample};
use crate::engine::{EngineError, EngineResult};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// The QEMU program.
pub const QEMU: &str = "qemu-system-x86_64";
/// How long QMP `quit` may take before SIGKILL.
const QUIT_WAIT: Duration = Duration::from_secs(3);
const POLL: Duration = Duration::from_millis(100);

/// The host's TSC rate in kHz from `/proc/cpuinfo`'s first `cpu MHz`.
pub fn tsc_khz(cpuinfo: &str) -> Option<u64> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "cpu MHz")
            .then(|| v.trim().parse::<f64>().ok())
            .flatten()
            .filter(|m| *m > 0.0)
            .map(|m| (m * 1000.0) as u64)
    })
}

/// Whether a NUL-separated command line has `name` as an argument.
pub fn cmdline_names(cmdline: &[u8], name: &str) -> bool {
    cmdline.split(|b| *b == 0).any(|a| a == name.as_bytes())
}

/// utime + stime from `/proc/<pid>/stat` (fields 14 and 15, after the `(comm)`).
pub fn stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 -> index 11
    let u: u64 = f.get(11)?.parse().ok()?;
    let s: u64 = f.get(12)?.parse().ok()?;
    Some(u + s)
}

/// `VmRSS` from `/proc/<pid>/status`, in bytes.
pub fn status_rss(status: &str) -> Option<u64> {
    let l = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = l.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The pid in the pid file when that process is this VM's QEMU.
pub fn live_pid(files: &MachineFiles, id: &str) -> Option<u32> {
    let pid: u32 = fs::read_to_string(files.pidfile())
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    cmdline_names(&cmdline, &process_name(id)).then_some(pid)
}

pub fn run_state(files: &MachineFiles, id: &str) -> VmRun {
    match live_pid(files, id) {
        None => VmRun::Stopped,
        Some(pid) => {
            let started_at = fs::metadata(files.pidfile())
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs() as i64);
            VmRun::Running { pid, started_at }
        }
    }
}

pub fn sample(files: &MachineFiles, id: &str) -> Option<VmSample> {
    let pid = live_pid(files, id)?;
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(VmSample {
        cpu_ticks: stat_ticks(&stat)?,
        rss_bytes: status_rss(&status)?,
    })
}

async fn live(files: &MachineFiles, id: &str) -> EngineResult<Option<u32>> {
    let (f, i) = (files.clone(), id.to_string());
    blocking("reading the VM's process", move || Ok(live_pid(&f, &i))).await
}

/// Boots `rec` (a no-op when it runs).
pub async fn start(rec: &VmRecord, files: &MachineFiles) -> EngineResult<()> {
    if live(files, &rec.id).await?.is_some() {
        return Ok(());
    }
    let f = files.clone();
    let tsc = blocking("preparing the VM's start", move || {
        for p in [f.qmp(), f.ctl(), f.pidfile()] {
            remove_if_exists(&p)?;
        }
        for p in [&f.kernel, &f.initrd, &f.home_disk] {
            if !p.exists() {
                return Err(std::io::Error::other(format!(
                    "{} is missing; remove this workspace and create it again",
                    p.display()
                )));
            }
        }
        Ok(fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| tsc_khz(&c)))
    })
    .await?;
    let args = qemu_args(rec, files, tsc).map_err(EngineError::Api)?;
    let out = tools::command(QEMU)
        .args(&args)
        .current_dir(&files.dir)
        .output()
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => tools::missing(QEMU),
            _ => EngineError::Api(format!("cannot run {QEMU}: {e}")),
        })?;
    if out.status.success() {
        // QEMU has daemonized: say what its monitor reports (a log line, not a gate)
        match tokio::time::timeout(QUIT_WAIT, super::qmp::status(&files.qmp())).await {
            Ok(Ok(s)) => tracing::info!("VM {} started: {s}", rec.id),
            Ok(Err(e)) => tracing::warn!("VM {} started, QMP: {e}", rec.id),
            Err(_) => tracing::warn!("VM {} started, QMP did not answer", rec.id),
        }
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(match classify_start_error(&stderr) {
        StartFailure::PortTaken(rule) => EngineError::PortTaken(format!(
            "QEMU cannot forward {rule}: the host port is in use; pick another port"
        )),
        StartFailure::NoKvm(t) => EngineError::Api(format!(
            "QEMU cannot use KVM here ({t}); create the workspace with --accel tcg"
        )),
        StartFailure::Other(t) => EngineError::Api(format!("QEMU did not start the VM: {t}")),
    })
}

/// Waits until `rec`'s process is gone, up to `limit`; whether it is.
async fn wait_gone(files: &MachineFiles, id: &str, limit: Duration) -> EngineResult<bool> {
    let until = Instant::now() + limit;
    loop {
        if live(files, id).await?.is_none() {
            return Ok(true);
        }
        if Instant::now() >= until {
            return Ok(false);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Asks the guest to power off (a `poweroff` line on the control port).
async fn ask_poweroff(ctl: &Path) -> std::io::Result<()> {
    let mut s = tokio::net::UnixStream::connect(ctl).await?;
    s.write_all(b"poweroff\n").await?;
    s.flush().await?;
    // keep the connection while the guest reads it; closing is fine after
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

/// Clean power-off bounded by `timeout`, then QMP `quit`, then SIGKILL.
pub async fn stop(files: &MachineFiles, id: &str, timeout: Duration) -> EngineResult<()> {
    let Some(pid) = live(files, id).await? else {
        return Ok(());
    };
    if !timeout.is_zero() {
        match tokio::time::timeout(timeout, ask_poweroff(&files.ctl())).await {
            Ok(Ok(())) => {
                if wait_gone(files, id, timeout).await? {
                    return Ok(());
                }
                tracing::warn!("VM {id} did not power off within {timeout:?}; quitting QEMU");
            }
            Ok(Err(e)) => tracing::warn!("VM {id}: control port: {e}; quitting QEMU"),
            Err(_) => tracing::warn!("VM {id}: control port did not answer; quitting QEMU"),
        }
    }
    match tokio::time::timeout(QUIT_WAIT, super::qmp::execute(&files.qmp(), "quit")).await {
        Ok(Ok(_)) => {
            if wait_gone(files, id, QUIT_WAIT).await? {
                return Ok(());
            }
        }
        Ok(Err(e)) => tracing::warn!("VM {id}: QMP quit: {e}"),
        Err(_) => tracing::warn!("VM {id}: QMP did not answer"),
    }
    // still the same process (pid reuse is checked by live())
    if live(files, id).await? == Some(pid) {
        let _ = tools::run("kill", ["-KILL", &pid.to_string()], "killing the VM").await;
    }
    if wait_gone(files, id, QUIT_WAIT).await? {
        Ok(())
    } else {
        Err(EngineError::Api(format!(
            "the VM's QEMU (pid {pid}) does not stop; kill it (`kill -9 {pid}`)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read() {
        assert_eq!(
            tsc_khz("processor\t: 0\ncpu MHz\t\t: 2100.000\n"),
            Some(2_100_000)
        );
        assert_eq!(tsc_khz("processor: 0\n"), None);
        assert!(cmdline_names(
            b"qemu\0-name\0berth-vm-ab\0-m\0",
            "berth-vm-ab"
        ));
        assert!(!cmdline_names(
            b"qemu\0-name\0berth-vm-abc\0",
            "berth-vm-ab"
        ));
        assert!(!cmdline_names(b"", "berth-vm-ab"));
        let stat = "42 (qemu sys) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 3 0 100 1000 50";
        assert_eq!(stat_ticks(stat), Some(280));
        assert_eq!(
            status_rss("Name:\tq\nVmRSS:\t  266240 kB\n"),
            Some(266240 * 1024)
        );
        assert_eq!(status_rss("Name:\tq\n"), None);
    }
}
