//! Container runtimes (runc, runsc, ...): whether each one works, when a check is
//! stale, and the sentences berth says about them. Pure: the clock is passed in.
//!
//! A runtime is healthy when a tiny probe container started with it runs and exits
//! 0 (see `backend::runtime_health`). A runtime the engine has not registered is
//! never replaced by another one: the create is refused with how to register it.
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often a running berth checks every registered runtime.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);
/// A check this recent is reused (a create right after one does not probe again).
pub const FRESH_FOR: Duration = Duration::from_secs(30);
/// A probe that has not exited by then has failed (its container is removed).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
/// Where the engine's config registers runtimes.
pub const DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// What berth knows of one runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Health {
    /// A probe container ran with it and exited 0.
    Healthy,
    /// A probe failed: why, in a sentence.
    Unhealthy { reason: String },
    /// The engine has no runtime of that name.
    Unregistered,
    /// Not checked (yet, or it could not be: `why`).
    Unchecked { why: String },
}

impl Health {
    pub fn is_healthy(&self) -> bool {
        matches!(self, Health::Healthy)
    }

    /// A short word for lists and the status pane.
    pub fn word(&self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unhealthy { .. } => "UNHEALTHY",
            Health::Unregistered => "not registered",
            Health::Unchecked { .. } => "unchecked",
        }
    }
}

/// One runtime's latest check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub runtime: String,
    pub health: Health,
    /// How long the probe took (zero when none ran).
    pub took: Duration,
    pub at: Instant,
}

impl Checked {
    /// Recent enough to be reused instead of probing again.
    pub fn is_fresh(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.at) <= FRESH_FOR
    }
}

/// Every registered runtime's latest check, and which one the engine uses when a
/// container names none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub default: String,
    pub registered: Vec<String>,
    pub checks: BTreeMap<String, Checked>,
}

impl Report {
    /// What berth knows of `runtime` (the engine's default when `None`).
    pub fn health(&self, runtime: Option<&str>) -> Health {
        let name = resolve(runtime, &self.default);
        if !self.registered.contains(&name) {
            return Health::Unregistered;
        }
        self.checks
            .get(&name)
            .map(|c| c.health.clone())
            .unwrap_or_else(|| Health::Unchecked {
                why: "not checked yet".into(),
            })
    }

    /// The runtimes whose last check failed, by name.
    pub fn unhealthy(&self) -> Vec<&Checked> {
        self.checks
            .values()
            .filter(|c| matches!(c.health, Health::Unhealthy { .. }))
            .collect()
    }

    /// A line for a banner when a runtime is unhealthy, else `None`.
    pub fn banner(&self) -> Option<String> {
        let bad = self.unhealthy();
        let first = bad.first()?;
        let Health::Unhealthy { reason } = &first.health else {
            return None;
        };
        let more = match bad.len() {
            1 => String::new(),
            n => format!(" (and {} more: `berth doctor` lists them)", n - 1),
        };
        Some(format!(
            "runtime {} is UNHEALTHY: {reason}; new workspaces cannot use it{more}",
            first.runtime
        ))
    }
}

/// containerd's own names for its runc shims, which Docker 20.10 lists among the
/// runtimes; they are runc by another name, so berth does not check them apart.
pub fn is_shim_alias(name: &str) -> bool {
    name.starts_with("io.containerd.")
}

/// The registered runtimes worth checking: all but containerd's shim aliases.
pub fn to_check(registered: &[String]) -> Vec<String> {
    registered
        .iter()
        .filter(|r| !is_shim_alias(r))
        .cloned()
        .collect()
}

/// The runtime a container asking for `requested` gets.
pub fn resolve(requested: Option<&str>, default: &str) -> String {
    match requested.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => r.to_string(),
        None => default.to_string(),
    }
}

/// A workspace's runtime for people, naming the engine's default explicitly:
/// `runc (engine default)`, `runsc`.
pub fn describe(runtime: Option<&str>, default: &str) -> String {
    let name = resolve(runtime, default);
    match (name.is_empty(), name == default) {
        (true, _) => "the engine's default".into(),
        (false, true) => format!("{name} (engine default)"),
        (false, false) => name,
    }
}

/// How to register `name` with the engine.
pub fn registration_hint(name: &str) -> String {
    if name == "runsc" {
        return format!(
            "install gVisor (`sudo apt-get install runsc`), register it in {DAEMON_JSON} as \
             {{\"runtimes\": {{\"runsc\": {{\"path\": \"/usr/bin/runsc\", \"runtimeArgs\": [\"--network=host\"]}}}}}} \
             and restart dockerd (`sudo scripts/engine.sh ensure` in berth's checkout does all \
             three). --network=host is needed on this kernel and engine: with gVisor's own \
             network stack every container fails to start (\"cannot run with network enabled in \
             root network namespace\"); with it, the sandbox uses the network namespace Docker \
             made for the container, so published ports and networks work as with runc"
        );
    }
    format!(
        "register it in {DAEMON_JSON} as {{\"runtimes\": {{\"{name}\": {{\"path\": \"/path/to/{name}\"}}}}}} \
         and restart dockerd"
    )
}

/// The sentence when `name` is not registered (`registered` are the engine's).
pub fn unregistered(name: &str, registered: &[String]) -> String {
    let have = to_check(registered);
    let have = if have.is_empty() {
        "none".to_string()
    } else {
        have.join(", ")
    };
    format!(
        "runtime {name:?} is not registered with the container engine (it has: {have}); {}. \
         berth never falls back to another runtime",
        registration_hint(name)
    )
}

/// Why a create on `name` is refused, or `None` when it may go ahead.
pub fn refusal(name: &str, health: &Health, registered: &[String]) -> Option<String> {
    match health {
        Health::Healthy => None,
        Health::Unregistered => Some(unregistered(name, registered)),
        Health::Unhealthy { reason } => Some(format!(
            "runtime {name} is unhealthy: {reason}. berth does not create workspaces on it; \
             fix the runtime (`berth doctor` checks it again) or choose another with --runtime \
             (registered: {})",
            to_check(registered).join(", ")
        )),
        Health::Unchecked { why } => Some(format!(
            "runtime {name} could not be checked ({why}), so berth does not create a workspace on it"
        )),
    }
}

/// What a probe container's end says about its runtime.
pub fn judge(exit_code: Option<i64>, timed_out: bool, output: &str) -> Health {
    let said = last_words(output);
    match (timed_out, exit_code) {
        (true, _) => Health::Unhealthy {
            reason: format!(
                "a probe container did not exit within {} s{said}",
                PROBE_TIMEOUT.as_secs()
            ),
        },
        (false, Some(0)) => Health::Healthy,
        (false, Some(code)) => Health::Unhealthy {
            reason: format!("a probe container (`true`) exited with {code}{said}"),
        },
        (false, None) => Health::Unhealthy {
            reason: format!("a probe container ended without an exit code{said}"),
        },
    }
}

/// The engine's refusal to create or start a probe container, as a health.
pub fn failed_to_run(error: &str) -> Health {
    Health::Unhealthy {
        reason: format!("a probe container could not run: {}", one_line(error)),
    }
}

/// The probe's last output line, as `: LINE` (empty when it printed nothing).
fn last_words(output: &str) -> String {
    output
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| format!(": {}", one_line(l)))
        .unwrap_or_default()
}

/// At most 300 characters on one line.
fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &joined[..i]),
        None => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn checked(runtime: &str, health: Health, at: Instant) -> Checked {
        Checked {
            runtime: runtime.into(),
            health,
            took: Duration::from_millis(300),
            at,
        }
    }

    #[test]
    fn the_engine_default_is_named_explicitly() {
        assert_eq!(describe(None, "runc"), "runc (engine default)");
        assert_eq!(describe(Some("runc"), "runc"), "runc (engine default)");
        assert_eq!(describe(Some("runsc"), "runc"), "runsc");
        assert_eq!(describe(Some("runsc"), "runsc"), "runsc (engine default)");
        assert_eq!(describe(Some(" "), "runc"), "runc (engine default)");
        assert_eq!(describe(None, ""), "the engine's default");
        assert_eq!(describe(Some("runsc"), ""), "runsc");
    }

    #[test]
    fn shim_aliases_are_not_checked_apart() {
        let reg = names(&["io.containerd.runc.v2", "runc", "runsc"]);
        assert_eq!(to_check(&reg), ["runc", "runsc"]);
    }

    #[test]
    fn freshness_ends_after_thirty_seconds() {
        let t0 = Instant::now();
        let c = checked("runc", Health::Healthy, t0);
        assert!(c.is_fresh(t0));
        assert!(c.is_fresh(t0 + FRESH_FOR));
        assert!(!c.is_fresh(t0 + FRESH_FOR + Duration::from_millis(1)));
        // A clock that went backwards (another Instant source) counts as fresh.
        assert!(checked("runc", Health::Healthy, t0 + Duration::from_secs(5)).is_fresh(t0));
    }

    #[test]
    fn a_report_answers_for_every_runtime() {
        let t0 = Instant::now();
        let mut r = Report {
            default: "runc".into(),
            registered: names(&["runc", "runsc"]),
            checks: BTreeMap::new(),
        };
        assert!(matches!(r.health(None), Health::Unchecked { .. }));
        assert_eq!(r.health(Some("nosuch")), Health::Unregistered);
        r.checks
            .insert("runc".into(), checked("runc", Health::Healthy, t0));
        let bad = Health::Unhealthy {
            reason: "exited with 1".into(),
        };
        r.checks
            .insert("runsc".into(), checked("runsc", bad.clone(), t0));
        assert_eq!(r.health(None), Health::Healthy);
        assert_eq!(r.health(Some("runsc")), bad);
        assert_eq!(r.unhealthy().len(), 1);
        let b = r.banner().unwrap();
        assert!(b.contains("runsc is UNHEALTHY: exited with 1"), "{b}");
        r.checks.remove("runsc");
        assert_eq!(r.banner(), None);
    }

    #[test]
    fn probes_are_judged_by_their_exit() {
        assert_eq!(judge(Some(0), false, ""), Health::Healthy);
        let Health::Unhealthy { reason } = judge(Some(127), false, "x\nexec: true: not found\n\n")
        else {
            panic!()
        };
        assert_eq!(
            reason,
            "a probe container (`true`) exited with 127: exec: true: not found"
        );
        let Health::Unhealthy { reason } = judge(None, true, "") else {
            panic!()
        };
        assert!(reason.contains("did not exit within 30 s"), "{reason}");
        // Even exit 0 after the timeout is a failure: the probe was killed.
        assert!(!judge(Some(0), true, "").is_healthy());
        let Health::Unhealthy { reason } = failed_to_run(&"no\nluck ".repeat(200)) else {
            panic!()
        };
        assert!(reason.starts_with("a probe container could not run: no luck no luck"));
        assert!(reason.chars().count() < 350 && !reason.contains('\n'));
    }

    #[test]
    fn refusals_say_what_to_do() {
        let reg = names(&["io.containerd.runc.v2", "runc", "runsc"]);
        assert_eq!(refusal("runc", &Health::Healthy, &reg), None);
        let m = refusal("nosuch", &Health::Unregistered, &reg).unwrap();
        assert!(m.contains("\"nosuch\" is not registered"), "{m}");
        assert!(m.contains("(it has: runc, runsc)"), "{m}");
        assert!(
            m.contains(DAEMON_JSON) && m.contains("restart dockerd"),
            "{m}"
        );
        assert!(m.contains("never falls back"), "{m}");
        let m = refusal("runsc", &Health::Unregistered, &names(&["runc"])).unwrap();
        assert!(
            m.contains(r#""runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=host"]}"#),
            "{m}"
        );
        assert!(m.contains("cannot run with network enabled"), "{m}");
        let bad = Health::Unhealthy {
            reason: "a probe container (`true`) exited with 1".into(),
        };
        let m = refusal("runsc", &bad, &reg).unwrap();
        assert!(
            m.contains("runsc is unhealthy: a probe") && m.contains("--runtime"),
            "{m}"
        );
        let m = refusal("runc", &Health::Unchecked { why: "x".into() }, &reg).unwrap();
        assert!(m.contains("could not be checked (x)"), "{m}");
    }

    #[test]
    fn health_serializes_with_its_state() {
        let v = serde_json::to_value(Health::Unhealthy { reason: "r".into() }).unwrap();
        assert_eq!(v, serde_json::json!({"state": "unhealthy", "reason": "r"}));
        let v = serde_json::to_value(Health::Healthy).unwrap();
        assert_eq!(v, serde_json::json!({"state": "healthy"}));
    }
}
