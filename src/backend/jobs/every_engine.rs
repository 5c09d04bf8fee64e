//! The jobs that act on every engine (cleanup, alerts): one round runs on each
//! engine of the context's set, through that engine's own context. An engine
//! that cannot be reached (connected within [`ASK_TIMEOUT`], or listed) is
//! skipped for the round and said, never taken for one without workspaces.
//! With one engine a round is exactly the job on the context as before.
use crate::backend::engine_pick::ASK_TIMEOUT;
use crate::backend::Ctx;
use anyhow::Result;
use std::future::Future;

/// What one round over the engines gave.
#[derive(Debug)]
pub struct Round<T> {
    /// Each engine that answered, in the order of the definitions, with its result.
    pub done: Vec<(String, T)>,
    /// Each engine skipped this round, with why.
    pub skipped: Vec<(String, String)>,
}

impl<T> Round<T> {
    /// A sentence per skipped engine, for the job's log and status.
    pub fn skip_lines(&self, what: &str) -> Vec<String> {
        self.skipped
            .iter()
            .map(|(e, why)| {
                format!("engine {e} could not be reached ({why}); {what} skipped it this round")
            })
            .collect()
    }
}

/// Runs `f` on every engine of `ctx` at once, each through its own context.
/// Nothing is spawned: the rounds run on the caller's task and end with it.
pub async fn each<T, F, Fut>(ctx: &Ctx, f: F) -> Round<T>
where
    F: Fn(Ctx) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let runs = ctx.engines.defs().iter().map(|d| {
        let name = d.name.clone();
        let f = &f;
        async move {
            let on = match tokio::time::timeout(ASK_TIMEOUT, ctx.on(&name)).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    let why = strip(&name, &format!("{e:#}"));
                    return (name, Err(why));
                }
                Err(_) => {
                    let why = format!("no answer within {} s", ASK_TIMEOUT.as_secs());
                    return (name, Err(why));
                }
            };
            let r = f(on).await.map_err(|e| strip(&name, &format!("{e:#}")));
            (name, r)
        }
    });
    let mut round = Round {
        done: Vec::new(),
        skipped: Vec::new(),
    };
    for (name, r) in futures_util::future::join_all(runs).await {
        match r {
            Ok(v) => round.done.push((name, v)),
            Err(why) => round.skipped.push((name, why)),
        }
    }
    round
}

/// An error without the "engine NAME: " the set puts before it.
fn strip(name: &str, e: &str) -> String {
    let prefix = format!("engine {name}: ");
    e.strip_prefix(&prefix).unwrap_or(e).to_string()
}
