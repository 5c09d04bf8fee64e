//! MCP servers inside an agent's workspace (issue 12). PLACEHOLDER until the
//! preflight helper's module lands: it configures nothing.
use super::Ctx;
use crate::domain::agents::AgentDef;
use crate::domain::workspace::Workspace;
use anyhow::Result;

/// Configures the agent's MCP servers inside `ws`; returns what it did, a line each.
pub async fn configure(_ctx: &Ctx, _ws: &Workspace, _def: &AgentDef) -> Result<Vec<String>> {
    Ok(vec![])
}
