//! `[lifetime]`: how long new workspaces live (`berth create --ttl` overrides).
use super::ConfigError;
use crate::domain::ttl::Ttl;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LifetimeConfig {
    /// The TTL of workspaces that were given none: deleted by the cleanup job once
    /// unused this long (work found in them is snapshotted first). Never by default.
    pub ttl: Ttl,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLifetime {
    ttl: Option<toml::Spanned<String>>,
}

pub(super) fn apply(
    cfg: &mut LifetimeConfig,
    raw: RawLifetime,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(t) = raw.ttl {
        cfg.ttl = Ttl::parse(t.get_ref())
            .map_err(|e| err_at(t.span().start, format!("lifetime.ttl: {e}")))?;
    }
    Ok(())
}

impl LifetimeConfig {
    /// The `[lifetime]` table for `berth config show`.
    pub fn toml(&self) -> String {
        format!("\n[lifetime]\nttl = \"{}\"\n", self.ttl)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "ttl": self.ttl.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::domain::ttl::Ttl;

    #[test]
    fn the_default_ttl_is_read_checked_and_shown() {
        assert_eq!(Config::default().lifetime.ttl, Ttl::Never);
        let c = Config::parse("[lifetime]\nttl = \"3d\"\n", "c.toml").unwrap();
        assert_eq!(c.lifetime.ttl, Ttl::After(3 * 86_400));
        assert!(c.to_toml().contains("[lifetime]\nttl = \"3d\""));
        let e = Config::parse("[lifetime]\nttl = \"soon\"\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("lifetime.ttl"), "{}", e.msg);
    }
}
