//! What the `open`, `isolated` and `offline` network profiles mean for a
//! workspace's container, and the rules of berth's shared isolated network. Pure.
//!
//! - `open`: the engine's default bridge (no network named on the container).
//! - `isolated`: one shared bridge berth makes on demand (default name
//!   [`DEFAULT_NETWORK`], config `[network] isolated_network`) with
//!   inter-container communication off: a workspace on it reaches the host side
//!   of the bridge and, through the engine's NAT, beyond; never another workspace.
//!   A dot in the name keeps it apart from named networks (`berth-NAME`) and
//!   workspace networks (`workspace-NAME`), whose names never hold one.
//! - `offline`: network mode `none` (only `lo`). Nothing can be published, so SSH
//!   goes through the engine: `ssh` runs `berth ssh-proxy NAME` as its
//!   `ProxyCommand`, which execs sshd in inetd mode inside (`sshd -i`).
use super::net_profile::NetProfile;
use std::collections::BTreeMap;

/// Default name of berth's shared isolated network.
pub const DEFAULT_NETWORK: &str = "berth.isolated";
/// Role of that network (so berth never adopts a network it did not make).
pub const ROLE_ISOLATED_NETWORK: &str = "isolated-network";
/// The engine's network mode with no network at all.
pub const NO_NETWORK: &str = "none";

/// The network a workspace's container is created on: `None` for the engine's
/// default bridge. (`proxy` is decided by its own module; `None` here.)
pub fn container_network(profile: NetProfile, isolated: &str) -> Option<String> {
    match profile {
        NetProfile::Open | NetProfile::Proxy => None,
        NetProfile::Isolated => Some(isolated.to_string()),
        NetProfile::Offline => Some(NO_NETWORK.to_string()),
    }
}

/// Does a workspace with this profile publish ports on the host (its SSH port
/// among them)? Not when it has no network.
pub fn publishes_ports(profile: NetProfile) -> bool {
    profile != NetProfile::Offline
}

/// Is SSH reached through the engine (an exec) rather than a host port?
pub fn ssh_through_engine(profile: NetProfile) -> bool {
    profile == NetProfile::Offline
}

/// "SSH port 2201", or how an offline workspace is reached, for messages.
pub fn ssh_summary(port: Option<u16>, profile: NetProfile) -> String {
    match port {
        Some(p) => format!("SSH port {p}"),
        None if ssh_through_engine(profile) => "SSH through the engine, no port".into(),
        None => "no SSH port".into(),
    }
}

/// Refuses `what` (a service, a network to join) for workspace `ws` when it is
/// offline: it has no network to put anything on.
pub fn refuse_offline(profile: NetProfile, ws: &str, what: &str) -> Result<(), String> {
    if profile != NetProfile::Offline {
        return Ok(());
    }
    Err(format!(
        "workspace {ws} is offline (no network, only lo), so it cannot {what}; a workspace that needs it must be created with another --net-profile (isolated, open)"
    ))
}

/// Why `raw` cannot name the isolated network (config `[network] isolated_network`).
pub fn check_network_name(raw: &str) -> Result<(), String> {
    let ok_chars = raw
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let first_ok = raw
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if raw.is_empty() || raw.len() > 128 || !ok_chars || !first_ok {
        return Err(format!(
            "{raw:?} is not a network name; use letters, digits, '.', '_' and '-', starting with a letter or digit (like {DEFAULT_NETWORK})"
        ));
    }
    if matches!(raw, "bridge" | "host" | "none" | "default") {
        return Err(format!(
            "{raw:?} is one of the engine's own networks; name berth's isolated network something else (like {DEFAULT_NETWORK})"
        ));
    }
    if !raw.contains('.') {
        return Err(format!(
            "{raw:?} could be taken by a named network or a workspace's network; put a '.' in it (like {DEFAULT_NETWORK})"
        ));
    }
    Ok(())
}

/// The labels berth puts on the isolated network it makes.
pub fn network_labels(extra: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut l = extra.clone();
    l.insert(super::labels::ROLE.into(), ROLE_ISOLATED_NETWORK.into());
    l
}

/// What the engine says about an existing network of the isolated network's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'a> {
    pub name: &'a str,
    pub driver: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub icc: bool,
    pub internal: bool,
}

/// Refuses an existing network berth may not use as its isolated network: one it
/// did not make, or one whose inter-container communication is on (workspaces on
/// it would reach each other), or one with no way out.
pub fn check_found(f: &Found<'_>) -> Result<(), String> {
    let ours = f.labels.get(super::labels::ROLE).map(String::as_str) == Some(ROLE_ISOLATED_NETWORK);
    let fix = format!(
        "remove it (`docker network rm {}`) or set another name in [network] isolated_network",
        f.name
    );
    if !ours {
        return Err(format!(
            "a network named {} exists that berth did not make; berth will not put isolated workspaces on it: {fix}",
            f.name
        ));
    }
    if f.icc {
        return Err(format!(
            "network {} has inter-container communication on, so isolated workspaces on it would reach each other: {fix}",
            f.name
        ));
    }
    if f.internal || f.driver != "bridge" {
        return Err(format!(
            "network {} is not a routed bridge (driver {}, internal {}): isolated workspaces need a way out; {fix}",
            f.name, f.driver, f.internal
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_profile_gets_its_network() {
        assert_eq!(container_network(NetProfile::Open, "x.y"), None);
        assert_eq!(
            container_network(NetProfile::Isolated, "x.y").as_deref(),
            Some("x.y")
        );
        assert_eq!(
            container_network(NetProfile::Offline, "x.y").as_deref(),
            Some("none")
        );
        assert!(!publishes_ports(NetProfile::Offline) && publishes_ports(NetProfile::Isolated));
        assert!(ssh_through_engine(NetProfile::Offline));
        assert_eq!(
            ssh_summary(Some(2201), NetProfile::Isolated),
            "SSH port 2201"
        );
        assert!(ssh_summary(None, NetProfile::Offline).contains("through the engine"));
        assert!(!ssh_through_engine(NetProfile::Open));
    }

    #[test]
    fn offline_workspaces_refuse_services_and_networks() {
        assert_eq!(refuse_offline(NetProfile::Isolated, "a", "join x"), Ok(()));
        let e = refuse_offline(NetProfile::Offline, "a", "join network team").unwrap_err();
        assert!(
            e.contains("workspace a is offline") && e.contains("join network team"),
            "{e}"
        );
    }

    #[test]
    fn names_that_could_collide_are_refused() {
        assert_eq!(check_network_name(DEFAULT_NETWORK), Ok(()));
        assert_eq!(check_network_name("berth.isolated.r1-case"), Ok(()));
        for (bad, word) in [
            ("", "not a network name"),
            (".x", "not a network name"),
            ("a b.c", "not a network name"),
            ("none", "engine's own"),
            ("bridge", "engine's own"),
            ("berth-team", "put a '.'"),
            ("workspace-a", "put a '.'"),
        ] {
            let e = check_network_name(bad).unwrap_err();
            assert!(e.contains(word), "{bad}: {e}");
        }
    }

    #[test]
    fn only_our_own_network_with_icc_off_is_used() {
        let ours = network_labels(&[("t".to_string(), "1".to_string())].into());
        let found = |labels, icc, internal| Found {
            name: "berth.isolated",
            driver: "bridge",
            labels,
            icc,
            internal,
        };
        assert_eq!(check_found(&found(&ours, false, false)), Ok(()));
        let theirs = BTreeMap::new();
        let e = check_found(&found(&theirs, false, false)).unwrap_err();
        assert!(
            e.contains("did not make") && e.contains("docker network rm"),
            "{e}"
        );
        let e = check_found(&found(&ours, true, false)).unwrap_err();
        assert!(e.contains("inter-container communication on"), "{e}");
        let e = check_found(&found(&ours, false, true)).unwrap_err();
        assert!(e.contains("way out"), "{e}");
    }
}
