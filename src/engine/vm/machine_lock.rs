//! One berth at a time on a machine: start, stop and remove hold an exclusive
//! lock on the machine's directory itself (flock, so the kernel drops it when its
//! holder exits or dies; no lock file, so a waiter never makes one in a directory
//! a remove is taking away). Without it two berths starting one stopped VM both
//! cleared its pid file and sockets and launched QEMU: the loser failed with a
//! misleading error, and the winner ran with its pid file and sockets gone, so
//! it looked stopped and could be neither stopped cleanly nor deleted safely.
use super::super::{EngineError, EngineResult};
use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// Held while it lives; dropping it releases the machine.
pub struct MachineLock(#[allow(dead_code)] fs::File);

/// How often a wait for the lock tries it again. The wait itself never blocks a
/// thread (a blocking flock cannot be cancelled, and a runtime shutting down
/// waits for it), so it ends when its future is dropped.
const POLL: Duration = Duration::from_millis(100);

/// How long a wait for the lock lasts: its holders only launch QEMU (it
/// daemonizes) or stop it (bounded by the stop's timeout and then a kill).
pub const WAIT: Duration = Duration::from_secs(300);

/// Takes the lock of the machine whose directory is `dir`, waiting while another
/// berth holds it (at most `wait`). `NotFound` (for `container`) when the
/// machine is gone: a remove that held the lock has taken its directory.
pub async fn lock(dir: &Path, container: &str, wait: Duration) -> EngineResult<MachineLock> {
    let until = Instant::now() + wait;
    loop {
        let p = dir.to_path_buf();
        let got = tokio::task::spawn_blocking(move || try_lock(&p))
            .await
            .map_err(|e| EngineError::Api(format!("locking the VM: {e}")))?;
        match got {
            Ok(Some(l)) => return Ok(l),
            Ok(None) if Instant::now() >= until => {
                return Err(EngineError::Conflict(format!(
                    "another berth process has been starting, stopping or removing VM {container} \
                     for {} s; wait for it to finish (or end it), then try again",
                    wait.as_secs()
                )))
            }
            Ok(None) => tokio::time::sleep(POLL).await,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(EngineError::NotFound {
                    what: format!("VM {container}"),
                })
            }
            Err(e) => return Err(EngineError::Api(format!("locking the VM: {e}"))),
        }
    }
}

/// The lock when nobody holds it, `None` when somebody does (blocking, brief).
fn try_lock(dir: &Path) -> io::Result<Option<MachineLock>> {
    let f = fs::File::open(dir)?;
    match f.try_lock() {
        Ok(()) => Ok(Some(MachineLock(f))),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path(), "workspace-a", WAIT).await.unwrap();
        // Another open file description conflicts as another process would.
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let d = dir.path().to_path_buf();
        let waiter = tokio::spawn(async move {
            let l = lock(&d, "workspace-a", WAIT).await.unwrap();
            let _ = tx.send(());
            l
        });
        tokio::time::sleep(POLL * 5).await;
        assert!(rx.try_recv().is_err(), "the second took a held lock");
        drop(first);
        let _second = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("the second gets it once the first lets go")
            .unwrap();
        // Nothing was made in the machine's directory.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_wait_that_lasts_too_long_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let _held = lock(dir.path(), "workspace-a", WAIT).await.unwrap();
        match lock(dir.path(), "workspace-a", POLL * 3).await {
            Err(EngineError::Conflict(m)) => {
                assert!(
                    m.contains("another berth process") && m.contains("workspace-a"),
                    "{m}"
                )
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("took a held lock"),
        }
    }

    #[tokio::test]
    async fn a_machine_removed_meanwhile_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("machines/abc");
        match lock(&gone, "workspace-a", WAIT).await {
            Err(EngineError::NotFound { what }) => assert_eq!(what, "VM workspace-a"),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("locked a machine that is not there"),
        }
    }
}
