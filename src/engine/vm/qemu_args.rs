//! The QEMU command line of a VM (pure): from its record and where its files
//! are. kvm or tcg as the recipe measured (`-accel tcg` needs the TSC rate on
//! the kernel command line: the microvm machine has no other clock source
//! under TCG), user-mode networking forwarding the SSH port and `--port`s,
//! the console appended to a file (the log persists across boots), the QMP
//! and control sockets, a pid file, daemonized, named `berth-vm-<id>`.
use super::VmRecord;
use crate::domain::vm::{Accel, VmNet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The guest's sshd port (the image's `Port 2222`).
pub const GUEST_SSH_PORT: u16 = 2222;
/// The longest path a unix socket can have (`sun_path` holds 108 bytes with its NUL).
pub const MAX_SOCKET_PATH: usize = 107;
/// The virtio-serial port the guest's init listens on for `poweroff`.
pub const CONTROL_PORT_NAME: &str = "berth.ctl";

/// Where a VM's files are (the machine's directory, its home disk, the assets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineFiles {
    pub dir: PathBuf,
    pub home_disk: PathBuf,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

impl MachineFiles {
    pub fn overlay(&self) -> PathBuf {
        self.dir.join("root.qcow2")
    }
    pub fn console(&self) -> PathBuf {
        self.dir.join("console.log")
    }
    pub fn qmp(&self) -> PathBuf {
        self.dir.join("qmp.sock")
    }
    pub fn ctl(&self) -> PathBuf {
        self.dir.join("ctl.sock")
    }
    pub fn pidfile(&self) -> PathBuf {
        self.dir.join("qemu.pid")
    }
}

/// QEMU's `-name` for VM `id` (and how its process is recognised).
pub fn process_name(id: &str) -> String {
    format!("berth-vm-{id}")
}

/// A path as a QEMU option value. QEMU reads `,` as the next option, so a path
/// holding one is refused (a sentence saying what to move) rather than escaped
/// differently per option.
fn opt_path(p: &Path) -> Result<String, String> {
    let s = p
        .to_str()
        .ok_or_else(|| format!("{} is not UTF-8; berth's VM paths must be", p.display()))?;
    if s.contains(',') {
        return Err(format!(
            "{s} holds a comma, which QEMU cannot take in a path; set XDG_STATE_HOME / XDG_CACHE_HOME \
             to a directory without one"
        ));
    }
    Ok(s.to_string())
}

/// A unix socket's path, refused when longer than unix sockets allow.
fn socket_path(p: &Path) -> Result<String, String> {
    let s = opt_path(p)?;
    if s.len() > MAX_SOCKET_PATH {
        return Err(format!(
            "the VM's socket path {s} is {} bytes, longer than unix sockets allow ({MAX_SOCKET_PATH}); \
             set XDG_STATE_HOME to a shorter directory",
            s.len()
        ));
    }
    Ok(s)
}

/// Whether a machine directory can hold QEMU's sockets (checked at create,
/// before anything is made).
pub fn check_machine_dir(dir: &Path) -> Result<(), String> {
    socket_path(&dir.join("qmp.sock"))?;
    socket_path(&dir.join("ctl.sock")).map(drop)
}

fn hostfwd(bind: IpAddr, host: u16, guest: u16) -> String {
    match bind {
        IpAddr::V4(a) => format!("hostfwd=tcp:{a}:{host}-:{guest}"),
        IpAddr::V6(a) => format!("hostfwd=tcp:[{a}]:{host}-:{guest}"),
    }
}

/// berth's public key for the kernel command line: `TYPE,BASE64` (no comment;
/// a public key, fine to show). Refused when it is not one key line.
pub fn authkey_param(line: &str) -> Result<String, String> {
    let mut f = line.split_whitespace();
    let (Some(kind), Some(body)) = (f.next(), f.next()) else {
        return Err(format!("{line:?} is not an ssh public key line"));
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=-@.".contains(c))
    };
    if !ok(kind) || !ok(body) {
        return Err(format!("{line:?} is not an ssh public key line"));
    }
    Ok(format!("{kind},{body}"))
}

/// The guest kernel's command line (read by berth's init, `assets/vm/init.sh`).
pub fn kernel_cmdline(rec: &VmRecord, tsc_khz: Option<u64>) -> Result<String, String> {
    if rec.hostname.is_empty()
        || !rec
            .hostname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!(
            "hostname {:?} cannot be given to a VM; use letters, digits, '-' and '.'",
            rec.hostname
        ));
    }
    let mut parts = vec![
        "console=ttyS0".to_string(),
        "root=/dev/vda".into(),
        "rw".into(),
        "panic=-1".into(),
        "quiet".into(),
    ];
    if rec.shape.accel == Accel::Tcg {
        if let Some(khz) = tsc_khz {
            parts.push(format!("tsc_early_khz={khz}"));
        }
    }
    parts.push(format!("berth.hostname={}", rec.hostname));
    parts.push(format!(
        "berth.authkey={}",
        authkey_param(&rec.authorized_key)?
    ));
    Ok(parts.join(" "))
}

/// QEMU's arguments (after the program) for `rec` with files `f`. `tsc_khz`:
/// the host's TSC rate (tcg only).
pub fn qemu_args(
    rec: &VmRecord,
    f: &MachineFiles,
    tsc_khz: Option<u64>,
) -> Result<Vec<String>, String> {
    let (machine, accel, cpu) = match rec.shape.accel {
        Accel::Kvm => (
            "microvm,pit=off,pic=off,isa-serial=on,rtc=on",
            "kvm",
            "host",
        ),
        Accel::Tcg => ("microvm,isa-serial=on,rtc=on", "tcg,tb-size=64", "max"),
    };
    let mut net = String::from("user,id=n0");
    if rec.shape.net == VmNet::Offline {
        net.push_str(",restrict=on");
    }
    net.push(',');
    net.push_str(&hostfwd(rec.bind_address, rec.ssh_port, GUEST_SSH_PORT));
    for (host, guest) in &rec.ports {
        net.push(',');
        net.push_str(&hostfwd(rec.bind_address, *host, *guest));
    }
    let name = process_name(&rec.id);
    let s = |v: &str| v.to_string();
    let mut a: Vec<String> = vec![
        s("-name"),
        name,
        s("-M"),
        s(machine),
        s("-accel"),
        s(accel),
        s("-cpu"),
        s(cpu),
        s("-smp"),
        rec.shape.cpus.max(1).to_string(),
        s("-m"),
        rec.shape.mem_mib.to_string(),
        s("-global"),
        s("virtio-mmio.force-legacy=false"),
        s("-nodefaults"),
        s("-no-user-config"),
        s("-display"),
        s("none"),
        s("-no-reboot"),
        s("-kernel"),
        opt_path(&f.kernel)?,
        s("-initrd"),
        opt_path(&f.initrd)?,
        s("-append"),
        kernel_cmdline(rec, tsc_khz)?,
        s("-chardev"),
        format!("file,id=con,path={},append=on", opt_path(&f.console())?),
        s("-serial"),
        s("chardev:con"),
        s("-drive"),
        format!(
            "id=root,file={},format=qcow2,if=none,discard=unmap",
            opt_path(&f.overlay())?
        ),
        s("-device"),
        s("virtio-blk-device,drive=root"),
        s("-drive"),
        format!(
            "id=home,file={},format=raw,if=none,discard=unmap",
            opt_path(&f.home_disk)?
        ),
        s("-device"),
        s("virtio-blk-device,drive=home"),
        s("-netdev"),
        net,
        s("-device"),
        s("virtio-net-device,netdev=n0"),
        s("-device"),
        s("virtio-rng-device"),
        s("-device"),
        s("virtio-serial-device"),
        s("-chardev"),
        format!(
            "socket,id=ctl,path={},server=on,wait=off",
            socket_path(&f.ctl())?
        ),
        s("-device"),
        format!("virtserialport,chardev=ctl,name={CONTROL_PORT_NAME}"),
        s("-chardev"),
        format!(
            "socket,id=qmp,path={},server=on,wait=off",
            socket_path(&f.qmp())?
        ),
        s("-mon"),
        s("chardev=qmp,mode=control"),
        s("-pidfile"),
        opt_path(&f.pidfile())?,
        s("-daemonize"),
    ];
    a.shrink_to_fit();
    Ok(a)
}

/// What QEMU's failure to start means, from its stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartFailure {
    /// A forwarded port is taken (`Could not set up host forwarding rule`).
    PortTaken(String),
    /// `-accel kvm` cannot be used.
    NoKvm(String),
    Other(String),
}

pub fn classify_start_error(stderr: &str) -> StartFailure {
    let text = stderr.trim().to_string();
    if let Some(line) = text
        .lines()
        .find(|l| l.contains("Could not set up host forwarding rule"))
    {
        let rule = line
            .split("rule '")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap_or(line)
            .to_string();
        return StartFailure::PortTaken(rule);
    }
    if text.contains("failed to initialize kvm") || text.contains("/dev/kvm") {
        return StartFailure::NoKvm(text);
    }
    StartFailure::Other(text)
}

#[cfg(test)]
#[path = "qemu_args_tests.rs"]
mod tests;
