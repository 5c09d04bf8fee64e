//! What berth watches: engine events and resource figures (pure data).
use serde::Serialize;

/// A container event for a berth object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineEvent {
    /// Workspace name (dev.berth.name).
    pub name: String,
    pub container: String,
    /// "start", "die", "stop", "create", "destroy", "restart", ...
    pub action: String,
    /// Seconds since the epoch.
    pub time: i64,
}

impl EngineEvent {
    /// Does this event change what the list shows (as opposed to exec noise)?
    pub fn changes_state(&self) -> bool {
        !self.action.starts_with("exec_")
            && !self.action.starts_with("health_status")
            && self.action != "attach"
    }
}

/// One sample of a container's resource use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Stats {
    /// Percent of one CPU (100 = one core busy).
    pub cpu_percent: f64,
    pub mem_bytes: u64,
    pub mem_limit: u64,
    pub pids: u64,
}

/// CPU percent from two cumulative readings, as `docker stats` computes it.
pub fn cpu_percent(total: u64, pre_total: u64, system: u64, pre_system: u64, cpus: u32) -> f64 {
    let d_total = total.saturating_sub(pre_total) as f64;
    let d_system = system.saturating_sub(pre_system) as f64;
    if d_system <= 0.0 || d_total <= 0.0 {
        return 0.0;
    }
    d_total / d_system * f64::from(cpus.max(1)) * 100.0
}

/// A sidecar container that belongs to a workspace (role=sidecar, same name label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    /// Its source tag in the logs pane (dev.berth.sidecar label, else the container name).
    pub source: String,
    pub container: String,
    pub running: bool,
    /// Frozen (by a snapshot that was cut off, or by hand): `running` is false.
    pub paused: bool,
    /// It shares the workspace's network namespace (restarted with the workspace).
    pub joins_workspace: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_percent_like_docker_stats() {
        assert_eq!(cpu_percent(200, 100, 2000, 1000, 2), 20.0);
        assert_eq!(cpu_percent(100, 100, 2000, 1000, 4), 0.0);
        assert_eq!(cpu_percent(50, 100, 2000, 1000, 4), 0.0);
        assert_eq!(cpu_percent(200, 100, 1000, 1000, 4), 0.0);
    }

    #[test]
    fn exec_events_do_not_change_state() {
        let e = |a: &str| EngineEvent {
            name: "w".into(),
            container: "c".into(),
            action: a.into(),
            time: 0,
        };
        assert!(e("start").changes_state());
        assert!(e("die").changes_state());
        assert!(!e("exec_start: sh").changes_state());
        assert!(!e("exec_die").changes_state());
    }
}
