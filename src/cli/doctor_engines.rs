//! `berth doctor` on the engines beside the default one: a section each, checked
//! at once. One that cannot be reached is a warning with its reason (the default
//! engine unreachable still fails, in `doctor`), and what fails on another engine
//! is a warning too: the default engine still works.
use super::doctor::{check, engine_checks, Check, Status};
use crate::backend::engine_pick::ASK_TIMEOUT;
use crate::backend::engines::EngineSet;
use crate::config::{Config, Paths};
use crate::domain::engines::EngineDef;

/// The checks of every engine but the default, each named `NAME: check`.
pub async fn others(set: &EngineSet, paths: &Paths, config: &Config) -> Vec<Check> {
    let checks = set
        .defs()
        .iter()
        .filter(|d| d.name != set.default_name())
        .map(|d| one(set, d, paths, config));
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn one(set: &EngineSet, def: &EngineDef, paths: &Paths, config: &Config) -> Vec<Check> {
    let name = &def.name;
    let url = def.host.url();
    let asked = tokio::time::timeout(ASK_TIMEOUT, async {
        let e = set.get(name).await?;
        let info = e.info().await?;
        anyhow::Ok((e, info))
    })
    .await;
    let (e, info) = match asked {
        Ok(Ok(v)) => v,
        Ok(Err(err)) => {
            let why = format!("{err:#}");
            let why = why
                .strip_prefix(&format!("engine {name}: "))
                .unwrap_or(&why)
                .to_string();
            return vec![unreachable(name, &url, &why)];
        }
        Err(_) => {
            let why = format!("no answer within {} s", ASK_TIMEOUT.as_secs());
            return vec![unreachable(name, &url, &why)];
        }
    };
    let mut v = vec![check(
        format!("{name}: engine"),
        Status::Ok,
        format!(
            "{url} ({}, engine {}, API {})",
            def.source, info.version, info.api_version
        ),
        None,
    )];
    let range = def.ports(config.port_range);
    for mut c in engine_checks(e, paths, config, range, def.host.is_local()).await {
        c.check = format!("{name}: {}", c.check);
        if c.status == Status::Fail {
            c.status = Status::Warn;
        }
        v.push(c);
    }
    v
}

fn unreachable(name: &str, url: &str, why: &str) -> Check {
    check(
        format!("{name}: engine"),
        Status::Warn,
        format!("{url} cannot be reached: {why}"),
        Some("berth engines  # shows every engine; start it, or remove its [engines.NAME] from the config"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::engines::Placement;
    use crate::engine::memory::MemoryEngine;
    use crate::engine::Engine;
    use std::sync::Arc;

    #[tokio::test]
    async fn another_engine_down_is_a_warning_with_its_reason() {
        let a = MemoryEngine::new().named("a");
        let b = MemoryEngine::new().named("b");
        let c = MemoryEngine::new().named("c");
        b.go_down("b is off");
        let set = EngineSet::fixed(
            vec![Arc::new(a) as Arc<dyn Engine>, Arc::new(b), Arc::new(c)],
            Placement::Default,
        );
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let v = others(&set, &paths, &Config::default()).await;
        let b = v.iter().find(|c| c.check == "b: engine").unwrap();
        assert_eq!(b.status, Status::Warn);
        assert!(b.detail.contains("b is off"), "{}", b.detail);
        assert!(
            v.iter().all(|c| !c.check.starts_with("a:")),
            "the default is not here"
        );
        assert!(v
            .iter()
            .any(|c| c.check == "c: engine" && c.status == Status::Ok));
        assert!(v.iter().any(|c| c.check == "c: image present"));
        assert!(v.iter().all(|c| c.status != Status::Fail));
    }
}
