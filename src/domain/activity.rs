//! What berth knows about a workspace's use: when it was last used, when its TTL
//! runs out, and WHY it counts as alive right now (the reasons are data, so the
//! status pane, `berth status --json` and the cleanup job read the same facts).
//! Pure: times are Unix seconds from an injected clock.
use super::ttl::Ttl;
use serde::Serialize;

/// What recorded a use of a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UseSource {
    Create,
    Start,
    Exec,
    Ssh,
    /// `berth cp` in or out.
    Copy,
    ShellTab,
    /// An ssh session on its port, seen by the activity probe.
    SshSession,
    Mcp,
}

impl UseSource {
    pub fn word(&self) -> &'static str {
        match self {
            UseSource::Create => "create",
            UseSource::Start => "start",
            UseSource::Exec => "exec",
            UseSource::Ssh => "ssh",
            UseSource::Copy => "cp",
            UseSource::ShellTab => "shell-tab",
            UseSource::SshSession => "ssh-session",
            UseSource::Mcp => "mcp",
        }
    }
}

/// One reason a workspace counts as alive now. `kind` is what the config's list of
/// counted signals names (`[activity] count`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AliveReason {
    /// ssh sessions connected to its sshd (one entry per session, e.g. "pts/0 from 127.0.0.1").
    SshSessions { sessions: Vec<String> },
    /// Shell tabs open in a berth TUI (one entry per tab owner, e.g. "berth pid 4121").
    ShellTabs { tabs: Vec<String> },
    /// Processes beyond the image's baseline (init, sshd's listener): "1234 python train.py".
    Processes { processes: Vec<String> },
    /// CPU use above the threshold, in percent of one core.
    Cpu { percent: f64, threshold: f64 },
    /// Published ports with connections in use.
    Ports { ports: Vec<u16> },
}

impl AliveReason {
    pub fn kind(&self) -> &'static str {
        match self {
            AliveReason::SshSessions { .. } => "ssh",
            AliveReason::ShellTabs { .. } => "shells",
            AliveReason::Processes { .. } => "processes",
            AliveReason::Cpu { .. } => "cpu",
            AliveReason::Ports { .. } => "ports",
        }
    }

    /// One line for people: "2 ssh sessions (pts/0, pts/1)".
    pub fn sentence(&self) -> String {
        fn list(v: &[String]) -> String {
            const SHOWN: usize = 3;
            let mut s = v.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
            if v.len() > SHOWN {
                s.push_str(&format!(", and {} more", v.len() - SHOWN));
            }
            s
        }
        fn n(count: usize, one: &str, many: &str) -> String {
            format!("{count} {}", if count == 1 { one } else { many })
        }
        match self {
            AliveReason::SshSessions { sessions } => format!(
                "{} ({})",
                n(sessions.len(), "ssh session", "ssh sessions"),
                list(sessions)
            ),
            AliveReason::ShellTabs { tabs } => format!(
                "{} ({})",
                n(tabs.len(), "shell tab", "shell tabs"),
                list(tabs)
            ),
            AliveReason::Processes { processes } => format!(
                "{} beyond the baseline ({})",
                n(processes.len(), "process", "processes"),
                list(processes)
            ),
            AliveReason::Cpu { percent, threshold } => {
                format!("CPU at {percent:.0}% (above {threshold:.0}%)")
            }
            AliveReason::Ports { ports } => format!(
                "published {} in use ({})",
                if ports.len() == 1 { "port" } else { "ports" },
                ports
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A workspace's activity as berth sees it at `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Activity {
    /// Last recorded use (Unix seconds); `None`: never used since berth recorded uses.
    pub last_used_at: Option<i64>,
    pub ttl: Ttl,
    /// When the TTL runs out: last use (else creation) plus the TTL; `None`: never.
    pub kill_after_at: Option<i64>,
    /// Seconds since the last use (else since creation).
    pub idle_for: u64,
    /// Empty: idle now. Only the signals the config counts are looked at.
    pub alive_because: Vec<AliveReason>,
}

impl Activity {
    /// Derives the deadline and the idle time from the recorded facts.
    pub fn derive(
        now: i64,
        created: i64,
        last_used_at: Option<i64>,
        ttl: Ttl,
        alive_because: Vec<AliveReason>,
    ) -> Self {
        let since = last_used_at.unwrap_or(created).max(created);
        Self {
            last_used_at,
            ttl,
            kill_after_at: ttl.after(since),
            idle_for: u64::try_from(now - since).unwrap_or(0),
            alive_because,
        }
    }

    pub fn is_alive(&self) -> bool {
        !self.alive_because.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_counts_from_the_last_use_else_creation() {
        let a = Activity::derive(1000, 100, None, Ttl::After(50), vec![]);
        assert_eq!(a.kill_after_at, Some(150));
        assert_eq!(a.idle_for, 900);
        let b = Activity::derive(1000, 100, Some(900), Ttl::After(50), vec![]);
        assert_eq!(b.kill_after_at, Some(950));
        assert_eq!(b.idle_for, 100);
        let c = Activity::derive(1000, 100, Some(900), Ttl::Never, vec![]);
        assert_eq!(c.kill_after_at, None);
        // A use recorded before a (re)creation under the same name does not count.
        let d = Activity::derive(1000, 500, Some(200), Ttl::After(50), vec![]);
        assert_eq!(d.kill_after_at, Some(550));
    }

    #[test]
    fn reasons_read_as_sentences_and_serialize_with_their_kind() {
        let r = AliveReason::SshSessions {
            sessions: vec!["pts/0".into(), "pts/1".into()],
        };
        assert_eq!(r.sentence(), "2 ssh sessions (pts/0, pts/1)");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["kind"], "ssh-sessions");
        let p = AliveReason::Processes {
            processes: (1..6).map(|i| format!("{i} sleep")).collect(),
        };
        assert!(p.sentence().ends_with("and 2 more)"), "{}", p.sentence());
        assert_eq!(
            AliveReason::Cpu {
                percent: 42.4,
                threshold: 10.0
            }
            .sentence(),
            "CPU at 42% (above 10%)"
        );
    }
}
