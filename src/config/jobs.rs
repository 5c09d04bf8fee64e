//! `[jobs]`: how often the background jobs without a section of their own run
//! (`berth daemon`, or the TUI holding the jobs lock). Cleanup's interval lives in
//! its own section.
use super::ConfigError;
use crate::domain::ttl::{compact, Ttl};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsConfig {
    /// The health job (engine reachable, runtimes healthy); `None`: off.
    pub health_interval: Option<Duration>,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            health_interval: Some(crate::domain::runtime::CHECK_EVERY),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJobs {
    health_interval: Option<toml::Spanned<String>>,
}

/// An interval: a duration (at least one second) or "never" (turned off).
fn interval(text: &str) -> Result<Option<Duration>, String> {
    match Ttl::parse(text) {
        Ok(Ttl::Never) => Ok(None),
        Ok(Ttl::After(0)) => Err(format!(
            "{text:?} is no interval; write at least 1s, or \"never\" to turn the job off"
        )),
        Ok(Ttl::After(s)) => Ok(Some(Duration::from_secs(s))),
        Err(e) => Err(format!("{e}")),
    }
}

fn interval_text(d: Option<Duration>) -> String {
    d.map(|d| compact(d.as_secs()))
        .unwrap_or_else(|| "never".into())
}

pub(super) fn apply(
    cfg: &mut JobsConfig,
    raw: RawJobs,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(t) = raw.health_interval {
        cfg.health_interval = interval(t.get_ref())
            .map_err(|e| err_at(t.span().start, format!("jobs.health_interval: {e}")))?;
    }
    Ok(())
}

impl JobsConfig {
    /// The `[jobs]` table for `berth config show`.
    pub fn toml(&self) -> String {
        format!(
            "\n[jobs]\nhealth_interval = \"{}\"\n",
            interval_text(self.health_interval)
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "health_interval": interval_text(self.health_interval) })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::time::Duration;

    #[test]
    fn the_health_interval_is_read_checked_and_shown() {
        let d = Config::default().jobs.health_interval;
        assert_eq!(d, Some(Duration::from_secs(30)));
        let c = Config::parse("[jobs]\nhealth_interval = \"5m\"\n", "c.toml").unwrap();
        assert_eq!(c.jobs.health_interval, Some(Duration::from_secs(300)));
        assert!(c.to_toml().contains("[jobs]\nhealth_interval = \"5m\""));
        let c = Config::parse("[jobs]\nhealth_interval = \"never\"\n", "c.toml").unwrap();
        assert_eq!(c.jobs.health_interval, None);
        assert_eq!(Config::parse(&c.to_toml(), "x").unwrap(), c);
        for bad in ["soon", "0s"] {
            let text = format!("[jobs]\nhealth_interval = \"{bad}\"\n");
            let e = Config::parse(&text, "c.toml").unwrap_err();
            assert_eq!(e.line, 2);
            assert!(e.msg.contains("jobs.health_interval"), "{}", e.msg);
        }
    }
}
