//! What a create refuses before anything is made: mounts over berth's own places,
//! published ports in the SSH range or twice, and the default directory for exec,
//! ssh and shells. Pure rules; the host checks (paths exist, ports free) are in
//! `backend::create_checks`.
use super::create_options::Options;
use super::net_profile::NetProfile;
use super::ports::PortRange;
use super::workspace::{REPO_DIR, WORKSPACE_HOME};
use std::collections::BTreeSet;

/// Where passed-through secrets live (a tmpfs): never mounted over.
const SECRETS_DIR: &str = "/run/berth";

/// Is `a` the same path as `b` or a directory above it?
fn covers(a: &str, b: &str) -> bool {
    a == "/" || a == b || b.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'))
}

/// Refuses a mount path that would hide the home volume or the secrets tmpfs.
pub fn check_mount_path(path: &str) -> Result<(), String> {
    if covers(path, WORKSPACE_HOME) {
        return Err(format!(
            "--mount at {path} would hide the workspace's home ({WORKSPACE_HOME}); mount below it, like {WORKSPACE_HOME}/src"
        ));
    }
    if covers(path, SECRETS_DIR) || covers(SECRETS_DIR, path) {
        return Err(format!(
            "--mount at {path} would cover {SECRETS_DIR}, where berth keeps the workspace's secrets; choose another path"
        ));
    }
    Ok(())
}

/// The rules on mounts and ports that need no host: each mount path allowed and
/// used once, each published host port outside the SSH range and used once.
pub fn check(options: &Options, ssh_range: PortRange) -> Result<(), String> {
    check_proxy(options)?;
    let mut paths = BTreeSet::new();
    for m in &options.mounts {
        check_mount_path(&m.path)?;
        // The engine's bind spelling is HOST:PATH[:MODE]; a ':' would split it wrongly.
        if m.host.to_string_lossy().contains(':') || m.path.contains(':') {
            return Err(format!(
                "cannot mount {}: berth cannot mount a path containing ':'; mount a parent directory or a link without one",
                m.host.display()
            ));
        }
        if !paths.insert(m.path.as_str()) {
            return Err(format!(
                "two mounts at {}; give each mount its own path inside",
                m.path
            ));
        }
    }
    let mut hosts = BTreeSet::new();
    for p in &options.ports {
        if ssh_range.contains(p.host) {
            return Err(format!(
                "--port {}:{}: host port {} is in berth's SSH port range ({}-{}); pick a port outside it",
                p.host, p.container, p.host, ssh_range.start, ssh_range.end
            ));
        }
        if !hosts.insert(p.host) {
            return Err(format!(
                "host port {} is published twice; give each --port its own host port",
                p.host
            ));
        }
    }
    check_offline(options)
}

/// An offline workspace has no network: nothing can be published on the host or
/// joined, and saying yes to either would defeat the profile.
fn check_offline(options: &Options) -> Result<(), String> {
    if options.net_profile != NetProfile::Offline {
        return Ok(());
    }
    if let Some(p) = options.ports.first() {
        return Err(format!(
            "--port {}:{} cannot be published by an offline workspace (it has no network, only lo); drop --port, or pick another --net-profile (isolated, open)",
            p.host, p.container
        ));
    }
    if let Some(n) = options.networks.first() {
        return Err(format!(
            "an offline workspace cannot join network {n} (it has no network, only lo); drop --network, or pick another --net-profile (isolated, open)"
        ));
    }
    Ok(())
}

/// A proxy workspace is on its internal network only: `--network` and `--port`
/// would give it another way out (or in), so they are refused.
fn check_proxy(options: &Options) -> Result<(), String> {
    if options.net_profile != super::net_profile::NetProfile::Proxy {
        return Ok(());
    }
    if let Some(n) = options.networks.first() {
        return Err(format!(
            "--network {n} cannot go with --net-profile proxy: the workspace's only way out is its proxy; leave out --network, or pick another profile (--net-profile isolated)"
        ));
    }
    if let Some(p) = options.ports.first() {
        return Err(format!(
            "--port {}:{} cannot go with --net-profile proxy: the engine publishes no port of a container on an internal network; reach its ports with `ssh -L` over its SSH port instead, or pick another profile (--net-profile isolated)",
            p.host, p.container
        ));
    }
    Ok(())
}

/// The default directory for exec, ssh and shells: `--workdir`, else the clone,
/// else none (the home, where ssh and the image start).
pub fn default_workdir(workdir: Option<&str>, cloned: bool) -> Option<String> {
    match (workdir, cloned) {
        (Some(w), _) => Some(w.to_string()),
        (None, true) => Some(REPO_DIR.to_string()),
        (None, false) => None,
    }
}

/// Does an engine message name host port `port` (e.g. "Bind for 127.0.0.1:8080
/// failed", "listen tcp4 0.0.0.0:8080: bind: address already in use")?
pub fn mentions_port(message: &str, port: u16) -> bool {
    let needle = format!(":{port}");
    message.match_indices(&needle).any(|(i, _)| {
        !message[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::create_options::{parse_mount, parse_port};
    use proptest::prelude::*;

    fn options(mounts: &[&str], ports: &[&str]) -> Options {
        Options {
            mounts: mounts.iter().map(|m| parse_mount(m).unwrap()).collect(),
            ports: ports.iter().map(|p| parse_port(p).unwrap()).collect(),
            ..Default::default()
        }
    }

    const RANGE: PortRange = PortRange {
        start: 2200,
        end: 2400,
    };

    #[test]
    fn mounts_below_the_home_and_elsewhere_are_fine() {
        for ok in [
            "/home/workspace/src",
            "/data",
            "/home/workspacex",
            "/run/other",
        ] {
            assert_eq!(check_mount_path(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn mounts_over_the_home_or_the_secrets_are_refused() {
        for (bad, word) in [
            ("/home/workspace", "home"),
            ("/home", "home"),
            ("/", "home"),
            ("/run/berth", "secrets"),
            ("/run/berth/env", "secrets"),
            ("/run", "secrets"),
        ] {
            let e = check_mount_path(bad).unwrap_err();
            assert!(e.contains(word), "{bad}: {e}");
        }
    }

    #[test]
    fn ports_in_the_ssh_range_or_twice_are_refused() {
        assert_eq!(check(&options(&["/a:/data"], &["8080:80"]), RANGE), Ok(()));
        let e = check(&options(&[], &["2300:80"]), RANGE).unwrap_err();
        assert!(e.contains("SSH port range (2200-2400)"), "{e}");
        let e = check(&options(&[], &["8080:80", "8080:81"]), RANGE).unwrap_err();
        assert!(e.contains("published twice"), "{e}");
        let e = check(&options(&["/a:/d", "/b:/d"], &[]), RANGE).unwrap_err();
        assert!(e.contains("two mounts at /d"), "{e}");
        let e = check(&options(&["/a:/home/workspace:ro"], &[]), RANGE).unwrap_err();
        assert!(e.contains("hide the workspace's home"), "{e}");
    }

    #[test]
    fn offline_refuses_ports_and_networks() {
        let mut o = options(&["/a:/data"], &[]);
        o.net_profile = NetProfile::Offline;
        assert_eq!(check(&o, RANGE), Ok(()));
        let mut p = options(&[], &["8080:80"]);
        p.net_profile = NetProfile::Offline;
        let e = check(&p, RANGE).unwrap_err();
        assert!(e.contains("--port 8080:80") && e.contains("offline"), "{e}");
        o.networks = vec![crate::domain::networks::NetworkName::parse("team").unwrap()];
        let e = check(&o, RANGE).unwrap_err();
        assert!(
            e.contains("network team") && e.contains("--net-profile"),
            "{e}"
        );
        o.net_profile = NetProfile::Isolated;
        assert_eq!(check(&o, RANGE), Ok(()));
    }

    #[test]
    fn a_proxy_workspace_refuses_networks_and_ports() {
        use crate::domain::net_profile::NetProfile;
        let mut o = options(&[], &["8080:80"]);
        assert!(check(&o, RANGE).is_ok());
        o.net_profile = NetProfile::Proxy;
        let e = check(&o, RANGE).unwrap_err();
        assert!(
            e.contains("--port 8080:80 cannot go with --net-profile proxy"),
            "{e}"
        );
        o.ports.clear();
        assert!(check(&o, RANGE).is_ok());
        o.networks = crate::domain::networks::parse_list(&["team".into()]).unwrap();
        let e = check(&o, RANGE).unwrap_err();
        assert!(
            e.contains("--network team cannot go with --net-profile proxy"),
            "{e}"
        );
    }

    #[test]
    fn the_default_workdir() {
        assert_eq!(default_workdir(Some("/w"), true).as_deref(), Some("/w"));
        assert_eq!(default_workdir(None, true).as_deref(), Some(REPO_DIR));
        assert_eq!(default_workdir(None, false), None);
    }

    #[test]
    fn engine_messages_naming_a_port() {
        let m = "driver failed programming external connectivity on endpoint workspace-a: Bind for 127.0.0.1:8080 failed: port is already allocated";
        assert!(mentions_port(m, 8080));
        assert!(!mentions_port(m, 808));
        assert!(!mentions_port(m, 80));
        assert!(mentions_port(
            "listen tcp4 0.0.0.0:3011: bind: address already in use",
            3011
        ));
    }

    proptest! {
        #[test]
        fn anything_below_the_home_is_allowed(rest in "[a-z0-9_-][a-z0-9._-]{0,11}(/[a-z0-9_-]{1,8}){0,3}") {
            let p = format!("{WORKSPACE_HOME}/{rest}");
            prop_assert_eq!(check_mount_path(&p), Ok(()));
        }
    }
}
