//! `[cleanup]`: how the cleanup job runs (`berth gc`, the daemon, the TUI): how
//! often, when an idle workspace is stopped, what happens to unsaved work found in
//! an expired one, and how long failing engine calls are retried.
use super::ConfigError;
use crate::domain::cleanup::Policy;
use crate::domain::ttl::Ttl;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What to do with unsaved work found in a workspace whose TTL ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unpushed {
    /// Snapshot it, then delete once the snapshot is complete.
    #[default]
    Snapshot,
    /// Keep the workspace (stopped), and say so.
    Refuse,
}

impl Unpushed {
    pub fn word(&self) -> &'static str {
        match self {
            Unpushed::Snapshot => "snapshot",
            Unpushed::Refuse => "refuse",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupConfig {
    /// How often the job runs (the daemon, the TUI).
    pub interval: Duration,
    /// Running workspaces unused this long are stopped.
    pub stop_after_idle: Ttl,
    pub unpushed: Unpushed,
    /// How long a failing stop or removal is retried (with backoff) before giving up.
    pub retry_for: Duration,
}

impl Default for CleanupConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60 * 60),
            stop_after_idle: Ttl::Never,
            unpushed: Unpushed::Snapshot,
            retry_for: crate::domain::backoff::DEFAULT_TOTAL,
        }
    }
}

impl CleanupConfig {
    pub fn policy(&self) -> Policy {
        Policy {
            stop_after_idle: self.stop_after_idle,
        }
    }

    pub fn toml(&self) -> String {
        format!(
            "\n[cleanup]\ninterval = \"{}\"\nstop_after_idle = \"{}\"\nunpushed = \"{}\"\nretry_for = \"{}\"\n",
            Ttl::After(self.interval.as_secs()),
            self.stop_after_idle,
            self.unpushed.word(),
            Ttl::After(self.retry_for.as_secs()),
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "interval": Ttl::After(self.interval.as_secs()).to_string(),
            "stop_after_idle": self.stop_after_idle.to_string(),
            "unpushed": self.unpushed.word(),
            "retry_for": Ttl::After(self.retry_for.as_secs()).to_string(),
        })
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCleanup {
    interval: Option<toml::Spanned<String>>,
    stop_after_idle: Option<toml::Spanned<String>>,
    unpushed: Option<toml::Spanned<String>>,
    retry_for: Option<toml::Spanned<String>>,
}

/// A duration that must be one (not "never").
fn duration(
    v: toml::Spanned<String>,
    field: &str,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<Duration, ConfigError> {
    let at = v.span().start;
    match Ttl::parse(v.get_ref()) {
        Ok(Ttl::After(s)) => Ok(Duration::from_secs(s)),
        Ok(Ttl::Never) => Err(err_at(
            at,
            format!("cleanup.{field}: must be a duration such as 60m or 2h, not never"),
        )),
        Err(e) => Err(err_at(at, format!("cleanup.{field}: {e}"))),
    }
}

pub(super) fn apply(
    cfg: &mut CleanupConfig,
    raw: RawCleanup,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(v) = raw.interval {
        cfg.interval = duration(v, "interval", err_at)?;
    }
    if let Some(v) = raw.retry_for {
        cfg.retry_for = duration(v, "retry_for", err_at)?;
    }
    if let Some(v) = raw.stop_after_idle {
        cfg.stop_after_idle = Ttl::parse(v.get_ref())
            .map_err(|e| err_at(v.span().start, format!("cleanup.stop_after_idle: {e}")))?;
    }
    if let Some(v) = raw.unpushed {
        cfg.unpushed = match v.get_ref().trim() {
            "snapshot" => Unpushed::Snapshot,
            "refuse" => Unpushed::Refuse,
            other => {
                return Err(err_at(
                    v.span().start,
                    format!("cleanup.unpushed: {other:?} is not a choice; write \"snapshot\" (snapshot the work, then delete) or \"refuse\" (keep the workspace)"),
                ))
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn defaults_values_and_errors_with_their_line() {
        let d = Config::default().cleanup;
        assert_eq!(d.interval, Duration::from_secs(3600));
        assert_eq!(d.retry_for, Duration::from_secs(900));
        assert_eq!(d.stop_after_idle, Ttl::Never);
        assert_eq!(d.unpushed, Unpushed::Snapshot);
        let c = Config::parse(
            "[cleanup]\ninterval = \"10m\"\nstop_after_idle = \"12h\"\nunpushed = \"refuse\"\nretry_for = \"30s\"\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.cleanup.interval, Duration::from_secs(600));
        assert_eq!(c.cleanup.stop_after_idle, Ttl::After(12 * 3600));
        assert_eq!(c.cleanup.unpushed, Unpushed::Refuse);
        assert_eq!(c.cleanup.retry_for, Duration::from_secs(30));
        assert!(c.to_toml().contains("[cleanup]\ninterval = \"10m\""));
        for (text, line, field) in [
            ("[cleanup]\n\nunpushed = \"maybe\"\n", 3, "cleanup.unpushed"),
            ("[cleanup]\ninterval = \"never\"\n", 2, "cleanup.interval"),
            ("[cleanup]\nretry_for = \"soon\"\n", 2, "cleanup.retry_for"),
            (
                "[cleanup]\nstop_after_idle = \"x\"\n",
                2,
                "cleanup.stop_after_idle",
            ),
        ] {
            let e = Config::parse(text, "c.toml").unwrap_err();
            assert_eq!(e.line, line, "{text}");
            assert!(e.msg.contains(field), "{}", e.msg);
        }
        assert!(Config::parse("[cleanup]\nbogus = 1\n", "c.toml").is_err());
    }
}
