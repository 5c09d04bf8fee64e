//! `[network]`: the network profile of new workspaces and the proxy's allowlist
//! (`berth create --net-profile`, `--allow-domain`).
use super::ConfigError;
use crate::domain::net_isolation;
use crate::domain::net_profile::NetProfile;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Profile of new workspaces (default `isolated`).
    pub profile: NetProfile,
    /// For the `proxy` profile: the only domains its proxy lets through (a
    /// leading dot takes subdomains too). Empty: every domain, each request logged.
    pub allow_domains: Vec<String>,
    /// The engine name of berth's shared network for `isolated` workspaces
    /// (default `berth.isolated`; tests give each run its own).
    pub isolated_network: String,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            profile: NetProfile::default(),
            allow_domains: Vec::new(),
            isolated_network: net_isolation::DEFAULT_NETWORK.to_string(),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    profile: Option<toml::Spanned<String>>,
    allow_domains: Option<toml::Spanned<Vec<String>>>,
    isolated_network: Option<toml::Spanned<String>>,
}

/// A domain for the allowlist (`example.com`, `.example.com` for it and its
/// subdomains), lowercased; or a sentence saying what is wrong with it.
pub fn check_domain(raw: &str) -> Result<String, String> {
    let d = raw.trim().to_ascii_lowercase();
    let bare = d.strip_prefix('.').unwrap_or(&d);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if bare.is_empty() || bare.len() > 253 || !bare.split('.').all(label_ok) {
        return Err(format!(
            "{raw:?} is not a domain; write it like example.com, or .example.com for it and its subdomains"
        ));
    }
    Ok(d)
}

pub(super) fn apply(
    cfg: &mut NetworkConfig,
    raw: RawNetwork,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(p) = raw.profile {
        cfg.profile = NetProfile::parse(p.get_ref())
            .map_err(|e| err_at(p.span().start, format!("network.profile: {e}")))?;
    }
    if let Some(list) = raw.allow_domains {
        let at = list.span().start;
        cfg.allow_domains = list
            .into_inner()
            .iter()
            .map(|d| check_domain(d))
            .collect::<Result<_, _>>()
            .map_err(|e| err_at(at, format!("network.allow_domains: {e}")))?;
    }
    if let Some(n) = raw.isolated_network {
        net_isolation::check_network_name(n.get_ref())
            .map_err(|e| err_at(n.span().start, format!("network.isolated_network: {e}")))?;
        cfg.isolated_network = n.into_inner();
    }
    Ok(())
}

impl NetworkConfig {
    /// The `[network]` table for `berth config show`.
    pub fn toml(&self) -> String {
        let domains: Vec<toml::Value> = self
            .allow_domains
            .iter()
            .map(|d| toml::Value::String(d.clone()))
            .collect();
        format!(
            "\n[network]\nprofile = {}\nallow_domains = {}\nisolated_network = {}\n",
            toml::Value::String(self.profile.to_string()),
            toml::Value::Array(domains),
            toml::Value::String(self.isolated_network.clone())
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "profile": self.profile,
            "allow_domains": self.allow_domains,
            "isolated_network": self.isolated_network,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_profile_and_allowlist_are_read_checked_and_shown() {
        let c = Config::default();
        assert_eq!(c.network.profile, NetProfile::Isolated);
        let c = Config::parse(
            "[network]\nprofile = \"proxy\"\nallow_domains = [\"Deb.Debian.org\", \".pypi.org\"]\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.network.profile, NetProfile::Proxy);
        assert_eq!(c.network.allow_domains, ["deb.debian.org", ".pypi.org"]);
        assert_eq!(Config::parse(&c.to_toml(), "x").unwrap(), c);
        assert_eq!(c.to_json()["network"]["profile"], "proxy");
        let e = Config::parse("\n[network]\nprofile = \"closed\"\n", "c.toml").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.to_string().contains("open, isolated, proxy, offline"),
            "{e}"
        );
        let e = Config::parse("[network]\nallow_domains = [\"a b\"]\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("not a domain"), "{e}");
        let c = Config::parse(
            "[network]\nisolated_network = \"berth.isolated.t1\"\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.network.isolated_network, "berth.isolated.t1");
        assert_eq!(Config::parse(&c.to_toml(), "x").unwrap(), c);
        let e = Config::parse("[network]\nisolated_network = \"berth-x\"\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("network.isolated_network"), "{e}");
    }

    #[test]
    fn domains_are_checked() {
        assert_eq!(check_domain(" .Example.COM ").unwrap(), ".example.com");
        for bad in ["", ".", "a..b", "-a.b", "a_b.c", "http://a.b", "a.b/x"] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }
}
