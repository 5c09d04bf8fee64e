//! The cleanup policy: per workspace, from its state, its activity and the config,
//! keep it, stop it (idle too long) or delete it (its TTL ran out), with the reason
//! as a sentence. Pure: the clock is an argument. A workspace that counts as alive
//! is never stopped or deleted; one whose create has not finished is left alone.
use super::activity::Activity;
use super::provision::Provision;
use super::ttl::{compact, Ttl};
use super::workspace::WorkspaceState;
use serde::Serialize;

/// What the cleanup job does with one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Keep,
    Stop,
    Delete,
}

impl Decision {
    pub fn word(&self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Stop => "stop",
            Decision::Delete => "delete",
        }
    }
}

/// A decision and why, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    pub why: String,
}

impl Verdict {
    fn new(decision: Decision, why: impl Into<String>) -> Self {
        Self {
            decision,
            why: why.into(),
        }
    }
}

/// What the policy needs from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// A running workspace unused this long is stopped (never by default).
    pub stop_after_idle: Ttl,
}

/// What the policy looks at for one workspace.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub state: WorkspaceState,
    pub provision: &'a Provision,
    pub activity: &'a Activity,
}

/// "2h ago" style: seconds from `then` to `now`, compact.
fn ago(now: i64, then: i64) -> String {
    compact(u64::try_from(now - then).unwrap_or(0))
}

/// Keep, stop or delete `s` at `now`.
pub fn decide(now: i64, s: Subject<'_>, policy: &Policy) -> Verdict {
    if !s.provision.is_ready() {
        return Verdict::new(
            Decision::Keep,
            "its create has not finished: left for `berth create` to finish or `berth delete` to remove",
        );
    }
    let a = s.activity;
    if a.is_alive() {
        let why: Vec<String> = a.alive_because.iter().map(|r| r.sentence()).collect();
        return Verdict::new(Decision::Keep, format!("alive: {}", why.join("; ")));
    }
    match s.state {
        WorkspaceState::Running | WorkspaceState::Stopped | WorkspaceState::Created => {}
        WorkspaceState::Paused => {
            return Verdict::new(
                Decision::Keep,
                "paused (a snapshot may be running, or it was paused by hand)",
            )
        }
        other => {
            return Verdict::new(
                Decision::Keep,
                format!("{}: looked at again on the next round", other.as_str()),
            )
        }
    }
    let idle = compact(a.idle_for);
    if let Some(deadline) = a.kill_after_at.filter(|d| *d <= now) {
        return Verdict::new(
            Decision::Delete,
            format!(
                "TTL {} expired {} ago (idle for {idle})",
                a.ttl,
                ago(now, deadline)
            ),
        );
    }
    let ttl_left = match a.kill_after_at {
        Some(d) => format!("TTL {} runs out in {}", a.ttl, compact((d - now) as u64)),
        None => "no TTL".to_string(),
    };
    if s.state == WorkspaceState::Running {
        if let Some(limit) = policy.stop_after_idle.secs() {
            if a.idle_for >= limit {
                return Verdict::new(
                    Decision::Stop,
                    format!(
                        "idle for {idle} (stop after {}); {ttl_left}",
                        policy.stop_after_idle
                    ),
                );
            }
            return Verdict::new(
                Decision::Keep,
                format!(
                    "idle for {idle}, stops after {} idle; {ttl_left}",
                    policy.stop_after_idle
                ),
            );
        }
    }
    Verdict::new(Decision::Keep, format!("idle for {idle}; {ttl_left}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::AliveReason;

    const H: i64 = 3600;
    const NOW: i64 = 1_000_000;

    fn activity(created: i64, used: Option<i64>, ttl: Ttl, alive: Vec<AliveReason>) -> Activity {
        Activity::derive(NOW, created, used, ttl, alive)
    }

    fn decide_for(state: WorkspaceState, a: &Activity, stop_after: Ttl) -> Verdict {
        let p = Provision::Ready;
        let s = Subject {
            state,
            provision: &p,
            activity: a,
        };
        decide(
            NOW,
            s,
            &Policy {
                stop_after_idle: stop_after,
            },
        )
    }

    #[test]
    fn an_expired_ttl_deletes_and_says_how_long_ago() {
        let a = activity(
            NOW - 5 * 86_400,
            Some(NOW - 74 * H),
            Ttl::After(3 * 86_400),
            vec![],
        );
        let v = decide_for(WorkspaceState::Stopped, &a, Ttl::Never);
        assert_eq!(v.decision, Decision::Delete);
        assert_eq!(v.why, "TTL 3d expired 2h ago (idle for 3d2h)");
        // Running ones too (the job stops them before it looks for work).
        let v = decide_for(WorkspaceState::Running, &a, Ttl::Never);
        assert_eq!(v.decision, Decision::Delete);
    }

    #[test]
    fn a_ttl_not_yet_out_keeps_and_says_when() {
        let a = activity(NOW - 10 * H, None, Ttl::After(12 * H as u64), vec![]);
        let v = decide_for(WorkspaceState::Stopped, &a, Ttl::Never);
        assert_eq!(v.decision, Decision::Keep);
        assert_eq!(v.why, "idle for 10h; TTL 12h runs out in 2h");
        // The deadline itself counts as expired.
        let a = activity(NOW - 12 * H, None, Ttl::After(12 * H as u64), vec![]);
        assert_eq!(
            decide_for(WorkspaceState::Stopped, &a, Ttl::Never).decision,
            Decision::Delete
        );
    }

    #[test]
    fn idle_running_workspaces_stop_after_the_configured_time_only() {
        let a = activity(NOW - 20 * H, Some(NOW - 13 * H), Ttl::Never, vec![]);
        let v = decide_for(WorkspaceState::Running, &a, Ttl::After(12 * H as u64));
        assert_eq!(v.decision, Decision::Stop);
        assert_eq!(v.why, "idle for 13h (stop after 12h); no TTL");
        let v = decide_for(WorkspaceState::Running, &a, Ttl::After(14 * H as u64));
        assert_eq!(v.decision, Decision::Keep);
        assert_eq!(v.why, "idle for 13h, stops after 14h idle; no TTL");
        // Never: idle for ever is fine.
        let v = decide_for(WorkspaceState::Running, &a, Ttl::Never);
        assert_eq!(v.decision, Decision::Keep);
        // A stopped one is not stopped again.
        let v = decide_for(WorkspaceState::Stopped, &a, Ttl::After(H as u64));
        assert_eq!(v.decision, Decision::Keep);
    }

    #[test]
    fn an_alive_workspace_is_never_touched_whatever_its_ttl_and_idle_time() {
        let reasons = vec![AliveReason::SshSessions {
            sessions: vec!["pts/0 from 127.0.0.1".into()],
        }];
        let a = activity(NOW - 30 * 86_400, None, Ttl::After(60), reasons);
        let v = decide_for(WorkspaceState::Running, &a, Ttl::After(60));
        assert_eq!(v.decision, Decision::Keep);
        assert_eq!(v.why, "alive: 1 ssh session (pts/0 from 127.0.0.1)");
    }

    #[test]
    fn unfinished_and_paused_workspaces_are_left_alone() {
        let a = activity(NOW - 30 * 86_400, None, Ttl::After(60), vec![]);
        let p = Provision::Incomplete {
            step: Some("clone".into()),
            index: 3,
            total: 9,
        };
        let s = Subject {
            state: WorkspaceState::Stopped,
            provision: &p,
            activity: &a,
        };
        let v = decide(NOW, s, &Policy::default());
        assert_eq!(v.decision, Decision::Keep);
        assert!(v.why.contains("create has not finished"), "{}", v.why);
        let v = decide_for(WorkspaceState::Paused, &a, Ttl::After(60));
        assert_eq!(v.decision, Decision::Keep);
        let v = decide_for(WorkspaceState::Removing, &a, Ttl::After(60));
        assert_eq!(v.decision, Decision::Keep);
    }
}
