//! Docker's ssh transport, berth's way: every connection to an `ssh://` engine
//! runs the remote's `docker system dial-stdio` over the user's own `ssh` (their
//! config and agent), with `BatchMode=yes` and `StrictHostKeyChecking=yes` (a host
//! key ssh does not know is an error that says how to trust it, never a silent
//! accept) and one multiplexed master connection, so later connections are cheap.
//!
//! bollard speaks to a private unix socket (in a 0700 directory of this process);
//! the accept loop pipes each connection through a spawned `ssh`. The loop, its
//! connections and their children end with the [`SshDial`] (dropping it aborts
//! the loop, whose tasks own the children with `kill_on_drop`), and the master is
//! told to exit.
use super::EngineError;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::net::{UnixListener, UnixStream};
use tokio::process::Command;
use tokio::task::{JoinHandle, JoinSet};

/// How long the multiplexed master outlives its last connection.
const CONTROL_PERSIST: &str = "60";

/// Where an ssh engine is (`ssh://[user@]host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshHost {
    /// `[user@]host[:port]` as a person types it for ssh.
    pub fn display(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{user}{}{port}", self.host)
    }

    /// `[-l USER] [-p PORT]`.
    pub fn login_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(u) = &self.user {
            a.extend(["-l".to_string(), u.clone()]);
        }
        if let Some(p) = self.port {
            a.extend(["-p".to_string(), p.to_string()]);
        }
        a
    }

    /// The command that trusts this host's key once its fingerprint is checked.
    pub fn trust_hint(&self) -> String {
        let port = self.port.map(|p| format!(" -p {p}")).unwrap_or_default();
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!(
            "compare its fingerprint with the one the host shows (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there), then connect once with `ssh{port} {user}{} true` and answer yes (or add `ssh-keyscan{port} {}` output to ~/.ssh/known_hosts after checking it)",
            self.host, self.host
        )
    }
}

/// The ssh options every connection berth makes to an engine host uses.
pub fn strict_options() -> [&'static str; 4] {
    ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
}

/// argv (program first) of one connection's ssh: `remote` on `host`, through the
/// master at `control` (made on first use).
pub fn ssh_argv(host: &SshHost, control: &Path, remote: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec!["ssh".into()];
    a.extend(strict_options().iter().map(|s| s.to_string()));
    for o in [
        "ControlMaster=auto".to_string(),
        format!("ControlPath={}", control.display()),
        format!("ControlPersist={CONTROL_PERSIST}"),
    ] {
        a.extend(["-o".to_string(), o]);
    }
    a.extend(host.login_args());
    a.push("--".into());
    a.push(host.host.clone());
    a.extend(remote.iter().map(|s| s.to_string()));
    a
}

/// What ssh's stderr (and exit code) mean, as a sentence; `None` when it says
/// nothing berth recognizes.
pub fn explain(host: &SshHost, code: Option<i32>, stderr: &str) -> String {
    let s = stderr.to_lowercase();
    let at = host.display();
    let detail = stderr.trim().lines().last().unwrap_or("").trim();
    if s.contains("host key verification failed")
        || s.contains("no ") && s.contains("host key is known")
    {
        return format!(
            "ssh does not know the host key of {at}; berth never accepts an unknown key: {}",
            host.trust_hint()
        );
    }
    if s.contains("remote host identification has changed") {
        return format!("the host key of {at} has CHANGED since ssh last saw it (a reinstalled host, or someone in between); find out why before removing the old key with `ssh-keygen -R {}`", host.host);
    }
    if s.contains("permission denied") {
        return format!("ssh refused to log in to {at} ({detail}); berth uses your ssh config and agent without prompting: load the key with `ssh-add` or set the user and IdentityFile in ~/.ssh/config, and check `ssh {} true` works", host.host);
    }
    if s.contains("connection refused")
        || s.contains("could not resolve")
        || s.contains("timed out")
        || s.contains("no route to host")
        || s.contains("network is unreachable")
    {
        return format!("cannot reach {at} over ssh ({detail}); check the host name, the port and that its sshd runs");
    }
    if code == Some(127) || s.contains("command not found") || s.contains("docker: not found") {
        return format!("{at} has no `docker` command for ssh's login (berth runs `docker system dial-stdio` there): install the docker CLI on that host or put it on the PATH of a non-interactive login");
    }
    if s.contains("cannot connect to the docker daemon") || s.contains("docker.sock") {
        return format!("the docker engine on {at} does not answer ({detail}); start it there (`sudo systemctl start docker`)");
    }
    format!(
        "ssh to {at} failed (exit {}): {detail}",
        code.map_or("by signal".into(), |c| c.to_string())
    )
}

/// A private directory holding the socket bollard uses and ssh's control path.
fn private_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    // Short: a unix socket path has ~100 bytes, ssh adds a suffix to the control path.
    let base = std::env::temp_dir();
    sweep(&base);
    let mut last = None;
    for i in 0..100u32 {
        let d = base.join(format!("berth-ssh-{}-{i}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free directory name")))
}

/// Removes directories left by berth processes that ended without dropping their
/// transport (`berth ssh` replaces itself with ssh): only ours, only of dead PIDs.
fn sweep(base: &Path) {
    let Ok(rd) = std::fs::read_dir(base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix("berth-ssh-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let mine = std::os::unix::fs::MetadataExt::uid(&match e.metadata() {
            Ok(m) => m,
            Err(_) => continue,
        }) == own_uid();
        if mine && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// This process's uid, from /proc (no libc call).
fn own_uid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(u32::MAX)
}

/// The live transports' directories and hosts, so a process about to replace
/// itself with another program (`berth ssh`), whose drops then never run, can end
/// their masters first ([`end_all`]).
static LIVE: std::sync::Mutex<Vec<(PathBuf, SshHost)>> = std::sync::Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<(PathBuf, SshHost)>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// argv (program first) that tells the master at `control` to exit.
fn exit_argv(host: &SshHost, control: &Path) -> Vec<String> {
    let mut c = vec!["ssh".to_string(), "-O".into(), "exit".into(), "-o".into()];
    c.push(format!("ControlPath={}", control.display()));
    c.extend(host.login_args());
    c.extend(["--".to_string(), host.host.clone()]);
    c
}

/// Ends every live transport's master and removes its directory: call it before
/// replacing this process (`exec`), which skips the transports' drops.
pub async fn end_all() {
    let all = std::mem::take(&mut *live());
    for (dir, host) in all {
        let argv = exit_argv(&host, &dir.join("cm"));
        let _ = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status()
            .await;
        let _ = tokio::fs::remove_dir_all(&dir).await;
    }
}

/// A live ssh transport to one engine host.
pub struct SshDial {
    host: SshHost,
    dir: PathBuf,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for SshDial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshDial").field("host", &self.host).finish()
    }
}

impl SshDial {
    /// Listens on a private socket whose every connection is one `docker system
    /// dial-stdio` over ssh. Nothing is asked of the host yet: the first request
    /// logs in, and a failure is explained by [`Self::diagnose`] (host keys,
    /// login, the network or docker there).
    pub async fn start(host: SshHost, endpoint: &str) -> Result<Self, EngineError> {
        let fail = |reason: String| EngineError::Unreachable {
            endpoint: endpoint.to_string(),
            reason,
        };
        let dir = tokio::task::spawn_blocking(private_dir)
            .await
            .map_err(|e| fail(e.to_string()))?
            .map_err(|e| fail(format!("cannot make a private directory for ssh: {e}")))?;
        Self::listen(host, dir, endpoint)
    }

    /// Why ssh to the host, or docker there, fails, as a sentence; `None` when
    /// both answer (the failure was something else). One round trip.
    pub async fn diagnose(&self) -> Option<String> {
        self.probe().await.err()
    }

    fn listen(host: SshHost, dir: PathBuf, endpoint: &str) -> Result<Self, EngineError> {
        let listener =
            UnixListener::bind(dir.join("d.sock")).map_err(|e| EngineError::Unreachable {
                endpoint: endpoint.to_string(),
                reason: format!("cannot listen on a private socket: {e}"),
            })?;
        let argv = ssh_argv(&host, &dir.join("cm"), &["docker", "system", "dial-stdio"]);
        let accept = tokio::spawn(accept_loop(listener, argv));
        live().push((dir.clone(), host.clone()));
        Ok(Self { host, dir, accept })
    }

    /// One round trip: ssh logs in (the master starts) and docker there answers.
    async fn probe(&self) -> Result<(), String> {
        let argv = ssh_argv(
            &self.host,
            &self.control(),
            &["docker", "version", "--format", "'{{.Server.APIVersion}}'"],
        );
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| format!("cannot run ssh ({e}); install the OpenSSH client"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(explain(
            &self.host,
            out.status.code(),
            &String::from_utf8_lossy(&out.stderr),
        ))
    }

    /// The socket bollard connects to.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("d.sock")
    }

    fn control(&self) -> PathBuf {
        self.dir.join("cm")
    }
}

impl Drop for SshDial {
    fn drop(&mut self) {
        // Ends the loop; its JoinSet aborts each connection, whose ssh is killed.
        self.accept.abort();
        live().retain(|(d, _)| *d != self.dir);
        // The master (ControlPersist) is not our child: ask it to exit, then remove
        // the directory. One short-lived helper, reaped by tokio when in a runtime.
        let c = exit_argv(&self.host, &self.control());
        let script = "\"$@\" >/dev/null 2>&1; rm -rf -- \"$0\"";
        let dir = self.dir.display().to_string();
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = Command::new("sh")
                .args(["-c", script, &dir])
                .args(&c)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
        } else {
            let _ = std::process::Command::new("sh")
                .args(["-c", script, &dir])
                .args(&c)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Accepts connections until aborted; each one gets its own ssh child. The set
/// owns the connection tasks: aborting this task drops it, which aborts them.
async fn accept_loop(listener: UnixListener, argv: Vec<String>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(pipe(stream, argv.clone()));
                }
                Err(e) => {
                    tracing::warn!("ssh engine socket: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Pipes one connection through `ssh ... docker system dial-stdio`.
async fn pipe(stream: UnixStream, argv: Vec<String>) {
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("cannot run ssh for an engine connection: {e}");
            return;
        }
    };
    let (Some(mut cin), Some(mut cout), Some(cerr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return;
    };
    let (mut rd, mut wr) = stream.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut rd, &mut cin).await;
        // The request side is done: close ssh's stdin so dial-stdio half-closes.
        drop(cin);
    };
    let down = async {
        let _ = tokio::io::copy(&mut cout, &mut wr).await;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut wr).await;
    };
    let errs = async {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(cerr).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            tracing::debug!("ssh engine connection: {l}");
        }
    };
    tokio::join!(up, down, errs);
    let _ = child.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> SshHost {
        SshHost {
            user: Some("dev".into()),
            host: "box".into(),
            port: Some(2222),
        }
    }

    #[test]
    fn the_command_line_is_strict_and_multiplexed() {
        let a = ssh_argv(
            &host(),
            Path::new("/tmp/d/cm"),
            &["docker", "system", "dial-stdio"],
        );
        let s = a.join(" ");
        assert!(
            s.starts_with("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes"),
            "{s}"
        );
        assert!(
            s.contains("-o ControlMaster=auto -o ControlPath=/tmp/d/cm -o ControlPersist=60"),
            "{s}"
        );
        assert!(
            s.ends_with("-l dev -p 2222 -- box docker system dial-stdio"),
            "{s}"
        );
    }

    #[test]
    fn ssh_failures_are_sentences() {
        let h = host();
        let unknown = explain(&h, Some(255), "No ED25519 host key is known for [box]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n");
        assert!(
            unknown.contains("never accepts an unknown key"),
            "{unknown}"
        );
        assert!(unknown.contains("ssh -p 2222 dev@box true"), "{unknown}");
        assert!(unknown.contains("ssh-keyscan -p 2222 box"), "{unknown}");
        let auth = explain(&h, Some(255), "dev@box: Permission denied (publickey).");
        assert!(auth.contains("ssh-add"), "{auth}");
        let refused = explain(
            &h,
            Some(255),
            "ssh: connect to host box port 2222: Connection refused",
        );
        assert!(refused.contains("cannot reach dev@box:2222"), "{refused}");
        let nodocker = explain(&h, Some(127), "sh: 1: docker: not found");
        assert!(nodocker.contains("no `docker` command"), "{nodocker}");
        let down = explain(
            &h,
            Some(1),
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.",
        );
        assert!(down.contains("does not answer"), "{down}");
        assert!(!explain(&h, Some(3), "odd").is_empty());
    }
}
