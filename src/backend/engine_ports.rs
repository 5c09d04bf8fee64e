//! Each engine's SSH ports: its own range (`[engines.NAME] port_range`, else
//! `ssh.port_range`), leased per engine, and probed with a local bind only when
//! the engine's ports are this machine's.
use super::Ctx;
use crate::domain::ports::PortRange;

/// The engine `ctx` works on: its name, its port range, and whether it is local
/// (its published ports are this machine's, so a bind probe means something).
pub fn of(ctx: &Ctx) -> (String, PortRange, bool) {
    let name = ctx.engine_name();
    match ctx.engines.def(&name) {
        Some(d) => (name, d.ports(ctx.config.port_range), d.host.is_local()),
        // An engine connected some other way (tests): the config's range, local.
        None => (name, ctx.config.port_range, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::engines::EngineSet;
    use crate::domain::engines::{EngineDef, EngineHost, EngineSource, Placement};
    use crate::engine::memory::MemoryEngine;
    use crate::engine::Engine;
    use std::sync::Arc;

    #[tokio::test]
    async fn each_engine_has_its_range_and_only_local_ones_are_probed() {
        let defs = vec![
            EngineDef::plain(
                "default",
                EngineHost::Unix("/d.sock".into()),
                EngineSource::Builtin,
            ),
            EngineDef {
                port_range: Some(PortRange::new(4050, 4059).unwrap()),
                ..EngineDef::plain(
                    "far",
                    EngineHost::parse("ssh://me@far").unwrap(),
                    EngineSource::Config,
                )
            },
        ];
        let connector: crate::backend::engines::EngineConnector = Arc::new(|d: EngineDef| {
            Box::pin(
                async move { Ok(Arc::new(MemoryEngine::new().named(&d.name)) as Arc<dyn Engine>) },
            )
        });
        let set = Arc::new(
            EngineSet::new(defs, "default".into(), Placement::Default, connector).unwrap(),
        );
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::Config {
            port_range: PortRange::new(4040, 4049).unwrap(),
            ..Default::default()
        };
        let e = set.get("default").await.unwrap();
        let ctx = Ctx::with_engines(set, e, config, crate::config::Paths::under(dir.path()));
        let (n, r, local) = of(&ctx);
        assert_eq!((n.as_str(), r.start, local), ("default", 4040, true));
        let (n, r, local) = of(&ctx.on("far").await.unwrap());
        assert_eq!(
            (n.as_str(), r.start, r.end, local),
            ("far", 4050, 4059, false)
        );
    }
}
