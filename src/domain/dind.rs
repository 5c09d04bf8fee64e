//! Docker inside a workspace (`berth create --docker`): the facts about its engine
//! sidecar, pure. The sidecar runs Debian's dockerd in the workspace's network
//! namespace, so the workspace reaches it on localhost:2375 and never sees the
//! host's socket. It needs privileges the workspace never gets; they are listed
//! here once, so what the engine is asked for and what berth says are the same.
use super::workspace::Workspace;
use serde::Serialize;

/// The sidecar's kind: its container and volume are `workspace-NAME.docker`.
pub const KIND: &str = "docker";
/// Where the inner engine listens, inside the workspace's network namespace.
pub const PORT: u16 = 2375;
/// What the workspace's `DOCKER_HOST` says.
pub const DOCKER_HOST: &str = "tcp://localhost:2375";
/// What berth itself uses inside the sidecar (no name lookup needed).
pub const SIDECAR_DOCKER_HOST: &str = "tcp://127.0.0.1:2375";
/// The inner engine's data (images, containers, volumes), on the sidecar's volume.
pub const DATA_DIR: &str = "/var/lib/docker";
/// The docker CLI in the engine image, copied into the workspace at create.
pub const CLI_SOURCE: &str = "/usr/bin/docker";
/// Where the CLI lands in the workspace (on every user's PATH).
pub const CLI_DIR: &str = "/usr/local/bin";
/// Repository of the engine image; its tag is the definition's hash.
pub const IMAGE_REPO: &str = "berth/docker";
/// On the workspace container: the name of its Docker engine sidecar.
pub const LABEL: &str = "dev.berth.docker";

/// Capabilities the sidecar gets: every one the engine can give...
pub const CAP_ADD: &[&str] = &["ALL"];
/// ...but this one: hosts like the ones berth is tested on lack it themselves, so
/// a container asking for it (as `--privileged` does) cannot start.
pub const CAP_DROP: &[&str] = &["SYS_RESOURCE"];
/// No seccomp filter, no AppArmor profile: dockerd mounts, makes namespaces and
/// writes cgroups for the containers it runs.
pub const SECURITY_OPT: &[&str] = &["seccomp=unconfined", "apparmor=unconfined"];
/// System paths (/proc and /sys entries the engine masks or makes read-only)
/// left as they are (the CLI's `--security-opt systempaths=unconfined`).
pub const UNMASK_SYSTEM_PATHS: bool = true;
/// Processes the sidecar may run (dockerd, containerd and the inner containers).
pub const PIDS_LIMIT: i64 = 4096;
/// dockerd's own stop timeout for inner containers: below the engine's timeout for
/// the sidecar, so a stop lets dockerd end cleanly.
pub const SHUTDOWN_TIMEOUT_SECS: u32 = 5;

/// The privileges, in words, for `berth status`, the create output and the README.
pub const PRIVILEGES: &str = "capabilities ALL but SYS_RESOURCE; seccomp, AppArmor and system paths unconfined; private cgroup namespace";

/// The same, short, for the TUI's status pane.
pub const PRIVILEGES_SHORT: &str = "caps ALL but SYS_RESOURCE, seccomp/AppArmor unconfined";

/// The engine image's tag for a definition hash.
pub fn image_tag(definition_hash: &str) -> String {
    format!("{IMAGE_REPO}:{definition_hash}")
}

/// Problems with the `[docker] registry_mirror` setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MirrorError {
    #[error("{0:?} is not a registry mirror URL: give one like http://mirror.example:5000 or https://mirror.example")]
    NotUrl(String),
    #[error("the registry mirror URL carries a credential, which would show in `docker inspect` of the sidecar; give the URL without it")]
    Credential,
}

/// Checks a registry mirror URL (`http://` or `https://`, a host, no user info, no
/// spaces): it becomes a dockerd flag and shows in the sidecar's config.
pub fn check_mirror(url: &str) -> Result<(), MirrorError> {
    let bad = || MirrorError::NotUrl(url.to_string());
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(bad)?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err(MirrorError::Credential);
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err(bad());
    }
    Ok(())
}

/// The sidecar entrypoint's arguments: extra dockerd flags.
pub fn dockerd_args(registry_mirror: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "--shutdown-timeout".to_string(),
        SHUTDOWN_TIMEOUT_SECS.to_string(),
    ];
    if let Some(m) = registry_mirror.filter(|m| !m.trim().is_empty()) {
        args.extend(["--registry-mirror".to_string(), m.trim().to_string()]);
    }
    args
}

/// A command run in the sidecar against its engine: `docker -H ... ARGS`.
pub fn sidecar_cli(args: &[&str]) -> Vec<String> {
    ["docker", "-H", SIDECAR_DOCKER_HOST]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

/// A workspace's Docker inside, as its labels say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DockerInside {
    /// The sidecar container (and its data volume).
    pub sidecar: String,
    pub volume: String,
    pub docker_host: &'static str,
    /// Always true: said so that no script has to guess.
    pub privileged: bool,
    pub privileges: &'static str,
    /// Whether the sidecar runs (known only where someone asked the engine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<bool>,
}

impl DockerInside {
    /// From a workspace's labels; `None` for a workspace without Docker inside.
    pub fn of(w: &Workspace) -> Option<Self> {
        let sidecar = w.labels.get(LABEL)?.clone();
        Some(Self {
            volume: sidecar.clone(),
            sidecar,
            docker_host: DOCKER_HOST,
            privileged: true,
            privileges: PRIVILEGES,
            running: None,
        })
    }

    /// One line for status views.
    pub fn summary(&self) -> String {
        let state = match self.running {
            Some(true) => "running, ",
            Some(false) => "stopped, ",
            None => "",
        };
        format!(
            "sidecar {} ({state}privileged: {}); DOCKER_HOST={}",
            self.sidecar, self.privileges, self.docker_host
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_must_be_plain_http_urls() {
        assert!(check_mirror("http://127.0.0.1:5000").is_ok());
        assert!(check_mirror("https://mirror.example/").is_ok());
        for bad in [
            "mirror.example",
            "ftp://m",
            "http://",
            "http://:5000",
            "http://a b",
        ] {
            assert!(
                matches!(check_mirror(bad), Err(MirrorError::NotUrl(_))),
                "{bad}"
            );
        }
        assert_eq!(
            check_mirror("https://me:pw@mirror.example"),
            Err(MirrorError::Credential)
        );
        assert!(!MirrorError::Credential.to_string().contains("pw"));
    }

    #[test]
    fn dockerd_gets_a_short_stop_and_the_mirror() {
        assert_eq!(dockerd_args(None), ["--shutdown-timeout", "5"]);
        assert_eq!(dockerd_args(Some(" ")), ["--shutdown-timeout", "5"]);
        assert_eq!(
            dockerd_args(Some("http://m:5000")),
            [
                "--shutdown-timeout",
                "5",
                "--registry-mirror",
                "http://m:5000"
            ]
        );
    }

    #[test]
    fn the_words_match_what_the_engine_is_asked_for() {
        assert!(CAP_ADD.contains(&"ALL") && CAP_DROP == ["SYS_RESOURCE"]);
        for opt in SECURITY_OPT {
            let word = match opt.trim_end_matches("=unconfined") {
                "seccomp" => "seccomp",
                "apparmor" => "AppArmor",
                other => panic!("undocumented {other}"),
            };
            assert!(PRIVILEGES.contains(word), "{opt}");
        }
        assert!(UNMASK_SYSTEM_PATHS && PRIVILEGES.contains("system paths"));
        assert_eq!(image_tag("abc"), "berth/docker:abc");
        assert_eq!(
            sidecar_cli(&["load"]),
            ["docker", "-H", "tcp://127.0.0.1:2375", "load"]
        );
    }

    #[test]
    fn a_workspace_has_docker_inside_when_its_label_says_so() {
        let mut w = Workspace {
            engine: String::new(),
            name: "w".into(),
            state: crate::domain::workspace::WorkspaceState::Running,
            ssh_port: Some(2201),
            image: "i".into(),
            container: "workspace-w".into(),
            container_id: "id".into(),
            volume: "workspace-w".into(),
            thread: None,
            platform: None,
            profile: None,
            created: 0,
            started_at: None,
            runtime: None,
            memory_limit: None,
            pids_limit: None,
            cpus_limit: None,
            provision: crate::domain::provision::Provision::Ready,
            labels: Default::default(),
        };
        assert!(DockerInside::of(&w).is_none());
        w.labels.insert(LABEL.into(), "workspace-w.docker".into());
        let mut d = DockerInside::of(&w).unwrap();
        assert_eq!(d.volume, "workspace-w.docker");
        assert!(d
            .summary()
            .contains("privileged: capabilities ALL but SYS_RESOURCE"));
        d.running = Some(false);
        assert!(d.summary().contains("(stopped, privileged"));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["privileged"], true);
        assert_eq!(v["docker_host"], DOCKER_HOST);
    }
}
