//! `[docker]`: Docker inside workspaces (`berth create --docker`).
use super::ConfigError;
use crate::domain::dind::check_mirror;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockerConfig {
    /// Handed to each new workspace's inner dockerd as `--registry-mirror`.
    pub registry_mirror: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDocker {
    registry_mirror: Option<toml::Spanned<String>>,
}

pub(super) fn apply(
    cfg: &mut DockerConfig,
    raw: RawDocker,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(m) = raw.registry_mirror {
        let url = m.get_ref().trim();
        if url.is_empty() {
            cfg.registry_mirror = None;
        } else {
            check_mirror(url)
                .map_err(|e| err_at(m.span().start, format!("docker.registry_mirror: {e}")))?;
            cfg.registry_mirror = Some(url.to_string());
        }
    }
    Ok(())
}

impl DockerConfig {
    /// The `[docker]` table for `berth config show`.
    pub fn toml(&self) -> String {
        format!(
            "\n[docker]\nregistry_mirror = {}\n",
            toml::Value::String(self.registry_mirror.clone().unwrap_or_default())
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "registry_mirror": self.registry_mirror })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn a_registry_mirror_is_read_checked_and_shown() {
        let c = Config::parse(
            "[docker]\nregistry_mirror = \"http://10.0.0.5:5000\"\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(
            c.docker.registry_mirror.as_deref(),
            Some("http://10.0.0.5:5000")
        );
        assert_eq!(Config::parse(&c.to_toml(), "x").unwrap(), c);
        assert_eq!(
            c.to_json()["docker"]["registry_mirror"],
            "http://10.0.0.5:5000"
        );
        let e =
            Config::parse("\n[docker]\nregistry_mirror = \"mirror:5000\"\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("docker.registry_mirror"), "{e}");
        let e =
            Config::parse("[docker]\nregistry_mirror = \"https://u:p@m\"\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("credential") && !e.to_string().contains("u:p"));
        let c = Config::parse("[docker]\nregistry_mirror = \"\"\n", "c.toml").unwrap();
        assert_eq!(c.docker.registry_mirror, None);
    }
}
