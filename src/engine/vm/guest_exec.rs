//! `exec` in a VM workspace over ssh, as berth (its own identity, the VM's
//! pinned host key). Environment values may be secrets: they never go on a
//! command line (the local ssh's argv and the remote command are both visible
//! in `ps`). They go first on ssh's stdin as a length-prefixed header of
//! `export NAME='VALUE'` lines that the remote wrapper reads with `read` and
//! `dd bs=1` (byte by byte, so nothing of the request's stdin is eaten) and
//! `eval`s (shell builtins only), before it runs the command with the rest of
//! stdin. The wrapper prints one marker byte on stdout before the command runs:
//! whatever ssh says before it is ssh's (or sudo's) failure, not the command's.
use super::SshTarget;
use crate::domain::activity_probe::EXEC_PIDFILE_PREFIX;
use crate::domain::env::{shell_quote, valid_name};
use crate::engine::docker_exec::{rand_suffix, KILL_TREE};
use crate::engine::{
    exec_cancelled, EngineError, EngineResult, ExecOutcome, ExecRequest, Output, EXEC_CANCELLED,
};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// The byte the wrapper prints before the command runs.
pub const MARKER: u8 = b'B';
/// How long a freshly started VM gets to answer with sshd's banner (TCG boots
/// take seconds; a busy host more).
pub const BANNER_WAIT: Duration = Duration::from_secs(120);
/// The guest's user berth logs in as.
const GUEST_USER: &str = "workspace";
/// Bytes of ssh's own stderr kept for an error message.
const SSH_ERR_KEEP: usize = 4096;

/// How berth reaches one VM.
#[derive(Debug, Clone)]
pub struct Guest {
    pub container: String,
    /// berth's private key.
    pub identity: PathBuf,
    pub target: SshTarget,
}

/// Who runs the command in the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAs {
    Workspace,
    /// Through `sudo -n` (the workspace user has passwordless sudo in berth's image).
    Root,
}

/// `req.user` in a VM: the workspace user or root, nothing else.
pub fn run_as(user: Option<&str>) -> Result<RunAs, String> {
    match user.map(str::trim) {
        None | Some("") | Some("workspace") | Some("1000") | Some("1000:1000")
        | Some("workspace:workspace") => Ok(RunAs::Workspace),
        Some("root") | Some("0") | Some("0:0") | Some("root:root") => Ok(RunAs::Root),
        Some(u) => Err(format!(
            "a VM workspace runs commands as workspace (1000) or root (0), not {u:?}; pick one of those"
        )),
    }
}

/// The header sent first on stdin: `<length>\n` then `export NAME='VALUE'`
/// lines (the VM's public env, then the request's, which wins).
pub fn env_header(public: &[String], req: &[String]) -> Result<Vec<u8>, String> {
    let mut body = String::new();
    for kv in public.iter().chain(req) {
        let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
        if !valid_name(k) {
            return Err(format!(
                "environment variable {k:?}: not a variable name (letters, digits and _, not starting with a digit)"
            ));
        }
        body.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    let mut out = format!("{}\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    Ok(out)
}

/// The wrapper's script (`sh -c SCRIPT berth-exec CMD...`): reads the header,
/// prints the marker, records its pid (for the kill on timeout or cancel),
/// changes to `workdir`, runs the command as its child (under `timeout -s KILL`
/// as a backstop) and exits with its status.
pub fn wrapper(pidfile: &str, workdir: Option<&str>, timeout: Option<Duration>) -> String {
    let cd = workdir.map_or(String::new(), |d| {
        format!(" cd -- {} || exit 126;", shell_quote(d))
    });
    // The local side stops the command at `timeout`; the guest's own timer is a
    // backstop a little later (the remote start is later than the local one).
    let limit = timeout.map_or(String::new(), |t| {
        format!("timeout -s KILL {} ", t.as_secs() + 3)
    });
    format!(
        "IFS= read -r n || exit 97; case $n in ''|*[!0-9]*) exit 97;; esac; \
         h=$(dd bs=1 count=\"$n\" 2>/dev/null) || exit 97; eval \"$h\"; unset h n;{cd} \
         printf {marker}; echo $$ > {pidfile}; {limit}\"$@\"; s=$?; rm -f {pidfile}; exit $s",
        marker = MARKER as char,
    )
}

/// The command line ssh hands to the guest's login shell.
pub fn remote_command(
    who: RunAs,
    pidfile: &str,
    workdir: Option<&str>,
    timeout: Option<Duration>,
    cmd: &[String],
) -> String {
    let mut s = String::new();
    if who == RunAs::Root {
        s.push_str("sudo -n ");
    }
    s.push_str("sh -c ");
    s.push_str(&shell_quote(&wrapper(pidfile, workdir, timeout)));
    s.push_str(" berth-exec");
    for a in cmd {
        s.push(' ');
        s.push_str(&shell_quote(a));
    }
    s
}

/// The remote command that kills the wrapper's process tree.
pub fn kill_command(who: RunAs, pidfile: &str) -> String {
    let sudo = if who == RunAs::Root { "sudo -n " } else { "" };
    format!("{sudo}sh -c {} {pidfile}", shell_quote(KILL_TREE))
}

/// ssh's arguments: berth's identity only, no agent, no user config, the VM's
/// pinned host key only.
pub fn ssh_args(identity: &Path, t: &SshTarget, remote: &str) -> Vec<String> {
    let o = |s: String| ["-o".to_string(), s];
    let mut a = vec!["-F".to_string(), "/dev/null".into(), "-T".into()];
    a.extend(["-i".to_string(), identity.display().to_string()]);
    for opt in [
        "IdentitiesOnly=yes".to_string(),
        "IdentityAgent=none".into(),
        "BatchMode=yes".into(),
        "StrictHostKeyChecking=yes".into(),
        format!("UserKnownHostsFile={}", t.known_hosts.display()),
        "GlobalKnownHostsFile=/dev/null".into(),
        "LogLevel=ERROR".into(),
        "ConnectTimeout=20".into(),
        "ServerAliveInterval=15".into(),
    ] {
        a.extend(o(opt));
    }
    for opt in multiplexing(t) {
        a.extend(o(opt));
    }
    a.extend(["-p".to_string(), t.port.to_string()]);
    a.push(format!("{GUEST_USER}@{}", t.host));
    a.push("--".into());
    a.push(remote.to_string());
    a
}

/// Longest control socket path ssh can use: its temporary name adds 17 bytes
/// to the path, and a unix socket's path holds 107.
const CONTROL_PATH_MAX: usize = 107 - 17;

/// One connection per VM shared by berth's commands in a row (a create runs a
/// dozen): a key exchange under TCG costs over a second, a new session on a
/// shared connection a few milliseconds. The master lives in the VM's own 0700
/// directory and ends 10 s after its last session (or with the VM). Where the
/// path would be too long for a socket, every command connects on its own.
fn multiplexing(t: &SshTarget) -> Vec<String> {
    let path = t.known_hosts.with_file_name("ssh.ctl");
    let path = path.display().to_string();
    if t.known_hosts.parent().is_none() || path.len() > CONTROL_PATH_MAX || path.contains('%') {
        return vec!["ControlMaster=no".into(), "ControlPath=none".into()];
    }
    vec![
        "ControlMaster=auto".into(),
        format!("ControlPath={path}"),
        "ControlPersist=10".into(),
    ]
}

/// Waits until sshd answers with its banner (QEMU's forwarder accepts the
/// connection before the guest listens, so a connect alone says nothing).
pub async fn wait_sshd(container: &str, t: &SshTarget, within: Duration) -> EngineResult<()> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if banner(t).await {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(EngineError::Api(format!(
                "VM workspace {container} did not answer on ssh ({}:{}) within {} s; \
                 see its console with `berth logs`, or restart it",
                t.host,
                t.port,
                within.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn banner(t: &SshTarget) -> bool {
    let try_once = async {
        let mut s = tokio::net::TcpStream::connect((t.host.as_str(), t.port)).await?;
        let mut b = [0u8; 4];
        s.read_exact(&mut b).await?;
        Ok::<_, std::io::Error>(&b == b"SSH-")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(3), try_once).await,
        Ok(Ok(true))
    )
}

fn spawn_ssh(g: &Guest, remote: &str) -> EngineResult<Child> {
    Command::new("ssh")
        .args(ssh_args(&g.identity, &g.target, remote))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            EngineError::Api(format!(
                "cannot run ssh to reach VM workspace {} ({e}); install the OpenSSH client (`sudo apt-get install openssh-client`)",
                g.container
            ))
        })
}

/// Runs `req` in the guest; `public_env` is the VM's own env (every exec gets it).
pub async fn run(
    g: &Guest,
    public_env: &[String],
    mut req: ExecRequest,
    out: mpsc::Sender<Output>,
) -> EngineResult<ExecOutcome> {
    let who = run_as(req.user.as_deref()).map_err(EngineError::Api)?;
    let header = env_header(public_env, &req.env).map_err(EngineError::Api)?;
    let pidfile = format!(
        "{EXEC_PIDFILE_PREFIX}{}-{}",
        std::process::id(),
        rand_suffix()
    );
    let remote = remote_command(who, &pidfile, req.workdir.as_deref(), req.timeout, &req.cmd);
    let mut child = spawn_ssh(g, &remote)?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(EngineError::Api("ssh's pipes were not opened".into()));
    };
    let src = req.stdin.take();
    let feed = async move {
        if stdin.write_all(&header).await.is_ok() {
            if let Some(mut src) = src {
                let _ = tokio::io::copy(&mut src, &mut stdin).await;
            }
        }
        let _ = stdin.shutdown().await;
    };
    let started = AtomicBool::new(false);
    let held = Mutex::new(Vec::new());
    let pump = async {
        tokio::join!(
            pump_stdout(stdout, &out, &started),
            pump_stderr(stderr, &out, &started, &held)
        );
        child.wait().await
    };
    let limit = async {
        match req.timeout {
            Some(l) => tokio::time::sleep(l).await,
            None => std::future::pending().await,
        }
    };
    // Ok(status): it ended; Err(timed_out): stopped early.
    let cancelled = exec_cancelled(req.cancel.take());
    let ended = {
        tokio::pin!(feed, pump, limit, cancelled);
        let mut fed = false;
        loop {
            tokio::select! {
                r = &mut pump => break Ok(r),
                _ = &mut feed, if !fed => fed = true,
                _ = &mut limit => break Err(true),
                _ = &mut cancelled => break Err(false),
            }
        }
    };
    match ended {
        Err(timed_out) => {
            // The local ssh goes (kill_on_drop); the command's tree in the guest is
            // killed from a second ssh (without it, sshd would only close the
            // session's pipes and the command could run on).
            kill_remote(g, who, &pidfile).await;
            if timed_out {
                Ok(ExecOutcome {
                    exit_code: 124,
                    timed_out: true,
                })
            } else {
                Err(EngineError::Api(EXEC_CANCELLED.into()))
            }
        }
        Ok(status) => {
            let status = status.map_err(|e| EngineError::Api(format!("waiting for ssh: {e}")))?;
            let code = status.code();
            if !started.load(Ordering::SeqCst) {
                let msg =
                    String::from_utf8_lossy(&held.lock().map(|h| h.clone()).unwrap_or_default())
                        .trim()
                        .to_string();
                return Err(EngineError::Api(ssh_failure(&g.container, code, &msg)));
            }
            // Stderr may have ended before the marker was read on stdout.
            let early = held
                .lock()
                .map(|mut h| std::mem::take(&mut *h))
                .unwrap_or_default();
            if !early.is_empty() {
                let _ = out.send(Output::Stderr(early)).await;
            }
            Ok(ExecOutcome {
                exit_code: code.map_or(-1, i64::from),
                timed_out: false,
            })
        }
    }
}

/// The sentence for an exec that never got to run its command.
fn ssh_failure(container: &str, code: Option<i32>, msg: &str) -> String {
    let msg = if msg.is_empty() { "no message" } else { msg };
    match code {
        Some(255) | None => format!(
            "cannot reach VM workspace {container} over ssh: {msg}; is it running (`berth start`)?"
        ),
        Some(126) => format!("cannot run the command in VM workspace {container}: {msg}"),
        Some(c) => {
            format!("the command could not start in VM workspace {container} (status {c}): {msg}")
        }
    }
}

async fn kill_remote(g: &Guest, who: RunAs, pidfile: &str) {
    let Ok(mut k) = spawn_ssh(g, &kill_command(who, pidfile)) else {
        return;
    };
    drop(k.stdin.take());
    if tokio::time::timeout(Duration::from_secs(20), k.wait())
        .await
        .is_err()
    {
        let _ = k.kill().await;
    }
}

async fn pump_stdout(
    mut r: impl AsyncRead + Unpin,
    out: &mpsc::Sender<Output>,
    started: &AtomicBool,
) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        if !started.load(Ordering::SeqCst) {
            if chunk[0] != MARKER {
                // Not the wrapper: nothing to trust; keep reading to the end.
                continue;
            }
            started.store(true, Ordering::SeqCst);
            chunk = &chunk[1..];
        }
        if !chunk.is_empty() && out.send(Output::Stdout(chunk.to_vec())).await.is_err() {
            return;
        }
    }
}

async fn pump_stderr(
    mut r: impl AsyncRead + Unpin,
    out: &mpsc::Sender<Output>,
    started: &AtomicBool,
    held: &Mutex<Vec<u8>>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if !started.load(Ordering::SeqCst) {
            // Before the marker: ssh's (or sudo's) own words, kept for the error.
            if let Ok(mut h) = held.lock() {
                if h.len() < SSH_ERR_KEEP {
                    h.extend_from_slice(&buf[..n]);
                }
            }
            continue;
        }
        let early = held
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        if !early.is_empty() && out.send(Output::Stderr(early)).await.is_err() {
            return;
        }
        if out.send(Output::Stderr(buf[..n].to_vec())).await.is_err() {
            return;
        }
    }
    // Stderr ended: what was held belongs to the command when it started.
    if started.load(Ordering::SeqCst) {
        let early = held
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        if !early.is_empty() {
            let _ = out.send(Output::Stderr(early)).await;
        }
    }
}

#[cfg(test)]
#[path = "guest_exec_tests.rs"]
mod tests;
