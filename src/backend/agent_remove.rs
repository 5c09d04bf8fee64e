//! Removing an agent session (issue 12): bring its branch back into the host
//! repository, push it unless asked not to, then delete the workspace. A removal
//! that cannot bring the branch back stops before deleting anything and says why.
//! CONTRACT: the agent-sessions helper implements this; the TUI only calls it.
use super::agent_return::BroughtBack;
use super::Ctx;
use crate::domain::agents::AgentSession;
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

/// Removes session `s`; `push`: push the branch after bringing it back.
pub async fn remove(_ctx: &Ctx, s: &AgentSession, push: bool) -> Result<Removed> {
    let _ = push;
    bail!("removing agent session {} is not built yet", s.name)
}
