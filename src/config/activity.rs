//! `[activity]`: what counts as a workspace being in use right now (`berth
//! status`, the status pane, the cleanup job).
use super::ConfigError;
use serde::Deserialize;

/// The signals that can keep a workspace alive (`AliveReason::kind`).
pub const SIGNALS: [&str; 5] = ["ssh", "shells", "processes", "cpu", "ports"];

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityConfig {
    /// Which of [`SIGNALS`] count (each at most once, in the order of SIGNALS).
    pub count: Vec<String>,
    /// CPU use (percent of one core) above which the workspace counts as busy.
    pub cpu_threshold_pct: f64,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        Self {
            count: SIGNALS.iter().map(|s| s.to_string()).collect(),
            cpu_threshold_pct: 10.0,
        }
    }
}

impl ActivityConfig {
    pub fn counts(&self, signal: &str) -> bool {
        self.count.iter().any(|c| c == signal)
    }

    /// The `[activity]` table for `berth config show`.
    pub fn toml(&self) -> String {
        let list: Vec<String> = self.count.iter().map(|c| format!("\"{c}\"")).collect();
        format!(
            "\n[activity]\ncount = [{}]\ncpu_threshold_pct = {}\n",
            list.join(", "),
            toml::Value::Float(self.cpu_threshold_pct)
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "count": self.count, "cpu_threshold_pct": self.cpu_threshold_pct })
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActivity {
    count: Option<toml::Spanned<Vec<String>>>,
    cpu_threshold_pct: Option<toml::Spanned<toml::Value>>,
}

pub(super) fn apply(
    cfg: &mut ActivityConfig,
    raw: RawActivity,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(c) = raw.count {
        let at = c.span().start;
        let mut count = Vec::new();
        for s in c.into_inner() {
            let s = s.trim().to_ascii_lowercase();
            if !SIGNALS.contains(&s.as_str()) {
                return Err(err_at(
                    at,
                    format!(
                        "activity.count: {s:?} is not a signal; use any of {}",
                        SIGNALS.join(", ")
                    ),
                ));
            }
            count.push(s);
        }
        cfg.count = SIGNALS
            .iter()
            .filter(|s| count.iter().any(|c| c == *s))
            .map(|s| s.to_string())
            .collect();
    }
    if let Some(t) = raw.cpu_threshold_pct {
        let v = match t.get_ref() {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            _ => f64::NAN,
        };
        if !(v.is_finite() && v > 0.0 && v <= 100_000.0) {
            return Err(err_at(
                t.span().start,
                format!("activity.cpu_threshold_pct: {} is not a percentage; write a number above 0 (percent of one core, e.g. 10)", t.get_ref()),
            ));
        }
        cfg.cpu_threshold_pct = v;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn what_counts_is_read_checked_and_shown() {
        let d = Config::default().activity;
        assert!(d.counts("ssh") && d.counts("cpu") && d.counts("shells"));
        assert_eq!(d.cpu_threshold_pct, 10.0);
        let c = Config::parse("[activity]\ncpu_threshold_pct = 25\n", "c.toml").unwrap();
        assert_eq!(c.activity.cpu_threshold_pct, 25.0);
        assert!(Config::parse("[activity]\ncpu_threshold_pct = \"high\"\n", "c").is_err());
        let c = Config::parse(
            "[activity]\ncount = [\"processes\", \"ssh\", \"ssh\"]\ncpu_threshold_pct = 25.0\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.activity.count, ["ssh", "processes"]);
        assert!(!c.activity.counts("cpu"));
        assert_eq!(Config::parse(&c.to_toml(), "x").unwrap(), c);
        assert_eq!(c.to_json()["activity"]["cpu_threshold_pct"], 25.0);
        let e = Config::parse("[activity]\n\ncount = [\"tabs\"]\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.msg.contains("activity.count") && e.msg.contains("shells"),
            "{}",
            e.msg
        );
        let e = Config::parse("[activity]\ncpu_threshold_pct = -1.0\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("activity.cpu_threshold_pct"), "{}", e.msg);
        let none = Config::parse("[activity]\ncount = []\n", "c.toml").unwrap();
        assert!(none.activity.count.is_empty());
    }
}
