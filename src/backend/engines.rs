//! The engines of one berth (`domain::engines`), connected on first use. A
//! command works on one of them at a time: [`Ctx::on`] gives the context of
//! another. Connecting one engine never waits for another, and a failed connect
//! is tried again next time (nothing is cached but a live connection).
use super::Ctx;
use crate::config::Config;
use crate::domain::engines::{
    choose, merge, EngineChoice, EngineDef, EngineHost, EngineSource, Placement, DEFAULT_ENGINE,
    ENV_ENGINE,
};
use crate::engine::{Engine, EngineResult};
use anyhow::{anyhow, Result};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Connects to one engine definition.
pub type EngineConnector =
    Arc<dyn Fn(EngineDef) -> BoxFuture<'static, EngineResult<Arc<dyn Engine>>> + Send + Sync>;

/// One connection cell per engine name.
type Cells = std::sync::Mutex<HashMap<String, Arc<OnceCell<Arc<dyn Engine>>>>>;

/// Every engine berth knows, and the one commands use by default.
pub struct EngineSet {
    defs: Vec<EngineDef>,
    default: String,
    placement: Placement,
    connector: EngineConnector,
    /// One cell per engine: a connect in progress holds only its own.
    conns: Cells,
    /// The default was chosen by the user (`--engine`, BERTH_ENGINE or the
    /// config's `engine`): commands then never look on other engines.
    explicit: bool,
}

impl std::fmt::Debug for EngineSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSet")
            .field("defs", &self.defs)
            .field("default", &self.default)
            .finish()
    }
}

impl EngineSet {
    /// The engines `defs` (names unique), `default` among them.
    pub fn new(
        defs: Vec<EngineDef>,
        default: String,
        placement: Placement,
        connector: EngineConnector,
    ) -> Result<Self> {
        if !defs.iter().any(|d| d.name == default) {
            return Err(anyhow!("there is no engine named {default:?}"));
        }
        Ok(Self {
            defs,
            default,
            placement,
            connector,
            conns: Default::default(),
            explicit: false,
        })
    }

    /// Engines already connected (tests: several in-memory engines), the first
    /// the default. Each one's definition is named after [`Engine::name`].
    pub fn fixed(engines: Vec<Arc<dyn Engine>>, placement: Placement) -> Self {
        let defs: Vec<EngineDef> = engines.iter().map(|e| def_of(e.as_ref())).collect();
        let default = defs
            .first()
            .map(|d| d.name.clone())
            .unwrap_or_else(|| DEFAULT_ENGINE.to_string());
        let conns = engines
            .into_iter()
            .map(|e| (e.name(), Arc::new(OnceCell::new_with(Some(e)))))
            .collect();
        let connector: EngineConnector = Arc::new(|d: EngineDef| {
            Box::pin(async move {
                Err(crate::engine::EngineError::Unreachable {
                    endpoint: d.host.url(),
                    reason: "not connected".into(),
                })
            })
        });
        Self {
            defs,
            default,
            placement,
            connector,
            conns: std::sync::Mutex::new(conns),
            explicit: false,
        }
    }

    /// The same connections under berth's real definitions `defs` (their hosts,
    /// port ranges): a backend service connected to one engine of several (the
    /// TUI). Kept as it is when `defs` lacks the default engine.
    pub fn with_defs(mut self, defs: Vec<EngineDef>) -> Self {
        if defs.iter().any(|d| d.name == self.default) {
            self.defs = defs;
        }
        self
    }

    /// The same set with the default engine `name`, chosen by the user (as
    /// `--engine NAME` does; tests).
    pub fn chosen(mut self, name: &str) -> Result<Self> {
        if self.def(name).is_none() {
            return Err(anyhow!("there is no engine named {name:?}"));
        }
        self.default = name.to_string();
        self.explicit = true;
        Ok(self)
    }

    /// Whether the user chose the engine (`--engine`, BERTH_ENGINE, the config's
    /// `engine`) rather than berth defaulting to one.
    pub fn explicit(&self) -> bool {
        self.explicit
    }

    /// The definitions from DOCKER_HOST, the Docker contexts (`contexts`) and the
    /// config, and the default engine as `choice` (with the config's `engine`
    /// and BERTH_ENGINE from the environment) says.
    pub fn load(
        config: &Config,
        contexts: Vec<EngineDef>,
        mut choice: EngineChoice,
        connector: EngineConnector,
    ) -> Result<Self> {
        let docker_host = std::env::var("DOCKER_HOST").ok();
        let default = EngineDef::default_engine(docker_host.as_deref()).map_err(|e| anyhow!(e))?;
        let defs = merge(
            default,
            contexts,
            config.engines.defs.values().cloned().collect(),
        );
        choice.docker_host_set = docker_host.is_some_and(|h| !h.trim().is_empty());
        if choice.flag.is_none() {
            choice.flag = config.engines.flag.clone();
        }
        if choice.env.is_none() {
            choice.env = std::env::var(ENV_ENGINE).ok();
        }
        if choice.config.is_none() {
            choice.config = config.engines.default.clone();
        }
        let explicit = [&choice.flag, &choice.env, &choice.config]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
        let default = choose(&choice, &defs).map_err(|e| anyhow!(e))?;
        let mut set = Self::new(defs, default, config.engines.placement, connector)?;
        set.explicit = explicit;
        Ok(set)
    }

    pub fn defs(&self) -> &[EngineDef] {
        &self.defs
    }

    pub fn def(&self, name: &str) -> Option<&EngineDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// The engine commands use when they name none.
    pub fn default_name(&self) -> &str {
        &self.default
    }

    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// More than one engine: lists show an ENGINE column.
    pub fn several(&self) -> bool {
        self.defs.len() > 1
    }

    /// The connection to engine `name`, made now if there is none yet.
    pub async fn get(&self, name: &str) -> Result<Arc<dyn Engine>> {
        let def = self.def(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.defs.iter().map(|d| d.name.as_str()).collect();
            anyhow!(
                "there is no engine named {name:?}; berth knows {} (see `berth engines`)",
                known.join(", ")
            )
        })?;
        let cell = {
            let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            conns.entry(name.to_string()).or_default().clone()
        };
        let connector = self.connector.clone();
        let engine =
            cell.get_or_try_init(|| connector(def))
                .await
                .map_err(|e| match self.several() {
                    true => anyhow!("engine {name}: {e}"),
                    false => anyhow!(e),
                })?;
        Ok(engine.clone())
    }

    /// The engines connected so far (a list that must not wait for any).
    pub fn connected(&self) -> Vec<Arc<dyn Engine>> {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        conns.values().filter_map(|c| c.get().cloned()).collect()
    }
}

/// In-memory engines named `names` (the first the default) and their set, for
/// tests of several engines.
#[cfg(test)]
pub fn memory_set(
    names: &[&str],
    placement: Placement,
) -> (Vec<crate::engine::memory::MemoryEngine>, EngineSet) {
    use crate::engine::memory::MemoryEngine;
    let mems: Vec<MemoryEngine> = names.iter().map(|n| MemoryEngine::new().named(n)).collect();
    let set = EngineSet::fixed(
        mems.iter()
            .map(|m| Arc::new(m.clone()) as Arc<dyn Engine>)
            .collect(),
        placement,
    );
    (mems, set)
}

/// A definition for an engine connected some other way.
fn def_of(e: &dyn Engine) -> EngineDef {
    let host = EngineHost::parse(&e.endpoint())
        .unwrap_or_else(|_| EngineHost::Unix(format!("/{}", e.endpoint())));
    EngineDef::plain(&e.name(), host, EngineSource::Builtin)
}

impl Ctx {
    /// This context on engine `name` (itself when it is that engine already).
    pub async fn on(&self, name: &str) -> Result<Ctx> {
        if self.engine.name() == name {
            return Ok(self.clone());
        }
        let mut c = self.clone();
        c.engine = self.engines.get(name).await?;
        Ok(c)
    }

    /// berth's name for the engine this context works on.
    pub fn engine_name(&self) -> String {
        self.engine.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memory::MemoryEngine;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn def(name: &str) -> EngineDef {
        EngineDef::plain(
            name,
            EngineHost::Unix(format!("/{name}.sock")),
            EngineSource::Config,
        )
    }

    #[tokio::test]
    async fn engines_connect_once_on_first_use_and_failures_are_retried() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let connector: EngineConnector = Arc::new(move |d: EngineDef| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if d.name == "b" && n == 0 {
                    return Err(crate::engine::EngineError::Unreachable {
                        endpoint: d.host.url(),
                        reason: "down".into(),
                    });
                }
                Ok(Arc::new(MemoryEngine::new().named(&d.name)) as Arc<dyn Engine>)
            })
        });
        let set = EngineSet::new(
            vec![def("a"), def("b")],
            "a".into(),
            Placement::Default,
            connector,
        )
        .unwrap();
        let e = set.get("b").await.err().unwrap().to_string();
        assert!(e.contains("engine b") && e.contains("down"), "{e}");
        assert_eq!(set.get("b").await.unwrap().name(), "b");
        set.get("b").await.unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "a live connection is reused"
        );
        let e = set.get("zz").await.err().unwrap().to_string();
        assert!(e.contains("\"zz\"") && e.contains("a, b"), "{e}");
        assert_eq!(set.connected().len(), 1);
        assert!(set.several());
    }

    #[tokio::test]
    async fn a_ctx_moves_between_engines() {
        let a: Arc<dyn Engine> = Arc::new(MemoryEngine::new().named("a"));
        let b: Arc<dyn Engine> = Arc::new(MemoryEngine::new().named("b"));
        let set = EngineSet::fixed(vec![a.clone(), b], Placement::LeastLoaded);
        assert_eq!(set.default_name(), "a");
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::config::Paths::under(dir.path());
        let ctx = Ctx::with_engines(Arc::new(set), a, Config::default(), paths);
        assert_eq!(ctx.engine_name(), "a");
        assert_eq!(ctx.on("b").await.unwrap().engine_name(), "b");
        assert!(ctx.on("c").await.is_err());
    }
}
