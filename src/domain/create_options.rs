//! What a create provisions beyond the container itself: forwarding, dotfiles,
//! setup commands, mounts, published ports. Plain data, parsed and checked here.
use std::path::PathBuf;

/// Everything a create provisions besides the container's identity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Options {
    /// Public variables (`--env`, the profile's `[env]`): in the container's config.
    pub env: Vec<(String, String)>,
    /// Names of host variables passed through (values never recorded).
    pub secrets: Vec<String>,
    pub forward: Forward,
    pub dotfiles: Dotfiles,
    /// `--setup` commands, in order, after the profile's own.
    pub setup: Vec<String>,
    /// `try-repo`: pick the profile from the cloned repository's files.
    pub detect_profile: bool,
    pub mounts: Vec<Mount>,
    pub ports: Vec<PortMap>,
    /// Default directory for exec, ssh and shells.
    pub workdir: Option<String>,
    /// `--network NAME`: named networks it joins (its name is its DNS name there).
    pub networks: Vec<super::networks::NetworkName>,
    /// `--docker`: its own Docker engine in a sidecar (see `domain::dind`).
    pub docker: bool,
    /// `--net-profile`: how it reaches the network (see `domain::net_profile`).
    pub net_profile: super::net_profile::NetProfile,
    /// `--allow-domain` and `[network] allow_domains`: for the `proxy` profile,
    /// the only domains its proxy lets through (empty: all, each one logged).
    pub allow_domains: Vec<String>,
    /// `--forward-logs` and `[logs] forward`: where its logs and its sidecars' go
    /// (see `domain::log_forward`).
    pub forward_logs: Option<super::log_forward::Target>,
    /// `--secret NAME`: global secrets it gets as files (see `domain::secrets`).
    pub secret_files: Vec<String>,
    /// `--ttl`: its TTL (label `dev.berth.ttl`); `None`: the config's, as it is then.
    pub ttl: Option<super::ttl::Ttl>,
    /// An agent session's labels (`domain::agents::AgentSession::labels`): on the
    /// workspace's container and volume only, never on its sidecars.
    pub session_labels: std::collections::BTreeMap<String, String>,
    /// `--provider` (default: the profile's, else the config's `provider`).
    pub provider: super::vm::Provider,
    /// `--accel` (a VM's accelerator; resolved before the create starts).
    pub accel: super::vm::AccelChoice,
    /// `--disk`: a VM's home disk size (`None`: `vm::DEFAULT_DISK_BYTES`).
    pub disk: Option<u64>,
}

/// Which host credentials a create forwards into the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// `~/.gitconfig`, `~/.gitconfig.local`, `~/.ssh/known_hosts`.
    pub git: bool,
    /// The GitHub CLI's token, as `GH_TOKEN` and a git credential helper.
    pub gh: bool,
    /// The host's ssh-agent (or, without one, a read-only `~/.ssh`).
    pub ssh: bool,
}

impl Default for Forward {
    fn default() -> Self {
        Self {
            git: true,
            gh: true,
            ssh: false,
        }
    }
}

impl Forward {
    pub const NONE: Forward = Forward {
        git: false,
        gh: false,
        ssh: false,
    };

    /// For a label: "git,gh" (empty when nothing is forwarded).
    pub fn label(&self) -> String {
        [(self.git, "git"), (self.gh, "gh"), (self.ssh, "ssh")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn from_label(s: &str) -> Self {
        let has = |n: &str| s.split(',').any(|p| p.trim() == n);
        Self {
            git: has("git"),
            gh: has("gh"),
            ssh: has("ssh"),
        }
    }
}

/// Where the dotfiles come from and how they are installed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dotfiles {
    /// A repository cloned into `target`, then installed (see `backend::provision::dotfiles`).
    pub repo: Option<DotfilesRepo>,
    /// `--dotfile PATH=CONTENT`: files written into the home, as given.
    pub inline: Vec<(String, String)>,
    /// `--dotfiles-dir DIR`: a host directory copied into the home as is.
    pub dir: Option<PathBuf>,
}

impl Dotfiles {
    pub fn is_empty(&self) -> bool {
        self.repo.is_none() && self.inline.is_empty() && self.dir.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotfilesRepo {
    pub url: String,
    pub branch: Option<String>,
    /// Where it is cloned, relative to the home or absolute (default `~/.dotfiles`).
    pub target: String,
    /// The install script, relative to the clone; else the resolution rules apply.
    pub script: Option<String>,
}

/// Does `url` carry a credential (a password, or any user part over http(s))? It
/// would land in progress lines, errors and the clone's .git/config.
pub fn url_has_credentials(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let Some((user, _host)) = authority.rsplit_once('@') else {
        return false;
    };
    user.contains(':')
        || scheme.eq_ignore_ascii_case("http")
        || scheme.eq_ignore_ascii_case("https")
}

/// Default clone target of a dotfiles repository.
pub const DOTFILES_TARGET: &str = "~/.dotfiles";

/// Parses `--dotfile PATH=CONTENT`. PATH is relative to the home (or starts
/// with `~/`); it may not leave the home.
pub fn parse_dotfile(s: &str) -> Result<(String, String), String> {
    let (p, content) = s
        .split_once('=')
        .ok_or_else(|| format!("--dotfile {s:?}: expected PATH=CONTENT"))?;
    let rel = p.strip_prefix("~/").unwrap_or(p);
    if rel.is_empty() || rel.starts_with('/') || rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err(format!(
            "--dotfile {p:?}: give a path inside the home, like .bashrc or ~/.config/app/conf"
        ));
    }
    Ok((rel.to_string(), content.to_string()))
}

/// A host path bind-mounted into the workspace (`--mount HOST:PATH[:ro]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host: PathBuf,
    pub path: String,
    pub read_only: bool,
}

/// Parses `--mount HOST:PATH[:ro|:rw]`; HOST must be absolute (the CLI makes it so).
pub fn parse_mount(s: &str) -> Result<Mount, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (host, path, read_only) = match parts.as_slice() {
        [h, p] => (*h, *p, false),
        [h, p, "ro"] => (*h, *p, true),
        [h, p, "rw"] => (*h, *p, false),
        _ => {
            return Err(format!(
                "--mount {s:?}: expected HOST:PATH or HOST:PATH:ro (HOST and PATH without ':')"
            ))
        }
    };
    if !path.starts_with('/') || path.split('/').any(|c| c == "..") {
        return Err(format!(
            "--mount {s:?}: the path inside ({path}) must be absolute, like /home/workspace/src"
        ));
    }
    if host.is_empty() {
        return Err(format!("--mount {s:?}: the host path is empty"));
    }
    Ok(Mount {
        host: PathBuf::from(host),
        path: match path.trim_end_matches('/') {
            "" => "/".into(),
            p => p.into(),
        },
        read_only,
    })
}

/// A container port published on the host (`--port HOST:CONTAINER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMap {
    pub host: u16,
    pub container: u16,
}

pub fn parse_port(s: &str) -> Result<PortMap, String> {
    let err = || {
        format!(
            "--port {s:?}: expected HOST:CONTAINER, two port numbers from 1 to 65535, like 8080:80"
        )
    };
    let (h, c) = s.split_once(':').ok_or_else(err)?;
    let n = |v: &str| v.trim().parse::<u16>().ok().filter(|p| *p > 0);
    Ok(PortMap {
        host: n(h).ok_or_else(err)?,
        container: n(c).ok_or_else(err)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_labels_round_trip() {
        for f in [
            Forward::default(),
            Forward::NONE,
            Forward {
                git: false,
                gh: true,
                ssh: true,
            },
        ] {
            assert_eq!(Forward::from_label(&f.label()), f);
        }
        assert_eq!(Forward::default().label(), "git,gh");
    }

    #[test]
    fn credentials_in_urls_are_spotted() {
        assert!(url_has_credentials("https://x:tok@github.com/me/dots"));
        assert!(url_has_credentials("https://ghp_abc@github.com/me/dots"));
        assert!(url_has_credentials("ssh://git:pw@host/r"));
        assert!(!url_has_credentials("ssh://git@host/r"));
        assert!(!url_has_credentials("git@github.com:me/dots.git"));
        assert!(!url_has_credentials("https://github.com/me/d@ts"));
    }

    #[test]
    fn dotfiles_stay_in_the_home() {
        assert_eq!(
            parse_dotfile("~/.config/a=x=y").unwrap(),
            (".config/a".into(), "x=y".into())
        );
        for bad in ["/etc/passwd=x", "../x=y", "a//b=c", "=x", "noeq"] {
            assert!(parse_dotfile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mounts_and_ports() {
        let m = parse_mount("/src:/home/workspace/src:ro").unwrap();
        assert!(m.read_only && m.path == "/home/workspace/src");
        assert!(!parse_mount("/a:/b").unwrap().read_only);
        assert!(parse_mount("/a:rel").is_err());
        assert!(parse_mount("/a:/b:xx").is_err());
        assert_eq!(
            parse_port("8080:80").unwrap(),
            PortMap {
                host: 8080,
                container: 80
            }
        );
        for bad in ["8080", "0:80", "x:80", "70000:1"] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }
}
