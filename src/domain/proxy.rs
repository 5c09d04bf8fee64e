//! Network profile `proxy`: the facts about a proxy workspace and its egress proxy
//! sidecar, pure. The workspace sits only on its own INTERNAL network
//! (`workspace-NAME`, see `domain::networks::workspace_network`), which has no
//! route out; the sidecar `workspace-NAME.proxy` is on that network as `proxy` and
//! on the engine's default bridge, runs Squid on port 3128 (every request logged to
//! its standard output as `domain::egress::SQUID_LOGFORMAT`, domains off the
//! allowlist denied) and carries the workspace's SSH port: the engine publishes no
//! port of a container whose only network is internal, so the sidecar publishes it
//! and forwards each connection to the workspace's sshd (socat).
use super::egress::{PROXY_KIND, SQUID_LOGFORMAT};
use super::naming::WorkspaceName;
use super::workspace::SSHD_CONTAINER_PORT;
use std::collections::BTreeMap;

/// The sidecar's kind (its container is `workspace-NAME.proxy`).
pub const KIND: &str = PROXY_KIND;
/// The sidecar's DNS name on the workspace's internal network.
pub const ALIAS: &str = "proxy";
/// Squid's port.
pub const PORT: u16 = 3128;
/// What the workspace's proxy variables say.
pub const URL: &str = "http://proxy:3128";
/// The sidecar's port that carries SSH to the workspace (published on the host's
/// bind address at the workspace's SSH port).
pub const SSH_FORWARD_PORT: u16 = 2222;
/// The network with a way out the sidecar is also on: the engine's default bridge.
pub const OUTSIDE_NETWORK: &str = "bridge";
/// Repository of the proxy image; its tag is the definition's hash.
pub const IMAGE_REPO: &str = "berth/proxy";
/// On a proxy workspace: its allowlist, comma-separated (absent: every domain).
pub const ALLOW_LABEL: &str = "dev.berth.allow-domains";
/// The sidecar's memory limit (Squid without a cache, and socat).
pub const MEMORY_BYTES: i64 = 256 * 1024 * 1024;
/// Processes the sidecar may run (Squid, its helpers, one socat per SSH session).
pub const PIDS_LIMIT: i64 = 256;
/// The user the sidecar runs as (Debian's Squid user): nothing in it is root.
pub const USER: &str = "proxy";
/// Ports a request (or a CONNECT tunnel) may go to: 80, 443 and the unprivileged
/// ones; the other well-known ports (SMTP, SSH, ...) are denied.
pub const SAFE_PORTS: &str = "80 443 1025-65535";
/// apt's proxy settings, written into the workspace: apt run as root (a profile's
/// setup, `docker exec -u root`) goes through the proxy whatever its environment.
pub const APT_CONF_PATH: &str = "/etc/apt/apt.conf.d/80berth-proxy";

/// The proxy image's tag for a definition hash.
pub fn image_tag(definition_hash: &str) -> String {
    format!("{IMAGE_REPO}:{definition_hash}")
}

/// The allowlist as the workspace's label records it.
pub fn allow_label(domains: &[String]) -> String {
    domains.join(",")
}

/// The allowlist from a workspace's label (absent or empty: none).
pub fn allow_from_label(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(String::from)
        .collect()
}

/// A workspace's allowlist, from its labels.
pub fn allowlist(labels: &BTreeMap<String, String>) -> Vec<String> {
    allow_from_label(labels.get(ALLOW_LABEL).map(String::as_str))
}

/// The allowlist as Squid takes it: sorted, without duplicates, and without any
/// entry a `.domain` entry already covers (Squid refuses to start when one domain
/// of a `dstdomain` list is a subdomain of another).
pub fn normalize_allowlist(domains: &[String]) -> Vec<String> {
    let covered_by = |d: &str, w: &str| {
        // `.w.test` covers `w.test`, `x.w.test` and `.x.w.test`.
        w.starts_with('.') && d != w && (d == &w[1..] || d.ends_with(w))
    };
    let mut out: Vec<String> = domains
        .iter()
        .filter(|d| !domains.iter().any(|w| covered_by(d, w)))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The allowlist in words, for status and the create output.
pub fn describe_allowlist(domains: &[String]) -> String {
    if domains.is_empty() {
        "every domain (each request logged)".into()
    } else {
        format!("only {} (others denied, 403)", domains.join(", "))
    }
}

/// A proxy workspace's way out, in one line for status (`None`: not a proxy
/// workspace): its sidecar and what it lets through.
pub fn status_line(w: &super::workspace::Workspace) -> Option<String> {
    let profile = w.labels.get(super::net_profile::LABEL).map(String::as_str);
    if super::net_profile::NetProfile::from_label(profile) != super::net_profile::NetProfile::Proxy
    {
        return None;
    }
    let sidecar = WorkspaceName::parse(&w.name).ok()?.sidecar(KIND);
    Some(format!(
        "via {sidecar} ({URL}); allows {}",
        describe_allowlist(&allowlist(&w.labels))
    ))
}

/// The variables a proxy workspace gets: the proxy for HTTP and HTTPS in both
/// spellings, and what goes direct (itself, and `direct`: its services' names).
pub fn workspace_env(direct: &[String]) -> Vec<(String, String)> {
    let mut no_proxy = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    no_proxy.extend(direct.iter().cloned());
    let no_proxy = no_proxy.join(",");
    [
        ("HTTP_PROXY", URL),
        ("HTTPS_PROXY", URL),
        ("http_proxy", URL),
        ("https_proxy", URL),
        ("NO_PROXY", no_proxy.as_str()),
        ("no_proxy", no_proxy.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Is `name` one of the proxy variables [`workspace_env`] sets?
pub fn is_proxy_var(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "http_proxy" | "https_proxy" | "no_proxy"
    )
}

/// The sidecar's configuration (its entrypoint turns it into squid.conf; the
/// entrypoint checks each domain again). `domains` must be checked domains
/// (`config::network::check_domain`): this is not the place that checks them.
pub fn sidecar_env(domains: &[String], ws: &WorkspaceName) -> Vec<String> {
    vec![
        format!("BERTH_ALLOW_DOMAINS={}", domains.join(" ")),
        format!("BERTH_SSH_TARGET={}:{SSHD_CONTAINER_PORT}", ws.container()),
        format!("BERTH_SAFE_PORTS={SAFE_PORTS}"),
        format!("BERTH_LOGFORMAT={SQUID_LOGFORMAT}"),
    ]
}

/// apt's configuration file in a proxy workspace.
pub fn apt_conf() -> String {
    format!(
        "// berth: this workspace reaches the network only through its proxy sidecar\nAcquire::http::Proxy \"{URL}\";\nAcquire::https::Proxy \"{URL}\";\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowlist_round_trips_through_its_label() {
        let d = vec!["deb.debian.org".to_string(), ".pypi.org".into()];
        assert_eq!(allow_from_label(Some(&allow_label(&d))), d);
        assert!(allow_from_label(None).is_empty());
        assert!(allow_from_label(Some("")).is_empty());
        let mut l = BTreeMap::new();
        l.insert(ALLOW_LABEL.to_string(), "a.test, .b.test".to_string());
        assert_eq!(allowlist(&l), ["a.test", ".b.test"]);
        assert_eq!(
            describe_allowlist(&d),
            "only deb.debian.org, .pypi.org (others denied, 403)"
        );
        assert!(describe_allowlist(&[]).starts_with("every domain"));
    }

    #[test]
    fn entries_a_wildcard_covers_are_dropped_so_squid_starts() {
        let d: Vec<String> = [
            "b.test",
            "a.test",
            ".a.test",
            "x.a.test",
            ".y.a.test",
            "b.test",
            "aa.test",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(normalize_allowlist(&d), [".a.test", "aa.test", "b.test"]);
        assert!(normalize_allowlist(&[]).is_empty());
    }

    #[test]
    fn the_workspace_gets_both_spellings_and_no_proxy_for_itself_and_its_services() {
        let env: BTreeMap<String, String> = workspace_env(&["db".into()]).into_iter().collect();
        for k in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
            assert_eq!(env[k], "http://proxy:3128", "{k}");
            assert!(is_proxy_var(k));
        }
        assert_eq!(env["NO_PROXY"], "localhost,127.0.0.1,::1,db");
        assert_eq!(env["no_proxy"], env["NO_PROXY"]);
        assert!(!is_proxy_var("PATH"));
    }

    #[test]
    fn the_sidecar_is_told_the_allowlist_its_workspace_and_the_log_format() {
        let ws = WorkspaceName::parse("w").unwrap();
        let env = sidecar_env(&["a.test".into(), ".b.test".into()], &ws);
        assert!(env.contains(&"BERTH_ALLOW_DOMAINS=a.test .b.test".to_string()));
        assert!(env.contains(&format!(
            "BERTH_SSH_TARGET=workspace-w:{SSHD_CONTAINER_PORT}"
        )));
        assert!(env.contains(&format!("BERTH_LOGFORMAT={SQUID_LOGFORMAT}")));
        assert_eq!(image_tag("abc"), "berth/proxy:abc");
        assert!(apt_conf().contains("Acquire::http::Proxy \"http://proxy:3128\";"));
    }
}
