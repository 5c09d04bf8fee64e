//! Bringing an agent session's branch back into the host repository (issue 12),
//! from the host side: the agent never gets write access to the host's repository.
//! CONTRACT: the agent-sessions helper implements these; others only call them.
use super::Ctx;
use crate::domain::agents::AgentSession;
use anyhow::{bail, Result};
use serde::Serialize;

/// What a bring-back did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BroughtBack {
    /// The branch now in the host repository (the session's branch).
    pub branch: String,
    /// Its tip commit.
    pub commit: String,
    /// Commits on it beyond the session's base commit.
    pub ahead: u32,
}

/// Fetches the session's branch from its clone into the host repository as
/// `refs/heads/BRANCH` (never moving a branch the host has elsewhere: a branch that
/// diverged is an error that says so). Pushes nothing.
pub async fn bring_back(_ctx: &Ctx, s: &AgentSession) -> Result<BroughtBack> {
    bail!("bringing back {} is not built yet", s.branch)
}

/// Pushes the session's branch from the host repository to its remote (the
/// upstream of the base branch, else `origin`); returns the remote's name.
pub async fn push(s: &AgentSession) -> Result<String> {
    bail!("pushing {} is not built yet", s.branch)
}
