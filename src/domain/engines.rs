//! Several engines in one berth: what an engine is (a name, where it is, how it is
//! reached), where the definitions come from (DOCKER_HOST, Docker contexts,
//! `[engines.NAME]`), which one a command uses, and where a new workspace goes.
//! Pure: reading the files and connecting happen in `engine/` and `backend/`.
pub use super::engine_host::EngineHost;
use super::ports::PortRange;
use std::fmt;
use std::path::PathBuf;

/// The engine DOCKER_HOST (or, without it, the default socket) names, as Docker's
/// own `default` context does.
pub const DEFAULT_ENGINE: &str = "default";

/// The default socket when DOCKER_HOST is unset.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// The environment variable that picks the engine (below `--engine`).
pub const ENV_ENGINE: &str = "BERTH_ENGINE";

/// An engine's name: 1-40 of `a-z 0-9 . _ -`, starting with a letter or digit
/// (Docker context names are accepted when they fit; others are lowercased).
pub fn valid_name(name: &str) -> bool {
    let mut c = name.chars();
    name.len() <= 40
        && c.next()
            .is_some_and(|f| f.is_ascii_lowercase() || f.is_ascii_digit())
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
}

/// Why an engine name is refused, as a sentence.
pub fn name_error(name: &str) -> String {
    format!("engine name {name:?} is not valid: use 1-40 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
}

/// TLS for a tcp engine: files on this machine (Docker's `--tlsverify` spelling).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA that signed the engine's certificate.
    pub ca: Option<PathBuf>,
    /// This client's certificate and key.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Check the engine's certificate against `ca` (Docker's `--tlsverify`).
    pub verify: bool,
}

/// Where a definition came from (shown by `berth engines`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineSource {
    /// DOCKER_HOST (the `default` engine).
    Env,
    /// Nothing said: the default socket (the `default` engine).
    Builtin,
    /// A Docker context of this name (`~/.docker/contexts`).
    Context(String),
    /// `[engines.NAME]` in berth's config file.
    Config,
}

impl fmt::Display for EngineSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env => f.write_str("DOCKER_HOST"),
            Self::Builtin => f.write_str("default socket"),
            Self::Context(c) => write!(f, "docker context {c}"),
            Self::Config => f.write_str("config"),
        }
    }
}

/// One engine berth can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineDef {
    pub name: String,
    pub host: EngineHost,
    /// TLS for a tcp engine; `None`: plain (tcp) or not applicable.
    pub tls: Option<TlsFiles>,
    pub source: EngineSource,
    /// This engine's SSH port range (each host has its own); the config's
    /// `ssh.port_range` when `None`.
    pub port_range: Option<PortRange>,
    /// Ask the engine for an init process in workspaces: `None` (the default) is
    /// yes; `Some(false)` for an engine without one (podman without catatonit).
    pub init: Option<bool>,
}

impl EngineDef {
    /// The `default` engine: DOCKER_HOST when set (and not empty), else the
    /// default socket. An unparsable DOCKER_HOST is an error that says so.
    pub fn default_engine(docker_host: Option<&str>) -> Result<Self, String> {
        let (url, source) = match docker_host.map(str::trim).filter(|h| !h.is_empty()) {
            Some(h) => (h, EngineSource::Env),
            None => (DEFAULT_SOCKET, EngineSource::Builtin),
        };
        let host = EngineHost::parse(url).map_err(|e| format!("DOCKER_HOST: {e}"))?;
        Ok(Self::plain(DEFAULT_ENGINE, host, source))
    }

    /// A definition with no TLS, port range or init setting.
    pub fn plain(name: &str, host: EngineHost, source: EngineSource) -> Self {
        Self {
            name: name.to_string(),
            host,
            tls: None,
            source,
            port_range: None,
            init: None,
        }
    }

    /// The port range workspaces on this engine take their SSH ports from.
    pub fn ports(&self, config_default: PortRange) -> PortRange {
        self.port_range.unwrap_or(config_default)
    }
}

/// The engines of one berth, merged: the `default` engine first, then Docker
/// contexts, then berth's `[engines.NAME]`; a later source with a name already
/// seen replaces the earlier definition (the config wins over a context of the
/// same name, and may redefine `default`). Sorted by name, `default` first.
pub fn merge(
    default: EngineDef,
    contexts: Vec<EngineDef>,
    config: Vec<EngineDef>,
) -> Vec<EngineDef> {
    let mut out: Vec<EngineDef> = vec![default];
    for d in contexts.into_iter().chain(config) {
        match out.iter_mut().find(|e| e.name == d.name) {
            Some(e) => *e = d,
            None => out.push(d),
        }
    }
    out.sort_by(|a, b| {
        (a.name != DEFAULT_ENGINE, &a.name).cmp(&(b.name != DEFAULT_ENGINE, &b.name))
    });
    out
}

/// What may pick the engine a command uses, highest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineChoice {
    /// `--engine NAME`.
    pub flag: Option<String>,
    /// `BERTH_ENGINE`.
    pub env: Option<String>,
    /// `engine = "NAME"` in the config file.
    pub config: Option<String>,
    /// DOCKER_HOST is set: Docker itself then ignores the current context.
    pub docker_host_set: bool,
    /// `DOCKER_CONTEXT`, else `currentContext` of `~/.docker/config.json`.
    pub docker_context: Option<String>,
}

/// The engine a command uses when it names none otherwise: `--engine`, else
/// BERTH_ENGINE, else the config's `engine`, else (unless DOCKER_HOST is set) the
/// current Docker context, else `default`. A name that is not defined is an
/// error naming the ones that are and where the name came from.
pub fn choose(choice: &EngineChoice, defs: &[EngineDef]) -> Result<String, String> {
    let picked = [
        (choice.flag.as_deref(), "--engine"),
        (choice.env.as_deref(), ENV_ENGINE),
        (choice.config.as_deref(), "the config's `engine`"),
    ]
    .into_iter()
    .find_map(|(v, from)| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| (v, from))
    });
    let (name, from) = match picked {
        Some(p) => p,
        None => match choice.docker_context.as_deref().map(str::trim) {
            Some(c) if !choice.docker_host_set && !c.is_empty() => {
                (c, "the current docker context")
            }
            _ => (DEFAULT_ENGINE, ""),
        },
    };
    if defs.iter().any(|d| d.name == name) {
        return Ok(name.to_string());
    }
    let known: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    Err(format!(
        "there is no engine named {name:?} (from {from}); berth knows {}. Add it as [engines.{name}] in the config file, or see `berth engines`",
        known.join(", ")
    ))
}

/// How new workspaces are placed when `--engine` does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Placement {
    /// On the engine [`choose`] picks.
    #[default]
    Default,
    /// On the reachable engine with the fewest running workspaces, then the most
    /// free memory.
    LeastLoaded,
}

impl Placement {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(Self::Default),
            "least-loaded" => Ok(Self::LeastLoaded),
            other => Err(format!(
                "placement {other:?} is not known; use \"default\" or \"least-loaded\""
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::LeastLoaded => "least-loaded",
        }
    }
}

/// An engine's load, as placement sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load {
    pub engine: String,
    /// berth's workspaces running there.
    pub running: usize,
    /// Memory the engine reports minus the limits of the running workspaces, in
    /// bytes (0 when the engine does not say).
    pub free_memory: u64,
}

/// The least-loaded engine: fewest running workspaces, then most free memory,
/// then name (so the choice is stable). `None` when there is none.
pub fn least_loaded(loads: &[Load]) -> Option<&Load> {
    loads.iter().min_by(|a, b| {
        a.running
            .cmp(&b.running)
            .then(b.free_memory.cmp(&a.free_memory))
            .then(a.engine.cmp(&b.engine))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn def(name: &str, url: &str, source: EngineSource) -> EngineDef {
        EngineDef::plain(name, EngineHost::parse(url).unwrap(), source)
    }

    #[test]
    fn the_default_engine_is_docker_host_or_the_socket() {
        let d = EngineDef::default_engine(None).unwrap();
        assert_eq!(
            (d.name.as_str(), d.host.url()),
            (DEFAULT_ENGINE, DEFAULT_SOCKET.to_string())
        );
        assert_eq!(d.source, EngineSource::Builtin);
        let d = EngineDef::default_engine(Some("  ")).unwrap();
        assert_eq!(d.source, EngineSource::Builtin);
        let d = EngineDef::default_engine(Some("ssh://a@b")).unwrap();
        assert_eq!((d.source, d.host.scheme()), (EngineSource::Env, "ssh"));
        assert!(EngineDef::default_engine(Some("bogus"))
            .unwrap_err()
            .starts_with("DOCKER_HOST: "));
    }

    #[test]
    fn merge_lets_later_sources_replace_and_sorts_default_first() {
        let merged = merge(
            def("default", "unix:///a.sock", EngineSource::Builtin),
            vec![
                def("zeta", "ssh://z", EngineSource::Context("zeta".into())),
                def("build", "ssh://b", EngineSource::Context("build".into())),
            ],
            vec![
                def("build", "tcp://b:2376", EngineSource::Config),
                def("alpha", "unix:///x", EngineSource::Config),
            ],
        );
        let names: Vec<_> = merged.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["default", "alpha", "build", "zeta"]);
        assert_eq!(merged[2].source, EngineSource::Config);
        assert_eq!(merged[2].host.scheme(), "tcp");
    }

    #[test]
    fn choose_follows_flag_env_config_context_then_default() {
        let defs = merge(
            def("default", "unix:///a.sock", EngineSource::Builtin),
            vec![def("ctx", "ssh://c", EngineSource::Context("ctx".into()))],
            vec![
                def("cfg", "ssh://g", EngineSource::Config),
                def("env", "ssh://e", EngineSource::Config),
                def("flag", "ssh://f", EngineSource::Config),
            ],
        );
        let mut c = EngineChoice {
            flag: Some("flag".into()),
            env: Some("env".into()),
            config: Some("cfg".into()),
            docker_host_set: false,
            docker_context: Some("ctx".into()),
        };
        assert_eq!(choose(&c, &defs).unwrap(), "flag");
        c.flag = None;
        assert_eq!(choose(&c, &defs).unwrap(), "env");
        c.env = Some(" ".into());
        assert_eq!(choose(&c, &defs).unwrap(), "cfg");
        c.config = None;
        assert_eq!(choose(&c, &defs).unwrap(), "ctx");
        c.docker_host_set = true;
        assert_eq!(
            choose(&c, &defs).unwrap(),
            "default",
            "DOCKER_HOST wins over the context"
        );
        c.flag = Some("nope".into());
        let e = choose(&c, &defs).unwrap_err();
        assert!(
            e.contains("\"nope\"") && e.contains("--engine") && e.contains("default, cfg, ctx"),
            "{e}"
        );
    }

    #[test]
    fn names_are_checked() {
        for ok in ["default", "build-box", "a", "x.y_z-1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "Build", "-x", "a b", "a/b", &"x".repeat(41)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(name_error("A").contains("a-z"));
    }

    #[test]
    fn placement_parses() {
        assert_eq!(
            Placement::parse("least-loaded").unwrap(),
            Placement::LeastLoaded
        );
        assert_eq!(Placement::parse("default").unwrap().as_str(), "default");
        assert!(Placement::parse("random")
            .unwrap_err()
            .contains("least-loaded"));
    }

    #[test]
    fn least_loaded_prefers_fewer_running_then_more_memory_then_name() {
        let l = |e: &str, running, free_memory| Load {
            engine: e.into(),
            running,
            free_memory,
        };
        assert_eq!(least_loaded(&[]), None);
        let loads = [l("a", 3, 100), l("b", 1, 10), l("c", 1, 20)];
        assert_eq!(least_loaded(&loads).unwrap().engine, "c");
        let loads = [l("b", 1, 20), l("a", 1, 20)];
        assert_eq!(least_loaded(&loads).unwrap().engine, "a");
    }

    proptest! {
        #[test]
        fn least_loaded_is_never_beaten(loads in proptest::collection::vec((0usize..5, 0u64..4, "[a-d]"), 1..8)) {
            let loads: Vec<Load> = loads.into_iter().map(|(r, m, e)| Load { engine: e, running: r, free_memory: m }).collect();
            let best = least_loaded(&loads).unwrap();
            for o in &loads {
                prop_assert!(best.running < o.running || (best.running == o.running && best.free_memory >= o.free_memory));
            }
        }
    }
}
