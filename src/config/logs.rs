//! `[logs]`: where new workspaces forward their logs (`berth create --forward-logs`).
use super::ConfigError;
use crate::domain::log_forward::Target;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogsConfig {
    /// The default target of new workspaces; `None`: no forwarding.
    pub forward: Option<Target>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLogs {
    forward: Option<toml::Spanned<String>>,
}

pub(super) fn apply(
    cfg: &mut LogsConfig,
    raw: RawLogs,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(f) = raw.forward {
        cfg.forward = Target::parse(f.get_ref())
            .map_err(|e| err_at(f.span().start, format!("logs.forward: {e}")))?;
    }
    Ok(())
}

impl LogsConfig {
    /// The `[logs]` table for `berth config show`.
    pub fn toml(&self) -> String {
        format!(
            "\n[logs]\nforward = {}\n",
            toml::Value::String(self.target_text())
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "forward": self.forward.as_ref().map(|t| t.to_string()) })
    }

    fn target_text(&self) -> String {
        self.forward
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::domain::log_forward::Target;

    #[test]
    fn the_default_target_is_read_checked_and_shown() {
        assert_eq!(Config::default().logs.forward, None);
        let c = Config::parse("[logs]\nforward = \"syslog+udp://127.0.0.1\"\n", "c.toml").unwrap();
        assert_eq!(
            c.logs.forward,
            Target::parse("syslog+udp://127.0.0.1:514").unwrap()
        );
        assert_eq!(Config::parse(&c.to_toml(), "x").unwrap(), c);
        assert_eq!(c.to_json()["logs"]["forward"], "syslog+udp://127.0.0.1:514");
        let off = Config::parse("[logs]\nforward = \"\"\n", "c.toml").unwrap();
        assert_eq!(off.logs.forward, None);
        let e = Config::parse("\n[logs]\nforward = \"logs.txt\"\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("logs.forward"), "{e}");
    }
}
