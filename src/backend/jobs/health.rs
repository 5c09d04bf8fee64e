//! The health job (read-only): the engine reachable, and every registered runtime
//! healthy (`backend::runtime_health` probes them). It says what it finds on its
//! first run, then only the changes: the engine unreachable or back, a runtime
//! unhealthy or healthy again.
use super::{Job, JobOutcome};
use crate::backend::{runtime_health, Ctx};
use crate::config::Config;
use crate::domain::runtime::{Health as RuntimeHealth, Report};
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// What the last run saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `Err(why)`: the engine could not be asked.
    pub engine: Result<(), String>,
    /// Each runtime checked: `Err(why)` when unhealthy.
    pub runtimes: BTreeMap<String, Result<(), String>>,
}

impl Seen {
    /// What a report (or the error asking for one) says.
    pub fn of(report: Result<&Report, String>) -> Self {
        match report {
            Err(why) => Seen {
                engine: Err(why),
                runtimes: BTreeMap::new(),
            },
            Ok(r) => Seen {
                engine: Ok(()),
                runtimes: r
                    .checks
                    .iter()
                    .filter_map(|(name, c)| {
                        let h = match &c.health {
                            RuntimeHealth::Healthy => Ok(()),
                            RuntimeHealth::Unhealthy { reason } => Err(reason.clone()),
                            // Not checked this time (no image to probe with): no news.
                            RuntimeHealth::Unchecked { .. } | RuntimeHealth::Unregistered => {
                                return None
                            }
                        };
                        Some((name.clone(), h))
                    })
                    .collect(),
            },
        }
    }
}

/// The sentences for going from `before` (None: the first run) to `now`.
pub fn changes(before: Option<&Seen>, now: &Seen) -> Vec<String> {
    let mut lines = Vec::new();
    match (before.map(|b| &b.engine), &now.engine) {
        (None | Some(Ok(())), Err(why)) => lines.push(format!("engine unreachable: {why}")),
        (Some(Err(_)), Ok(())) => lines.push("engine reachable again".into()),
        (None, Ok(())) => {
            let healthy: Vec<&str> = now
                .runtimes
                .iter()
                .filter(|(_, h)| h.is_ok())
                .map(|(n, _)| n.as_str())
                .collect();
            lines.push(match healthy.is_empty() {
                true => "engine reachable".into(),
                false => format!("engine reachable; runtimes healthy: {}", healthy.join(", ")),
            });
        }
        (Some(Err(_)), Err(_)) | (Some(Ok(())), Ok(())) => {}
    }
    for (name, h) in &now.runtimes {
        let was = before.and_then(|b| b.runtimes.get(name));
        match (was, h) {
            (None | Some(Ok(())), Err(why)) => {
                lines.push(format!("runtime {name} is UNHEALTHY: {why}"))
            }
            (Some(Err(_)), Ok(())) => lines.push(format!("runtime {name} is healthy again")),
            _ => {}
        }
    }
    lines
}

/// How often by default (the TUI checks runtimes this often too).
pub const EVERY: Duration = crate::domain::runtime::CHECK_EVERY;

/// The health job; it remembers what its last run saw.
#[derive(Default)]
pub struct Health {
    last: Mutex<Option<Seen>>,
}

#[async_trait::async_trait]
impl Job for Health {
    fn name(&self) -> &'static str {
        "health"
    }

    fn acting(&self) -> bool {
        false
    }

    fn interval(&self, config: &Config) -> Option<Duration> {
        config.jobs.health_interval
    }

    async fn run(&self, ctx: &Ctx, _now: i64) -> anyhow::Result<JobOutcome> {
        let report = runtime_health::report(ctx).await;
        let seen = Seen::of(report.as_ref().map_err(|e| e.to_string()));
        // Locked briefly, never across an await (runs never overlap anyway).
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let lines = changes(last.as_ref(), &seen);
        *last = Some(seen);
        Ok(JobOutcome::said(lines))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(engine: Result<(), &str>, rt: &[(&str, Result<(), &str>)]) -> Seen {
        Seen {
            engine: engine.map_err(String::from),
            runtimes: rt
                .iter()
                .map(|(n, h)| (n.to_string(), h.map_err(String::from)))
                .collect(),
        }
    }

    #[test]
    fn the_first_run_says_what_it_finds_then_only_changes() {
        let up = seen(Ok(()), &[("runc", Ok(())), ("runsc", Ok(()))]);
        assert_eq!(
            changes(None, &up),
            ["engine reachable; runtimes healthy: runc, runsc"]
        );
        assert!(changes(Some(&up), &up).is_empty());
        let sick = seen(Ok(()), &[("runc", Ok(())), ("runsc", Err("exit 1"))]);
        assert_eq!(
            changes(Some(&up), &sick),
            ["runtime runsc is UNHEALTHY: exit 1"]
        );
        assert!(changes(Some(&sick), &sick).is_empty());
        assert_eq!(
            changes(Some(&sick), &up),
            ["runtime runsc is healthy again"]
        );
        let down = seen(Err("no socket"), &[]);
        assert_eq!(changes(Some(&up), &down), ["engine unreachable: no socket"]);
        assert!(changes(Some(&down), &down).is_empty());
        assert_eq!(changes(Some(&down), &up), ["engine reachable again"]);
        assert_eq!(
            changes(None, &down),
            ["engine unreachable: no socket"],
            "a daemon started without an engine says so"
        );
    }

    #[test]
    fn a_runtime_unhealthy_from_the_start_is_said() {
        let sick = seen(Ok(()), &[("runsc", Err("no kvm"))]);
        assert_eq!(
            changes(None, &sick),
            ["engine reachable", "runtime runsc is UNHEALTHY: no kvm"]
        );
    }
}
