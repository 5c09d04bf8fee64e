//! berth's ssh-agent relay: a Unix socket in a workspace's agent directory (bound
//! into the workspace) whose every connection is forwarded to the host's agent.
//! Keys never leave the agent; only its protocol crosses.
//!
//! Several berth processes may want the relay of one workspace at once (a create,
//! two `berth exec`s). The socket has one fixed name, so they cooperate: a relay
//! serves it when nobody answers there (a stale file is replaced), otherwise it waits
//! and checks again every [`PROBE`]; a serving relay that finds its socket replaced
//! goes back to waiting. So whichever of them is alive serves, and the socket is
//! removed by the last one to go. The relay ends by itself when its directory is
//! removed (the workspace was deleted).
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// How often a waiting relay checks whether the socket needs a server, and a
/// serving one whether its socket is still its own.
pub const PROBE: Duration = Duration::from_secs(1);
/// Connections served at once (more wait in the listen queue).
pub const MAX_CONNECTIONS: usize = 32;

/// A running relay; stopping it (or dropping it) removes its socket if it holds it.
pub struct Relay {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Relay {
    /// Relays `socket` (in a directory that exists) to the agent at `upstream`;
    /// returns once the socket is served (by this relay or another) or, at the
    /// latest, after [`PROBE`].
    pub async fn start(socket: PathBuf, upstream: PathBuf) -> Self {
        let (stop, stopped) = oneshot::channel();
        let (ready, is_ready) = oneshot::channel();
        let task = tokio::spawn(run(socket, upstream, stopped, ready));
        let _ = tokio::time::timeout(PROBE, is_ready).await;
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops serving, closes its connections and removes its socket.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Whether its task still runs (it ends when the directory goes away).
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        // The task's future is dropped with it: its socket guard removes the file.
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The socket this relay bound, removed when the relay lets go of it unless
/// another relay has replaced it meanwhile.
struct Held {
    path: PathBuf,
    ino: (u64, u64),
    armed: bool,
}

impl Held {
    async fn still_ours(&self) -> bool {
        tokio::fs::symlink_metadata(&self.path)
            .await
            .is_ok_and(|m| (m.dev(), m.ino()) == self.ino)
    }

    async fn release(mut self) {
        if self.still_ours().await {
            let _ = tokio::fs::remove_file(&self.path).await;
        }
        self.armed = false;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // Only when the relay is aborted or berth's runtime shuts down (release() is
        // the normal path): a single unlink of a local socket file, no waiting.
        if self.armed {
            let ours =
                std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.ino);
            if ours {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

enum Claim {
    Ours(UnixListener, Held),
    Taken,
    Gone,
}

async fn run(
    socket: PathBuf,
    upstream: PathBuf,
    mut stopped: oneshot::Receiver<()>,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    loop {
        let claimed = claim(&socket).await;
        if let Some(r) = ready.take() {
            let _ = r.send(());
        }
        match claimed {
            Ok(Claim::Ours(listener, held)) => {
                let stop = serve(listener, &held, &upstream, &mut stopped).await;
                held.release().await;
                if stop {
                    return;
                }
            }
            Ok(Claim::Taken) => {}
            Ok(Claim::Gone) => {
                tracing::debug!("agent relay: {} is gone; ending", socket.display());
                return;
            }
            Err(e) => tracing::warn!("agent relay at {}: {e}", socket.display()),
        }
        tokio::select! {
            _ = &mut stopped => return,
            _ = tokio::time::sleep(PROBE) => {}
        }
    }
}

/// Takes the socket unless a live relay answers there.
async fn claim(socket: &Path) -> std::io::Result<Claim> {
    let Some(dir) = socket.parent() else {
        return Ok(Claim::Gone);
    };
    if !tokio::fs::try_exists(dir).await.unwrap_or(false) {
        return Ok(Claim::Gone);
    }
    if UnixStream::connect(socket).await.is_ok() {
        return Ok(Claim::Taken);
    }
    // Nobody answers: a stale file (a berth that was killed) or none.
    match tokio::fs::remove_file(socket).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = match bind(socket).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Ok(Claim::Taken),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Claim::Gone),
        Err(e) => return Err(e),
    };
    let m = tokio::fs::symlink_metadata(socket).await?;
    let held = Held {
        path: socket.to_path_buf(),
        ino: (m.dev(), m.ino()),
        armed: true,
    };
    // The workspace's user (uid 1000, no capabilities) connects: the directory on
    // the host is what keeps other host users out.
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666)).await?;
    Ok(Claim::Ours(listener, held))
}

/// Binds `socket`, through /proc/self/fd when its path is longer than a socket
/// address holds (a deep state directory).
async fn bind(socket: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::ffi::OsStrExt;
    if socket.as_os_str().as_bytes().len() <= crate::domain::ssh_forward::MAX_SOCKET_PATH {
        return UnixListener::bind(socket);
    }
    let (Some(dir), Some(file)) = (socket.parent(), socket.file_name()) else {
        return Err(std::io::ErrorKind::InvalidInput.into());
    };
    let dir = dir.to_path_buf();
    let handle = tokio::task::spawn_blocking(move || std::fs::File::open(dir))
        .await
        .map_err(std::io::Error::other)??;
    use std::os::fd::AsRawFd;
    let short = PathBuf::from(format!("/proc/self/fd/{}", handle.as_raw_fd())).join(file);
    let l = UnixListener::bind(&short);
    drop(handle);
    l
}

/// Serves until stopped (true) or the socket is no longer this relay's (false).
async fn serve(
    listener: UnixListener,
    held: &Held,
    upstream: &Path,
    stopped: &mut oneshot::Receiver<()>,
) -> bool {
    let mut conns = JoinSet::new();
    let mut tick = tokio::time::interval(PROBE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut *stopped => return true,
            _ = tick.tick() => {
                if !held.still_ours().await {
                    return false;
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            r = listener.accept(), if conns.len() < MAX_CONNECTIONS => match r {
                Ok((client, _)) => {
                    conns.spawn(forward(client, upstream.to_path_buf()));
                }
                Err(e) => {
                    tracing::warn!("agent relay: accept failed: {e}");
                    return false;
                }
            },
        }
    }
}

/// One client connection, copied both ways to a fresh connection to the agent.
async fn forward(mut client: UnixStream, upstream: PathBuf) {
    match UnixStream::connect(&upstream).await {
        Ok(mut agent) => {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut agent).await;
        }
        Err(e) => tracing::warn!(
            "agent relay: cannot reach the host's agent at {}: {e}",
            upstream.display()
        ),
    }
}

#[cfg(test)]
#[path = "agent_relay_tests.rs"]
mod tests;
