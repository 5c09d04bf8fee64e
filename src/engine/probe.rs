//! A runtime's probe container: what to run and how it ended (see
//! `domain::runtime` for what that says about the runtime).
use std::collections::BTreeMap;
use std::time::Duration;

/// A tiny container started with `runtime` that runs `true` and is removed
/// afterwards, whatever happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Its container name (unique per probe).
    pub name: String,
    /// An image present in the engine (never pulled for a probe).
    pub image: String,
    /// `None`: the engine's default runtime.
    pub runtime: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// How long it may take to exit before it counts as failed.
    pub timeout: Duration,
    /// With an init process, as a workspace gets one (so a missing init binary,
    /// podman's catatonit, shows here first).
    pub init: bool,
}

/// How a probe container ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeOutcome {
    pub exit_code: Option<i64>,
    pub timed_out: bool,
    /// Its output (only read when it failed), for the reason.
    pub output: String,
}

/// The command a probe runs (as its entrypoint, so an image's own does not run).
pub const PROBE_CMD: &str = "true";

/// A probe container the engine still has (one a killed berth left behind, or
/// one another berth is running now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeLeft {
    pub name: String,
    pub running: bool,
    /// When it was created (Unix seconds).
    pub created: i64,
}

/// A probe older than this is stale whatever its name says (a probe lasts 30 s
/// at most).
pub const PROBE_STALE_AFTER: i64 = 120;

/// The berth process a probe's name says made it (`berth-probe.RUNTIME.PID-N`).
pub fn probe_pid(name: &str) -> Option<u32> {
    let last = name.rsplit('.').next()?;
    last.split('-').next()?.parse().ok()
}

/// Is `p` left behind: not running, and either old or made by a process that is
/// gone (`pid_alive`)? A running one is never touched (it may be another berth's,
/// in flight).
pub fn is_stale(p: &ProbeLeft, now: i64, pid_alive: impl Fn(u32) -> bool) -> bool {
    !p.running
        && (now - p.created > PROBE_STALE_AFTER
            || probe_pid(&p.name).is_some_and(|pid| !pid_alive(pid)))
}

#[cfg(test)]
mod stale_tests {
    use super::*;

    fn left(name: &str, running: bool, created: i64) -> ProbeLeft {
        ProbeLeft {
            name: name.into(),
            running,
            created,
        }
    }

    #[test]
    fn left_behind_means_stopped_and_old_or_orphaned() {
        assert_eq!(probe_pid("berth-probe.runsc.17672-2"), Some(17672));
        assert_eq!(
            probe_pid("berth-probe.io.containerd.runc.v2.42-1"),
            Some(42)
        );
        assert_eq!(probe_pid("other"), None);
        let alive = |pid: u32| pid == 7;
        // A fresh probe of a live berth, or any running one: kept.
        assert!(!is_stale(
            &left("berth-probe.runc.7-1", false, 1000),
            1010,
            alive
        ));
        assert!(!is_stale(
            &left("berth-probe.runc.8-1", true, 0),
            1000,
            alive
        ));
        // Its berth is gone, or it is old: removed.
        assert!(is_stale(
            &left("berth-probe.runc.8-1", false, 1000),
            1010,
            alive
        ));
        assert!(is_stale(
            &left("berth-probe.runc.7-1", false, 0),
            1000,
            alive
        ));
    }
}
