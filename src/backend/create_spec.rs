//! What a user asks for (CLI flags or the TUI's form) turned into the full spec:
//! flags over the profile's defaults over the configuration's.
use crate::config::Config;
use crate::domain::create_options::{
    parse_dotfile, parse_mount, parse_port, url_has_credentials, Dotfiles, DotfilesRepo, Forward,
    Mount, Options,
};
use crate::domain::env::{parse_assignment, select, Passthrough};
use crate::domain::naming::WorkspaceName;
use crate::domain::net_profile::NetProfile;
use crate::domain::platform::Platform;
use crate::domain::profiles::TRY_REPO;
use crate::domain::resources::parse_memory;
use crate::domain::vm::{parse_disk, AccelChoice, Provider};
use crate::domain::workspace::{WorkspaceSpec, WORKSPACE_HOME};
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What a user asks for, before config and profile defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateSpec {
    /// Empty: a readable name is made up.
    pub name: String,
    pub image: Option<String>,
    pub clone_url: Option<String>,
    pub thread: Option<String>,
    pub post_start: Option<String>,
    pub platform: Option<String>,
    pub profile: Option<String>,
    /// `--env K=V`.
    pub env: Vec<String>,
    /// `--env-passthrough MODE`.
    pub env_passthrough: Option<String>,
    pub forward_git: Option<bool>,
    pub forward_gh: Option<bool>,
    pub forward_ssh: Option<bool>,
    pub dotfiles: DotfilesRequest,
    /// `--setup CMD`, after the config's.
    pub setup: Vec<String>,
    /// `--mount HOST:PATH[:ro]` (HOST absolute).
    pub mounts: Vec<String>,
    /// `--mount-cwd`: this directory at /home/workspace/src.
    pub mount_cwd: Option<PathBuf>,
    /// `--port HOST:CONTAINER`.
    pub ports: Vec<String>,
    pub cpus: Option<f64>,
    pub memory: Option<String>,
    pub workdir: Option<String>,
    /// `--network NAME` (repeatable): named networks to join.
    pub networks: Vec<String>,
    /// `--docker`: its own Docker engine in a privileged sidecar.
    pub docker: bool,
    /// `--net-profile` (default: `[network] profile`).
    pub net_profile: Option<String>,
    /// `--allow-domain` (added to `[network] allow_domains`).
    pub allow_domains: Vec<String>,
    /// `--forward-logs TARGET` (default: `[logs] forward`; "" turns it off).
    pub forward_logs: Option<String>,
    /// `--secret NAME` (repeatable): global secrets it gets as files.
    pub secret_files: Vec<String>,
    /// `--runtime` (default: the config's `runtime`, else the engine's default).
    pub runtime: Option<String>,
    /// `--ttl 8h|3d|never` (default: `[lifetime] ttl`).
    pub ttl: Option<String>,
    /// `--provider container|vm` (default: the profile's, else the config's).
    pub provider: Option<String>,
    /// `--accel auto|kvm|tcg` (a VM only).
    pub accel: Option<String>,
    /// `--disk SIZE` (a VM only).
    pub disk: Option<String>,
}

/// The dotfiles flags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DotfilesRequest {
    pub url: Option<String>,
    pub branch: Option<String>,
    pub target: Option<String>,
    pub script: Option<String>,
    /// `--dotfile PATH=CONTENT`.
    pub files: Vec<String>,
    pub dir: Option<PathBuf>,
    /// `--no-dotfiles`.
    pub skip: bool,
}

/// The full spec. `host_env` names the variables of the berth process (names only).
pub fn workspace_spec<'a>(
    config: &Config,
    s: CreateSpec,
    host_env: impl IntoIterator<Item = &'a str>,
) -> Result<WorkspaceSpec> {
    let name = if s.name.trim().is_empty() {
        crate::domain::naming::generated_name()
    } else {
        s.name.clone()
    };
    let name = WorkspaceName::parse(&name)?;
    let p = &config.provision;
    let profile = s.profile.clone().unwrap_or_else(|| config.profile.clone());
    let pd = config.profiles.get(&profile).map_err(|e| anyhow!(e))?;
    if profile == TRY_REPO && s.clone_url.as_ref().is_none_or(|u| u.trim().is_empty()) {
        bail!("the try-repo profile picks a profile from a repository's files: give the repository with --clone URL (or choose a profile with --profile NAME)");
    }

    let mut env = Vec::new();
    for e in &s.env {
        env.push(parse_assignment(e).map_err(|e| anyhow!(e))?);
    }
    // Names set by --env or by the profile are never overridden by a host value.
    let public: BTreeSet<String> = env
        .iter()
        .map(|(k, _)| k.clone())
        .chain(pd.env.keys().cloned())
        .collect();
    let mode = match &s.env_passthrough {
        Some(m) => m
            .parse::<Passthrough>()
            .map_err(|e| anyhow!("--env-passthrough: {e}"))?,
        None if !pd.env_passthrough => Passthrough::None,
        None => p.passthrough.clone(),
    };
    // Flags over the profile's defaults over the configuration's.
    let pf = pd.forward;
    let forward = Forward {
        git: s.forward_git.or(pf.git).unwrap_or(p.forward.git),
        gh: s.forward_gh.or(pf.gh).unwrap_or(p.forward.gh),
        ssh: s.forward_ssh.or(pf.ssh).unwrap_or(p.forward.ssh),
    };

    let mut secrets = select(&mode, &p.patterns, host_env, &public);
    if !forward.gh && !matches!(mode, Passthrough::Names(_)) {
        secrets.retain(|n| !crate::domain::env::GITHUB_TOKENS.contains(&n.as_str()));
    }

    let d = &s.dotfiles;
    let dotfiles = if d.skip
        || (!pd.dotfiles && d.url.is_none() && d.files.is_empty() && d.dir.is_none())
    {
        Dotfiles::default()
    } else {
        let url = d.url.clone().or_else(|| p.dotfiles.url.clone());
        let branch = d.branch.clone().or_else(|| p.dotfiles.branch.clone());
        if let Some(b) = branch.as_deref().filter(|b| {
            b.starts_with('-') || b.chars().any(|c| c.is_whitespace() || c.is_control())
        }) {
            bail!("--dotfiles-branch {b:?} is not a branch name (no leading '-', no spaces)");
        }
        if let Some(u) = url.as_deref().filter(|u| u.starts_with('-')) {
            bail!("--dotfiles {u:?} is not a repository URL");
        }
        if url.as_deref().is_some_and(url_has_credentials) {
            bail!("the dotfiles URL carries a credential; berth would show it in its output and git keeps it in .git/config. Give the URL without it: GitHub auth is forwarded (gh), and --forward-ssh forwards your ssh-agent");
        }
        // The config's files, then --dotfile (which wins for the same path).
        let mut inline: Vec<(String, String)> = p
            .dotfiles
            .files
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for f in &d.files {
            let (path, content) = parse_dotfile(f).map_err(|e| anyhow!(e))?;
            inline.retain(|(p, _)| *p != path);
            inline.push((path, content));
        }
        Dotfiles {
            repo: url.map(|url| DotfilesRepo {
                url,
                branch,
                target: d
                    .target
                    .clone()
                    .unwrap_or_else(|| p.dotfiles.target.clone()),
                script: d.script.clone().or_else(|| p.dotfiles.script.clone()),
            }),
            inline,
            dir: d.dir.clone().or_else(|| p.dotfiles.dir.clone()),
        }
    };

    let mut mounts: Vec<Mount> = Vec::new();
    for m in &s.mounts {
        mounts.push(parse_mount(m).map_err(|e| anyhow!(e))?);
    }
    if let Some(cwd) = &s.mount_cwd {
        mounts.push(Mount {
            host: cwd.clone(),
            path: format!("{WORKSPACE_HOME}/src"),
            read_only: false,
        });
    }
    let mut ports = Vec::new();
    for port in &s.ports {
        ports.push(parse_port(port).map_err(|e| anyhow!(e))?);
    }
    let mut resources = config.resources;
    if let Some(c) = s.cpus {
        if !(c > 0.0 && c <= 1024.0) {
            bail!("--cpus must be a number of cores above 0 (for example 2 or 0.5)");
        }
        resources.cpus = Some(c);
    }
    if let Some(m) = &s.memory {
        resources.memory_bytes = parse_memory(m).map_err(|e| anyhow!("--memory: {e}"))?;
    }
    let workdir = s.workdir.clone().or_else(|| p.workdir.clone());
    if let Some(w) = workdir.as_deref().filter(|w| !w.starts_with('/')) {
        bail!("--workdir {w:?} must be an absolute path inside the workspace, like /home/workspace/repo");
    }
    let mut setup = p.setup.clone();
    setup.extend(s.setup.iter().filter(|c| !c.trim().is_empty()).cloned());

    Ok(WorkspaceSpec {
        name,
        image: s.image.unwrap_or_else(|| config.image.clone()),
        clone_url: s.clone_url,
        thread: s.thread,
        platform: s
            .platform
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| Platform::parse(p).map(|p| p.to_string()))
            .transpose()
            .map_err(|e| anyhow!(e))?,
        profile: profile.clone(),
        post_start: s.post_start.or_else(|| config.post_start.clone()),
        resources,
        runtime: s
            .runtime
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from)
            .or_else(|| config.runtime.clone()),
        extra_labels: config.labels.clone(),
        options: Options {
            env,
            secrets,
            forward,
            dotfiles,
            setup,
            detect_profile: profile == TRY_REPO,
            mounts,
            ports,
            workdir,
            networks: crate::domain::networks::parse_list(&s.networks).map_err(|e| anyhow!(e))?,
            docker: s.docker,
            net_profile: match s.net_profile.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => NetProfile::parse(p).map_err(|e| anyhow!("--net-profile: {e}"))?,
                None => config.network.profile,
            },
            allow_domains: allow_domains(&config.network.allow_domains, &s.allow_domains)?,
            forward_logs: match &s.forward_logs {
                Some(t) => crate::domain::log_forward::Target::parse(t)
                    .map_err(|e| anyhow!("--forward-logs: {e}"))?,
                None => config.logs.forward.clone(),
            },
            secret_files: crate::domain::secrets::parse_names(&s.secret_files)
                .map_err(|e| anyhow!(e))?,
            ttl: s
                .ttl
                .as_deref()
                .map(crate::domain::ttl::Ttl::parse)
                .transpose()
                .map_err(|e| anyhow!("--ttl: {e}"))?,
            session_labels: Default::default(),
            provider: match s.provider.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => Provider::parse(p).map_err(|e| anyhow!("--provider: {e}"))?,
                None => pd.provider.unwrap_or(config.provider),
            },
            accel: s
                .accel
                .as_deref()
                .filter(|a| !a.trim().is_empty())
                .map(AccelChoice::parse)
                .transpose()
                .map_err(|e| anyhow!("--accel: {e}"))?
                .unwrap_or_default(),
            disk: s
                .disk
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(parse_disk)
                .transpose()
                .map_err(|e| anyhow!(e))?,
        },
    })
}

/// The proxy's allowlist: the config's domains, then `--allow-domain`'s, each
/// checked, lowercased and named once.
fn allow_domains(config: &[String], flags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = config.to_vec();
    for raw in flags {
        let d = crate::config::network::check_domain(raw)
            .map_err(|e| anyhow!("--allow-domain: {e}"))?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profiles::parse;

    fn spec(config: &Config, s: CreateSpec) -> Result<WorkspaceSpec> {
        workspace_spec(config, s, ["OPENAI_API_KEY"])
    }

    fn named(profile: &str) -> CreateSpec {
        CreateSpec {
            name: "w".into(),
            profile: Some(profile.into()),
            ..Default::default()
        }
    }

    #[test]
    fn clean_forwards_nothing_unless_asked() {
        let mut config = Config::default();
        config.provision.dotfiles.url = Some("git://x/dots".into());
        let w = spec(&config, named("clean")).unwrap();
        assert_eq!(w.options.forward, Forward::NONE);
        assert!(w.options.secrets.is_empty() && w.options.dotfiles.is_empty());
        // Flags still win over the profile.
        let mut s = named("clean");
        s.forward_git = Some(true);
        s.env_passthrough = Some("auto".into());
        let w = spec(&config, s).unwrap();
        assert!(w.options.forward.git && !w.options.forward.gh);
        assert_eq!(w.options.secrets, ["OPENAI_API_KEY"]);
        // The default profile keeps the configuration's defaults.
        let w = spec(&config, named("general")).unwrap();
        assert_eq!(w.options.forward, config.provision.forward);
        assert!(!w.options.dotfiles.is_empty() && !w.options.secrets.is_empty());
    }

    #[test]
    fn a_profile_sets_each_forwarding_default_over_the_configs() {
        let mut config = Config::default();
        config.profiles.insert(
            parse(
                "agent",
                "[forward]\nssh = true\ngh = false\n",
                "/u/agent.toml",
            )
            .unwrap(),
        );
        let w = spec(&config, named("agent")).unwrap();
        assert_eq!(
            w.options.forward,
            Forward {
                git: true,
                gh: false,
                ssh: true
            }
        );
        assert_eq!(w.profile, "agent");
    }

    #[test]
    fn unknown_profiles_and_try_repo_without_a_clone_are_refused() {
        let config = Config::default();
        let e = spec(&config, named("pyton")).unwrap_err().to_string();
        assert!(e.contains("\"pyton\"") && e.contains("python, rust"), "{e}");
        let e = spec(&config, named("try-repo")).unwrap_err().to_string();
        assert!(e.contains("--clone URL"), "{e}");
        let mut s = named("try-repo");
        s.clone_url = Some("git://h/r.git".into());
        assert!(spec(&config, s).unwrap().options.detect_profile);
    }

    #[test]
    fn github_tokens_stay_out_when_gh_forwarding_is_off_unless_named() {
        let config = Config::default();
        let host = ["GH_TOKEN", "GITHUB_TOKEN", "OPENAI_API_KEY"];
        let mut s = named("general");
        s.forward_gh = Some(false);
        let w = workspace_spec(&config, s.clone(), host).unwrap();
        assert_eq!(w.options.secrets, ["OPENAI_API_KEY"]);
        s.env_passthrough = Some("GH_TOKEN".into());
        let w = workspace_spec(&config, s, host).unwrap();
        assert_eq!(w.options.secrets, ["GH_TOKEN"]);
        let w = workspace_spec(&config, named("general"), host).unwrap();
        assert_eq!(w.options.secrets.len(), 3);
    }

    #[test]
    fn branch_names_that_look_like_options_are_refused() {
        let config = Config::default();
        let mut s = named("general");
        s.dotfiles.url = Some("git://h/dots".into());
        s.dotfiles.branch = Some("-f".into());
        let e = spec(&config, s).unwrap_err().to_string();
        assert!(e.contains("not a branch name"), "{e}");
    }

    #[test]
    fn config_dotfiles_files_apply_and_a_flag_wins_for_the_same_path() {
        let mut config = Config::default();
        config
            .provision
            .dotfiles
            .files
            .insert(".a".into(), "from config".into());
        config
            .provision
            .dotfiles
            .files
            .insert(".b".into(), "kept".into());
        let mut s = named("general");
        s.dotfiles.files = vec![".a=from flag".into()];
        let w = spec(&config, s).unwrap();
        assert_eq!(
            w.options.dotfiles.inline,
            [
                (".b".to_string(), "kept".to_string()),
                (".a".to_string(), "from flag".to_string())
            ]
        );
        assert!(spec(&config, named("clean"))
            .unwrap()
            .options
            .dotfiles
            .is_empty());
        let mut s = named("general");
        s.dotfiles.url = Some("https://me:tok@github.com/me/dots".into());
        let e = spec(&config, s).unwrap_err().to_string();
        assert!(
            e.contains("carries a credential") && !e.contains("tok@"),
            "{e}"
        );
    }
}
