//! Which engine a command works on. With an engine the user chose (`--engine`,
//! BERTH_ENGINE, the config's `engine`) or only one engine defined, it is that
//! one, without asking any engine anything. Otherwise a command naming a
//! workspace looks for it on every engine at once, each asked with a short
//! timeout so one slow or unreachable engine never holds up the others. What an
//! interrupted create left there (its volume, its record in the store) counts as
//! the workspace being there, so `berth delete NAME` of it goes to its engine.
use super::engines::EngineSet;
use crate::domain::naming::WorkspaceName;
use crate::engine::Engine;
use anyhow::{bail, Result};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long one engine may take to answer a question asked of all of them.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// An engine's answer, or why there is none (a sentence).
pub type Answer<T> = (String, std::result::Result<T, String>);

/// Asks every engine of `set` at once (connecting those not connected yet), each
/// bounded by `timeout`; the answers come in the order of the definitions.
/// Nothing is spawned: the questions run on the caller's task and end with it.
pub async fn ask_all<T, F, Fut>(set: &EngineSet, timeout: Duration, ask: F) -> Vec<Answer<T>>
where
    F: Fn(Arc<dyn Engine>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let asks = set.defs().iter().map(|d| {
        let name = d.name.clone();
        let ask = &ask;
        async move {
            let r = tokio::time::timeout(timeout, async {
                let e = set.get(&name).await?;
                ask(e).await
            })
            .await;
            let r = match r {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => {
                    let e = format!("{e:#}");
                    let prefix = format!("engine {name}: ");
                    Err(e.strip_prefix(&prefix).map(str::to_string).unwrap_or(e))
                }
                Err(_) => Err(format!(
                    "no answer within {} s",
                    timeout.as_secs_f64().round()
                )),
            };
            (name, r)
        }
    });
    futures_util::future::join_all(asks).await
}

/// The engine a command naming one workspace works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub engine: String,
    /// Engines that could not be asked, with why (only when not found anywhere).
    pub unreachable: Vec<(String, String)>,
}

impl Located {
    /// What to say on stderr before the command runs (nothing when all answered).
    pub fn notes(&self, name: &str) -> Vec<String> {
        self.unreachable
            .iter()
            .map(|(e, why)| {
                format!("engine {e} could not be asked whether it has workspace {name} ({why}); looking on {} only", self.engine)
            })
            .collect()
    }
}

/// Where workspace `name` is: the chosen engine when the user chose one (or only
/// one is defined); else the one engine that has it; on several, an error naming
/// them that says to pick one with `--engine`; on none, the default engine (whose
/// usual not-found sentence follows), with the engines that could not be asked.
/// `leftover_on`: the engines where the store has the record of a create of
/// `name` that ended without finishing (there, its volume counts too).
pub async fn locate(
    set: &EngineSet,
    name: &WorkspaceName,
    leftover_on: &[String],
) -> Result<Located> {
    locate_within(set, name, leftover_on, ASK_TIMEOUT).await
}

/// The engines where `store` has the record of an unfinished, no longer running
/// create of `name` (none when the store cannot be read: containers still count).
pub async fn leftovers_of(store: &crate::store::Store, name: &WorkspaceName) -> Vec<String> {
    match store.provisioning().await {
        Ok(records) => records
            .into_iter()
            .filter(|(r, alive)| !alive && r.name == name.as_str())
            .map(|(r, _)| r.engine)
            .collect(),
        Err(e) => {
            tracing::warn!("cannot read provisioning records: {e:#}");
            Vec::new()
        }
    }
}

pub async fn locate_within(
    set: &EngineSet,
    name: &WorkspaceName,
    leftover_on: &[String],
    timeout: Duration,
) -> Result<Located> {
    let default = set.default_name().to_string();
    if !set.several() || set.explicit() {
        return Ok(Located {
            engine: default,
            unreachable: Vec::new(),
        });
    }
    let (container, volume) = (name.container(), name.volume());
    let answers = ask_all(set, timeout, |e| {
        let (c, v) = (container.clone(), volume.clone());
        let leftover = leftover_on.contains(&e.name());
        async move {
            Ok(e.inspect_workspace(&c).await?.is_some()
                || (leftover && e.volume_exists(&v).await?))
        }
    })
    .await;
    let mut found = Vec::new();
    let mut unreachable = Vec::new();
    for (engine, r) in answers {
        match r {
            Ok(true) => found.push(engine),
            Ok(false) => {}
            Err(why) => unreachable.push((engine, why)),
        }
    }
    match found.as_slice() {
        [one] => Ok(Located {
            engine: one.clone(),
            unreachable: Vec::new(),
        }),
        [] => Ok(Located {
            engine: default,
            unreachable,
        }),
        several => {
            let flags: Vec<String> = several.iter().map(|e| format!("--engine {e}")).collect();
            bail!(
                "workspace {name} exists on several engines ({}); say which with {}",
                several.join(", "),
                flags.join(" or ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::engines::Placement;
    use crate::engine::memory::MemoryEngine;

    fn engines(names: &[&str]) -> (Vec<MemoryEngine>, EngineSet) {
        let (mems, set) = crate::backend::engines::memory_set(names, Placement::Default);
        (mems, set)
    }

    fn n(s: &str) -> WorkspaceName {
        WorkspaceName::parse(s).unwrap()
    }

    #[tokio::test]
    async fn a_workspace_on_one_engine_is_found_there() {
        let (m, set) = engines(&["a", "b", "c"]);
        m[1].add_workspace("web", 4040);
        let l = locate(&set, &n("web"), &[]).await.unwrap();
        assert_eq!(l.engine, "b");
        assert!(l.unreachable.is_empty() && l.notes("web").is_empty());
    }

    /// An interrupted create of web on c left only its volume and its record:
    /// web is found on c (a volume of that name elsewhere, with no record, is
    /// not berth's leftover).
    #[tokio::test]
    async fn a_leftover_is_found_on_the_engine_of_its_record() {
        let (m, set) = engines(&["a", "b", "c"]);
        m[1].add_volume("workspace-web", Default::default());
        m[2].add_volume("workspace-web", Default::default());
        let l = locate(&set, &n("web"), &["c".to_string()]).await.unwrap();
        assert_eq!(l.engine, "c");
        // Without the record: nowhere, so the default engine.
        assert_eq!(locate(&set, &n("web"), &[]).await.unwrap().engine, "a");
    }

    #[tokio::test]
    async fn a_name_on_several_engines_asks_for_engine() {
        let (m, set) = engines(&["a", "b", "c"]);
        m[0].add_workspace("web", 4040);
        m[2].add_workspace("web", 4040);
        let e = locate(&set, &n("web"), &[]).await.unwrap_err().to_string();
        assert!(
            e.contains("several engines (a, c)") && e.contains("--engine a or --engine c"),
            "{e}"
        );
        // Chosen by the user: that engine, with no question asked.
        let set = set.chosen("c").unwrap();
        assert_eq!(locate(&set, &n("web"), &[]).await.unwrap().engine, "c");
    }

    #[tokio::test]
    async fn nowhere_is_the_default_engine_and_says_who_could_not_be_asked() {
        let (m, set) = engines(&["a", "b", "c"]);
        m[1].go_down("b is off");
        let l = locate(&set, &n("web"), &[]).await.unwrap();
        assert_eq!(l.engine, "a");
        assert_eq!(l.unreachable.len(), 1);
        assert_eq!(l.unreachable[0].0, "b");
        let note = &l.notes("web")[0];
        assert!(
            note.contains("engine b") && note.contains("b is off"),
            "{note}"
        );
        // Found on a live engine while another is down: that one, no note.
        m[2].add_workspace("web", 4040);
        let l = locate(&set, &n("web"), &[]).await.unwrap();
        assert_eq!((l.engine.as_str(), l.unreachable.len()), ("c", 0));
    }

    #[tokio::test]
    async fn one_engine_asks_nothing() {
        let (m, set) = engines(&["a"]);
        m[0].go_down("off");
        let l = locate(&set, &n("web"), &[]).await.unwrap();
        assert_eq!(l.engine, "a");
        assert_eq!(m[0].calls(crate::engine::memory::Op::InspectWorkspace), 0);
    }
}
