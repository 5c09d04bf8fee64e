//! Client-side SSH files: pinned host keys, `ssh` arguments, and `~/.ssh/berth.d`.
use crate::config::Paths;
use anyhow::{Context, Result};
use std::net::IpAddr;
use std::path::PathBuf;

use crate::domain::workspace::WORKSPACE_USER;

/// Address a client uses to reach a port published on `bind`.
pub fn connect_host(bind: IpAddr) -> String {
    if bind.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        bind.to_string()
    }
}

/// The known_hosts file holding one workspace's pinned host key.
pub fn known_hosts_file(paths: &Paths, alias: &str) -> PathBuf {
    paths.known_hosts_dir().join(alias)
}

/// Parses `ssh-ed25519 AAAA... comment` into (type, key).
pub fn parse_public_key(line: &str) -> Option<(String, String)> {
    let mut parts = line.split_whitespace();
    let kind = parts.next()?;
    let key = parts.next()?;
    (kind.starts_with("ssh-") || kind.starts_with("ecdsa-") || kind.starts_with("sk-"))
        .then(|| (kind.to_string(), key.to_string()))
}

/// Writes the pinned host key for `alias` (atomic replace).
pub fn pin_host_key(paths: &Paths, alias: &str, kind: &str, key: &str) -> Result<PathBuf> {
    let file = known_hosts_file(paths, alias);
    crate::private_fs::ensure_dir(&paths.state_dir)?;
    crate::private_fs::write_private(&file, format!("{alias} {kind} {key}\n").as_bytes())?;
    Ok(file)
}

/// How ssh reaches a workspace with its pinned key: the same options for a command
/// line and for an ssh config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub alias: String,
    pub host: String,
    pub port: u16,
    pub identities: Vec<PathBuf>,
    /// Forward the client's ssh-agent (workspaces made with `--forward-ssh`).
    pub forward_agent: bool,
    /// A workspace without a network: ssh reaches its sshd through this command
    /// (`berth ssh-proxy NAME`, see `backend::ssh_exec`) instead of host and port.
    pub proxy: Option<String>,
}

impl Target {
    /// ssh options as (keyword, value), in ssh_config's spelling.
    fn options(&self, paths: &Paths) -> Vec<(&'static str, String)> {
        let mut o = vec![
            ("HostKeyAlias", self.alias.clone()),
            (
                "UserKnownHostsFile",
                known_hosts_file(paths, &self.alias).display().to_string(),
            ),
            ("StrictHostKeyChecking", "yes".into()),
            ("CheckHostIP", "no".into()),
        ];
        if !self.identities.is_empty() {
            o.push(("IdentitiesOnly", "yes".into()));
        }
        if self.forward_agent {
            o.push(("ForwardAgent", "yes".into()));
        }
        if let Some(p) = &self.proxy {
            o.push(("ProxyCommand", p.clone()));
        }
        o
    }

    /// Where ssh connects: the workspace's alias when a proxy command carries the
    /// connection (no host or port is used then).
    fn host_name(&self) -> &str {
        match self.proxy {
            Some(_) => &self.alias,
            None => &self.host,
        }
    }

    /// `ssh` arguments (without the program).
    pub fn args(&self, paths: &Paths) -> Vec<String> {
        let mut a = Vec::new();
        if self.proxy.is_none() {
            a.extend(["-p".to_string(), self.port.to_string()]);
        }
        for (k, v) in self.options(paths) {
            a.extend(["-o".to_string(), format!("{k}={v}")]);
        }
        for id in &self.identities {
            a.extend(["-i".into(), id.display().to_string()]);
        }
        a.push(format!("{WORKSPACE_USER}@{}", self.host_name()));
        a
    }

    /// One `Host` block for `~/.ssh/berth.d/<alias>.conf`.
    pub fn host_block(&self, paths: &Paths) -> String {
        let mut s = format!(
            "# Written by `berth ssh-config`; rewritten on every run.\nHost {}\n  HostName {}\n",
            self.alias,
            self.host_name()
        );
        if self.proxy.is_none() {
            s.push_str(&format!("  Port {}\n", self.port));
        }
        s.push_str(&format!("  User {WORKSPACE_USER}\n"));
        for (k, v) in self.options(paths) {
            s.push_str(&format!("  {k} {v}\n"));
        }
        for id in &self.identities {
            s.push_str(&format!("  IdentityFile {}\n", id.display()));
        }
        s
    }
}

pub fn berth_d(paths: &Paths) -> PathBuf {
    paths.home.join(".ssh").join("berth.d")
}

/// The one line berth adds at the top of ~/.ssh/config.
pub fn include_line(paths: &Paths) -> String {
    format!("Include {}/*.conf", berth_d(paths).display())
}

/// Adds the Include line at the top of `config` text unless it is already there.
pub fn with_include(config: &str, line: &str) -> Option<String> {
    if config.lines().any(|l| l.trim() == line) {
        return None;
    }
    Some(format!("{line}\n{config}"))
}

pub use crate::private_fs::write_atomic;

/// Quotes argv for a POSIX shell, so a copied command runs as built.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes one config file per workspace, removes those of workspaces that are gone,
/// and makes sure ~/.ssh/config includes them (touching nothing else there).
pub fn write_ssh_config(paths: &Paths, blocks: &[(String, String)]) -> Result<Vec<PathBuf>> {
    write_ssh_config_keeping(paths, blocks, |_| false)
}

/// [`write_ssh_config`], keeping the files of the aliases `keep` says (those of an
/// engine that could not be asked which workspaces it has).
pub fn write_ssh_config_keeping(
    paths: &Paths,
    blocks: &[(String, String)],
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<PathBuf>> {
    use std::os::unix::fs::PermissionsExt;
    let dir = berth_d(paths);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let ssh_dir = paths.home.join(".ssh");
    let _ = std::fs::set_permissions(&ssh_dir, std::fs::Permissions::from_mode(0o700));
    let mut written = Vec::new();
    for (alias, text) in blocks {
        let f = dir.join(format!("{alias}.conf"));
        write_atomic(&f, text.as_bytes(), 0o600)?;
        written.push(f);
    }
    for entry in std::fs::read_dir(&dir)? {
        let p = entry?.path();
        let is_ours = p.extension().is_some_and(|e| e == "conf")
            && p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with(crate::domain::naming::SSH_ALIAS_PREFIX)
            });
        let kept = p
            .file_stem()
            .is_some_and(|stem| keep(&stem.to_string_lossy()));
        if is_ours && !kept && !written.contains(&p) {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    let config = ssh_dir.join("config");
    let current = match std::fs::read_to_string(&config) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", config.display())),
    };
    if let Some(new) = with_include(&current, &include_line(paths)) {
        let mode = std::fs::metadata(&config)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o600);
        write_atomic(&config, new.as_bytes(), mode)?;
    }
    Ok(written)
}

/// Removes a deleted workspace's pinned key and ssh config file.
pub async fn forget(paths: &Paths, alias: &str) {
    let _ = tokio::fs::remove_file(known_hosts_file(paths, alias)).await;
    let _ = tokio::fs::remove_file(berth_d(paths).join(format!("{alias}.conf"))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_is_added_once_at_the_top() {
        let line = "Include /h/.ssh/berth.d/*.conf";
        let new = with_include("Host x\n  Port 1\n", line).unwrap();
        assert_eq!(new, format!("{line}\nHost x\n  Port 1\n"));
        assert_eq!(with_include(&new, line), None);
    }

    #[test]
    fn public_keys_parse() {
        assert_eq!(
            parse_public_key("ssh-ed25519 AAAAC3Nz berth-workspace\n"),
            Some(("ssh-ed25519".into(), "AAAAC3Nz".into()))
        );
        assert_eq!(parse_public_key("garbage"), None);
        assert_eq!(parse_public_key(""), None);
    }

    #[test]
    fn ssh_config_files_are_written_and_pruned_and_config_kept() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        std::fs::create_dir_all(p.home.join(".ssh")).unwrap();
        std::fs::write(p.home.join(".ssh/config"), "Host mine\n  User me\n").unwrap();
        let b = |a: &str| {
            let t = Target {
                alias: a.into(),
                host: "127.0.0.1".into(),
                port: 2200,
                identities: vec![],
                forward_agent: false,
                proxy: None,
            };
            (a.to_string(), t.host_block(&p))
        };
        write_ssh_config(&p, &[b("berth-a"), b("berth-b")]).unwrap();
        write_ssh_config(&p, &[b("berth-a")]).unwrap();
        let dir = berth_d(&p);
        assert!(dir.join("berth-a.conf").exists());
        assert!(!dir.join("berth-b.conf").exists());
        let cfg = std::fs::read_to_string(p.home.join(".ssh/config")).unwrap();
        assert_eq!(cfg, format!("{}\nHost mine\n  User me\n", include_line(&p)));
        let block = std::fs::read_to_string(dir.join("berth-a.conf")).unwrap();
        assert!(block.contains("StrictHostKeyChecking yes") && block.contains("Port 2200"));
    }

    #[test]
    fn shell_join_quotes_what_a_shell_would_split() {
        let argv: Vec<String> = ["ssh", "-o", "UserKnownHostsFile=/a b/c", "it's"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            shell_join(&argv),
            "ssh -o 'UserKnownHostsFile=/a b/c' 'it'\\''s'"
        );
    }

    #[test]
    fn agent_forwarding_is_asked_for_only_when_wanted() {
        let p = Paths::under(std::path::Path::new("/nowhere"));
        let mut t = Target {
            alias: "berth-x".into(),
            host: "127.0.0.1".into(),
            port: 2201,
            identities: vec![],
            forward_agent: false,
            proxy: None,
        };
        assert!(!t.args(&p).join(" ").contains("ForwardAgent"));
        assert!(!t.host_block(&p).contains("ForwardAgent"));
        t.forward_agent = true;
        assert!(t.args(&p).join(" ").contains("-o ForwardAgent=yes"));
        assert!(t.host_block(&p).contains("  ForwardAgent yes\n"));
    }

    #[test]
    fn args_pin_the_host_key() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        let t = Target {
            alias: "berth-x".into(),
            host: "127.0.0.1".into(),
            port: 2201,
            identities: vec![PathBuf::from("/k/id")],
            forward_agent: false,
            proxy: None,
        };
        let a = t.args(&p);
        let s = a.join(" ");
        // The config file says the same.
        let block = t.host_block(&p);
        for (k, v) in t.options(&p) {
            assert!(s.contains(&format!("-o {k}={v}")) && block.contains(&format!("  {k} {v}\n")));
        }
        assert!(block.contains("IdentityFile /k/id"));
        assert!(
            s.contains("-p 2201")
                && s.contains("HostKeyAlias=berth-x")
                && s.contains("StrictHostKeyChecking=yes")
        );
        assert!(!s.contains("StrictHostKeyChecking=no"));
        assert!(s.ends_with("workspace@127.0.0.1"));
    }

    #[test]
    fn a_workspace_without_a_network_is_reached_through_its_proxy_command() {
        let p = Paths::under(std::path::Path::new("/nowhere"));
        let t = Target {
            alias: "berth-x".into(),
            host: "127.0.0.1".into(),
            port: 0,
            identities: vec![],
            forward_agent: true,
            proxy: Some("/bin/berth --config /c ssh-proxy x".into()),
        };
        let a = t.args(&p);
        assert!(!a.contains(&"-p".to_string()), "{a:?}");
        assert!(a.contains(&"ProxyCommand=/bin/berth --config /c ssh-proxy x".to_string()));
        assert!(a.contains(&"StrictHostKeyChecking=yes".to_string()));
        assert_eq!(a.last().map(String::as_str), Some("workspace@berth-x"));
        let block = t.host_block(&p);
        assert!(
            block.contains("  HostName berth-x\n") && !block.contains("Port"),
            "{block}"
        );
        assert!(block.contains("  ProxyCommand /bin/berth --config /c ssh-proxy x\n"));
        assert!(block.contains("  ForwardAgent yes\n"));
    }

    #[test]
    fn files_of_an_engine_not_asked_are_kept() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        let blocks = |names: &[&str]| -> Vec<(String, String)> {
            names
                .iter()
                .map(|n| (n.to_string(), format!("Host {n}\n")))
                .collect()
        };
        write_ssh_config(&p, &blocks(&["berth-a", "berth-b.far", "berth-c.near"])).unwrap();
        // Engine "far" did not answer: its file stays; "near"'s gone one is pruned.
        let w =
            write_ssh_config_keeping(&p, &blocks(&["berth-a"]), |a| a.ends_with(".far")).unwrap();
        assert_eq!(w.len(), 1);
        let dir = berth_d(&p);
        assert!(dir.join("berth-b.far.conf").exists());
        assert!(!dir.join("berth-c.near.conf").exists());
        assert!(dir.join("berth-a.conf").exists());
    }
}
