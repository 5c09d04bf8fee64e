//! What an agent gets inside its workspace beyond its keys (which arrive as
//! secret files through `create --secret`): its MCP servers, written into the
//! agent's own configuration file (`domain::agent_mcp`), merged with what is
//! there. Files are written by an exec whose standard input carries the content
//! (the command line names only paths), as the workspace user, mode 0600. No
//! secret value is ever in that file: a server that needs one runs wrapped, the
//! wrapper reading /run/berth/secrets at launch.
use super::provision::run_script;
use super::Ctx;
use crate::domain::agent_mcp::{config_path, entries, merge, secret_names};
use crate::domain::agents::AgentDef;
use crate::domain::secrets::DIR;
use crate::domain::workspace::{Workspace, WORKSPACE_HOME};
use anyhow::{anyhow, Result};

/// Prints the file at $1 when it exists.
const READ: &str = r#"if [ -e "$1" ]; then cat -- "$1"; fi"#;
/// Writes standard input to $1 (0600, its directory made 0700 when new), replacing
/// it in one step.
const WRITE: &str = r#"umask 077; mkdir -p -- "$(dirname -- "$1")" && cat > "$1.berth-new" && chmod 600 "$1.berth-new" && mv -f -- "$1.berth-new" "$1""#;
/// Names (of $@) whose secret file is missing.
const MISSING: &str =
    r#"d="$1"; shift; for n in "$@"; do [ -e "$d/$n" ] || printf '%s\n' "$n"; done"#;

/// Configures `def`'s MCP servers in `ws`; the warnings are for the person (a
/// secret the workspace lacks, a server left out, an agent whose format berth
/// does not know). An existing file berth cannot read as its format is left alone
/// and is an error (never clobbered).
pub async fn configure(ctx: &Ctx, ws: &Workspace, def: &AgentDef) -> Result<Vec<String>> {
    let mut warnings = missing_secrets(ctx, ws, def).await?;
    if def.mcp_servers.is_empty() {
        return Ok(warnings);
    }
    let (Some(format), Some(rel)) = (def.mcp_format, config_path(def).map_err(|e| anyhow!(e))?)
    else {
        warnings.push(format!(
            "agent {} lists MCP servers but has no mcp_format: berth does not know where it keeps them, so they are not configured",
            def.name
        ));
        return Ok(warnings);
    };
    let (list, left_out) = entries(&def.mcp_servers);
    warnings.extend(left_out);
    let path = format!("{WORKSPACE_HOME}/{rel}");
    let engine = ctx.engine.as_ref();
    let what = format!("reading {path} in {}", ws.name);
    let existing = run_script(engine, &ws.container, &what, READ, &[&path], Vec::new()).await?;
    let existing = (!existing.is_empty()).then_some(existing.as_str());
    let text = merge(format, existing, &list).map_err(|e| {
        anyhow!(
            "{path} in workspace {} cannot be updated with agent {}'s MCP servers: {e}; fix or remove that file and try again (berth leaves it as it is)",
            ws.name, def.name
        )
    })?;
    let what = format!("writing {path} in {}", ws.name);
    run_script(
        engine,
        &ws.container,
        &what,
        WRITE,
        &[&path],
        text.into_bytes(),
    )
    .await?;
    Ok(warnings)
}

/// A warning for each secret the session needs that the workspace has no file of.
async fn missing_secrets(ctx: &Ctx, ws: &Workspace, def: &AgentDef) -> Result<Vec<String>> {
    let names = secret_names(def);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![DIR];
    args.extend(names.iter().map(String::as_str));
    let what = format!(
        "looking for the secret files of agent {} in {}",
        def.name, ws.name
    );
    let out = run_script(
        ctx.engine.as_ref(),
        &ws.container,
        &what,
        MISSING,
        &args,
        Vec::new(),
    )
    .await?;
    Ok(out
        .lines()
        .filter(|n| !n.is_empty())
        .map(|n| {
            format!(
                "workspace {} has no secret {n} (agent {} reads it): set it with `berth secret set {n}` and create the session with --secret {n}; until then its variable is unset",
                ws.name, def.name
            )
        })
        .collect())
}
