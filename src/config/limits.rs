//! `[limits]`: how many workspaces may run at once, and when berth raises an alert
//! (a workspace's home past a size, berth's workspaces together past a share of the
//! host). See `domain::limits` and `domain::alerts`.
use super::ConfigError;
use crate::domain::limits::{format_size, parse_size};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Running workspaces allowed at once; 0: no limit.
    pub max_concurrent: usize,
    /// A workspace whose home volume is larger than this raises an alert; `None`: never.
    pub disk_alert_bytes: Option<u64>,
    /// berth's workspaces together past this percent of the host's CPUs, memory or
    /// disk raise an alert.
    pub alert_threshold_pct: u8,
}

/// The default per-workspace disk alert.
pub const DEFAULT_DISK_ALERT: u64 = 20 << 30;

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 0,
            disk_alert_bytes: Some(DEFAULT_DISK_ALERT),
            alert_threshold_pct: 80,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    max_concurrent: Option<toml::Spanned<i64>>,
    disk_alert: Option<toml::Spanned<String>>,
    alert_threshold_pct: Option<toml::Spanned<i64>>,
}

pub(super) fn apply(
    cfg: &mut LimitsConfig,
    raw: RawLimits,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(m) = raw.max_concurrent {
        let v = *m.get_ref();
        if !(0..=10_000).contains(&v) {
            return Err(err_at(
                m.span().start,
                "limits.max_concurrent: must be a number of workspaces from 0 (no limit) to 10000"
                    .into(),
            ));
        }
        cfg.max_concurrent = v as usize;
    }
    if let Some(d) = raw.disk_alert {
        let t = d.get_ref().trim();
        cfg.disk_alert_bytes = if t.is_empty() || t == "0" || t == "off" {
            None
        } else {
            Some(
                parse_size(t)
                    .map_err(|e| err_at(d.span().start, format!("limits.disk_alert: {e}")))?,
            )
        };
    }
    if let Some(p) = raw.alert_threshold_pct {
        let v = *p.get_ref();
        if !(1..=100).contains(&v) {
            return Err(err_at(
                p.span().start,
                "limits.alert_threshold_pct: must be a percent from 1 to 100".into(),
            ));
        }
        cfg.alert_threshold_pct = v as u8;
    }
    Ok(())
}

impl LimitsConfig {
    fn disk_alert_text(&self) -> String {
        self.disk_alert_bytes.map(format_size).unwrap_or_default()
    }

    /// The `[limits]` table for `berth config show`.
    pub fn toml(&self) -> String {
        format!(
            "\n[limits]\nmax_concurrent = {}\ndisk_alert = {}\nalert_threshold_pct = {}\n",
            self.max_concurrent,
            toml::Value::String(self.disk_alert_text()),
            self.alert_threshold_pct
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "max_concurrent": self.max_concurrent,
            "disk_alert": self.disk_alert_text(),
            "disk_alert_bytes": self.disk_alert_bytes,
            "alert_threshold_pct": self.alert_threshold_pct,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn limits_are_read_checked_and_shown() {
        let d = Config::default().limits;
        assert_eq!(
            (d.max_concurrent, d.disk_alert_bytes, d.alert_threshold_pct),
            (0, Some(20 << 30), 80)
        );
        let c = Config::parse(
            "[limits]\nmax_concurrent = 3\ndisk_alert = \"512m\"\nalert_threshold_pct = 5\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.limits.max_concurrent, 3);
        assert_eq!(c.limits.disk_alert_bytes, Some(512 << 20));
        assert_eq!(c.limits.alert_threshold_pct, 5);
        assert_eq!(Config::parse(&c.to_toml(), "x").unwrap(), c);
        let off = Config::parse("[limits]\ndisk_alert = \"\"\n", "c.toml").unwrap();
        assert_eq!(off.limits.disk_alert_bytes, None);
        assert_eq!(Config::parse(&off.to_toml(), "x").unwrap(), off);
        for (text, field) in [
            ("[limits]\nmax_concurrent = -1\n", "limits.max_concurrent"),
            ("[limits]\ndisk_alert = \"lots\"\n", "limits.disk_alert"),
            (
                "[limits]\nalert_threshold_pct = 0\n",
                "limits.alert_threshold_pct",
            ),
            (
                "[limits]\nalert_threshold_pct = 101\n",
                "limits.alert_threshold_pct",
            ),
        ] {
            let e = Config::parse(text, "c.toml").unwrap_err();
            assert_eq!(e.line, 2, "{text}");
            assert!(e.msg.contains(field), "{}", e.msg);
        }
    }
}
