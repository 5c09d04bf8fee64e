//! `[pool]`: how many warm workspaces of each profile wait, pre-booted, for a
//! `berth create` to claim (`general = 2`). None by default.
use super::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The most warm workspaces one profile may keep waiting.
pub const MAX_POOL_SIZE: i64 = 16;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolConfig {
    /// Profile name -> how many slots of it to keep ready (0 entries are dropped).
    pub sizes: BTreeMap<String, usize>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(transparent)]
pub(super) struct RawPool(BTreeMap<String, toml::Spanned<toml::Value>>);

pub(super) fn apply(
    cfg: &mut PoolConfig,
    raw: RawPool,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    for (profile, v) in raw.0 {
        let at = v.span().start;
        if profile.is_empty()
            || !profile
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err_at(
                at,
                format!("pool.{profile}: a profile name (lowercase letters, digits, hyphens) is expected as the key, e.g. `general = 2`"),
            ));
        }
        let n = match v.get_ref() {
            toml::Value::Integer(n) if (0..=MAX_POOL_SIZE).contains(n) => *n as usize,
            other => {
                return Err(err_at(
                    at,
                    format!(
                        "pool.{profile}: must be a whole number of warm workspaces between 0 and {MAX_POOL_SIZE} (got {other})"
                    ),
                ))
            }
        };
        if n == 0 {
            cfg.sizes.remove(&profile);
        } else {
            cfg.sizes.insert(profile, n);
        }
    }
    Ok(())
}

impl PoolConfig {
    /// How many slots of `profile` to keep ready (0: no pool).
    pub fn size(&self, profile: &str) -> usize {
        self.sizes.get(profile).copied().unwrap_or(0)
    }

    /// The `[pool]` table for `berth config show`.
    pub fn toml(&self) -> String {
        let mut out = String::from("\n[pool]\n");
        for (p, n) in &self.sizes {
            out.push_str(&format!("{p} = {n}\n"));
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!(self.sizes)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn pool_sizes_are_read_checked_and_shown() {
        assert!(Config::default().pool.sizes.is_empty());
        let c = Config::parse("[pool]\ngeneral = 2\npython = 0\n", "c.toml").unwrap();
        assert_eq!(c.pool.size("general"), 2);
        assert_eq!(c.pool.size("python"), 0);
        assert!(c.to_toml().contains("[pool]\ngeneral = 2\n"));
        for (bad, what) in [
            ("[pool]\ngeneral = 99\n", "between 0 and 16"),
            ("[pool]\ngeneral = \"two\"\n", "whole number"),
            ("[pool]\ngeneral = -1\n", "between 0 and 16"),
            ("[pool]\n\"Gen eral\" = 1\n", "profile name"),
        ] {
            let e = Config::parse(bad, "c.toml").unwrap_err();
            assert_eq!(e.line, 2, "{bad}");
            assert!(e.msg.contains("pool.") && e.msg.contains(what), "{}", e.msg);
        }
    }
}
