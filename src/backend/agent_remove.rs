//! Removing an agent session (issue 12): bring its branch back into the host
//! repository, push it unless asked not to, then delete the workspace. A removal
//! that cannot bring the branch back stops before deleting anything and says why.
//! CONTRACT: the agent-sessions helper implements this; the TUI only calls it.
use super::agent_return::{self, BroughtBack, NoRemote};
use super::{lifecycle, provision, Ctx};
use crate::domain::agents::AgentSession;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceState;
use anyhow::{bail, Result};
use serde::Serialize;

/// What a removal did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub name: String,
    /// None: the session had no repository (nothing to bring back).
    pub brought_back: Option<BroughtBack>,
    /// The remote it was pushed to (None: not pushed, see `push_skipped`).
    pub pushed_to: Option<String>,
    /// Why it was not pushed (`--no-push`, no remote), when it was not.
    pub push_skipped: Option<String>,
}

/// Ends what runs in the workspace as its user (the agent, its tmux, the exec of
/// an interrupted prompt), init and sshd aside: SIGTERM, up to 5 s to finish (an
/// agent's last commit), then SIGKILL. Without it a commit the agent makes after
/// the bring-back would go with the workspace.
const STOP_AGENT: &str = r#"pids() { for p in /proc/[0-9]*; do pid=${p#/proc/}; [ "$pid" = 1 ] && continue; [ "$pid" = "$$" ] && continue; c=$(cat "$p/comm" 2>/dev/null) || continue; case "$c" in sshd|sshd-session|docker-init) continue;; esac; echo "$pid"; done; }
list=$(pids)
[ -n "$list" ] || exit 0
kill -TERM $list 2>/dev/null
for i in $(seq 25); do
  alive=""
  for p in $list; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
  [ -n "$alive" ] || exit 0
  list=$alive
  sleep 0.2
done
kill -KILL $list 2>/dev/null
exit 0
"#;

/// Stops the agent in session `s`'s workspace when it runs (best effort: the
/// bring-back that follows refuses uncommitted work either way).
async fn stop_agent(ctx: &Ctx, name: &WorkspaceName) {
    let Ok(w) = lifecycle::find(ctx, name).await else {
        return;
    };
    if w.state != WorkspaceState::Running {
        return;
    }
    let _ = provision::run_script(
        ctx.engine.as_ref(),
        &w.container,
        "stopping the agent",
        STOP_AGENT,
        &[],
        Vec::new(),
    )
    .await;
}

/// Removes session `s`; `push`: push the branch after bringing it back (a session
/// started with `--no-push` never pushes).
pub async fn remove(ctx: &Ctx, s: &AgentSession, push: bool) -> Result<Removed> {
    let name = WorkspaceName::parse(&s.name)?;
    let audit = |action: &'static str, detail: String| async move {
        let _ = ctx.store.audit(&s.name, action, &detail).await;
    };
    if s.repo.is_some() {
        stop_agent(ctx, &name).await;
    }
    let brought_back = match &s.repo {
        None => None,
        Some(_) => match agent_return::bring_back(ctx, s).await {
            Ok(b) => Some(b),
            Err(e) => {
                audit("agent-rm-refused", format!("{e:#}")).await;
                bail!(
                    "session {} is kept: its branch {} could not be brought back: {e:#}",
                    s.name,
                    s.branch
                );
            }
        },
    };
    let (mut pushed_to, mut push_skipped) = (None, None);
    if let (Some(b), Some(repo)) = (&brought_back, &s.repo) {
        if !push || s.no_push {
            push_skipped = Some("--no-push".to_string());
        } else {
            match agent_return::push(s).await {
                Ok(remote) => {
                    audit("agent-push", format!("{} to {remote}", b.branch)).await;
                    pushed_to = Some(remote);
                }
                Err(e) if e.is::<NoRemote>() => push_skipped = Some(e.to_string()),
                Err(e) => {
                    audit("agent-push-failed", format!("{e:#}")).await;
                    bail!(
                        "branch {} is in {repo} now, but pushing it failed: {e:#}. Session {} is kept: push the branch yourself (`git -C {repo} push`), then `berth agent rm {} --no-push`",
                        b.branch,
                        s.name,
                        s.name
                    );
                }
            }
        }
    }
    lifecycle::delete(ctx, &name, false).await?;
    let what = match &brought_back {
        Some(b) => format!(
            "removed; {} at {} ({} ahead) in the host repository, {}",
            b.branch,
            b.commit,
            b.ahead,
            match (&pushed_to, &push_skipped) {
                (Some(r), _) => format!("pushed to {r}"),
                (None, Some(why)) => format!("not pushed ({why})"),
                (None, None) => "not pushed".into(),
            }
        ),
        None => "removed (no repository)".into(),
    };
    audit("agent-rm", what).await;
    Ok(Removed {
        name: s.name.clone(),
        brought_back,
        pushed_to,
        push_skipped,
    })
}
