//! Every engine's workspaces in one list: each engine asked at once with a
//! timeout, an engine that cannot be reached said rather than waited for.
use super::engine_pick::{ask_all, ASK_TIMEOUT};
use super::engines::EngineSet;
use super::inventory;
use crate::domain::workspace::Workspace;
use crate::store::Store;
use std::time::Duration;

/// The merged list.
#[derive(Debug, Default)]
pub struct AllList {
    /// Sorted by name, then engine.
    pub workspaces: Vec<Workspace>,
    /// Engines that answered.
    pub answered: Vec<String>,
    /// Engines that did not, with why.
    pub unreachable: Vec<(String, String)>,
}

impl AllList {
    /// One line per engine that could not be asked.
    pub fn notes(&self) -> Vec<String> {
        self.unreachable
            .iter()
            .map(|(e, why)| {
                format!("engine {e} could not be reached, its workspaces are not listed: {why}")
            })
            .collect()
    }
}

/// The workspaces of every engine of `set`.
pub async fn list_all(set: &EngineSet, store: &Store) -> AllList {
    list_all_within(set, store, ASK_TIMEOUT).await
}

pub async fn list_all_within(set: &EngineSet, store: &Store, timeout: Duration) -> AllList {
    let answers = ask_all(set, timeout, |e| async move {
        inventory::list_with(e.as_ref(), store).await
    })
    .await;
    let mut out = AllList::default();
    for (engine, r) in answers {
        match r {
            Ok(ws) => {
                out.answered.push(engine);
                out.workspaces.extend(ws);
            }
            Err(why) => out.unreachable.push((engine, why)),
        }
    }
    out.workspaces
        .sort_by(|a, b| (&a.name, &a.engine).cmp(&(&b.name, &b.engine)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::engines::Placement;
    use crate::engine::memory::MemoryEngine;

    fn set(names: &[&str]) -> (Vec<MemoryEngine>, EngineSet) {
        let (mems, set) = crate::backend::engines::memory_set(names, Placement::Default);
        (mems, set)
    }

    #[tokio::test]
    async fn the_list_merges_engines_and_says_which_one_is_down() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("berth.db"));
        let (m, s) = set(&["a", "b", "c"]);
        m[0].add_workspace("web", 4040);
        m[1].add_workspace("api", 4040);
        m[1].add_workspace("web", 4041);
        m[2].add_workspace("db", 4040);
        m[2].go_down("c is off");
        let l = list_all(&s, &store).await;
        let got: Vec<(&str, &str)> = l
            .workspaces
            .iter()
            .map(|w| (w.name.as_str(), w.engine.as_str()))
            .collect();
        assert_eq!(got, [("api", "b"), ("web", "a"), ("web", "b")]);
        assert_eq!(l.answered, ["a", "b"]);
        assert_eq!(l.unreachable.len(), 1);
        assert!(l.notes()[0].contains("engine c") && l.notes()[0].contains("c is off"));
    }

    // Real time: the store answers from its own thread, which paused time would
    // not wait for.
    #[tokio::test]
    async fn a_slow_engine_is_cut_off_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("berth.db"));
        let (m, s) = set(&["a", "b"]);
        m[0].add_workspace("web", 4040);
        m[1].add_workspace("slow", 4040);
        m[1].set_list_delay(Duration::from_secs(3600));
        let l = list_all_within(&s, &store, Duration::from_secs(3)).await;
        assert_eq!(l.workspaces.len(), 1);
        assert_eq!(l.unreachable, [("b".into(), "no answer within 3 s".into())]);
    }
}
