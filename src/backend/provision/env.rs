//! Environment delivery. Public variables (`--env`, the profile's) are in the
//! container's config and in /etc/berth/env for ssh sessions. Passed-through host
//! variables are secrets: their values go only into /run/berth/env, a tmpfs owned by
//! the workspace user (0400), written by a process inside whose stdin carries them,
//! so they never reach a command line, a label, the container's config, an image
//! layer or the host's disk. Only their names are recorded (a label), and every start
//! delivers them again from the environment of the berth process doing it.
//!
//! A tmpfs is emptied whenever the container stops. Starts berth makes
//! (`start`, `restart`, a `--thread` create that wakes its workspace) deliver the
//! values again ([`on_start`]). A start the engine makes by itself (the
//! `unless-stopped` restart policy after a crash or a dockerd restart, or a plain
//! `docker start`) leaves /run/berth empty until the next berth start, unless a
//! berth TUI is watching: its watcher sees the start and fills an EMPTY tmpfs from
//! its own environment ([`refill_if_empty`]), never replacing what a berth start wrote.
use super::{note, run_script};
use crate::backend::{Ctx, ProgressFn};
use crate::domain::create_options::Forward;
use crate::domain::env::{env_file, names_from_label};
use crate::domain::labels;
use crate::domain::workspace::Workspace;
use crate::engine::{exec_collect, Engine, ExecRequest};
use anyhow::{Context, Result};

/// The tmpfs every workspace gets, and its mount options (owned by the workspace user).
pub const TMPFS: &str = "/run/berth";
pub const TMPFS_OPTIONS: &str = "uid=1000,gid=1000,mode=0700,size=4m,nosuid,nodev,noexec";
/// Passed-through values (on the tmpfs).
pub const SECRETS_FILE: &str = "/run/berth/env";
/// Public variables, for ssh sessions (which do not inherit the container's config).
pub const PUBLIC_FILE: &str = "/etc/berth/env";
/// Sourced by login shells (/etc/profile.d), bash (BASH_ENV, bash.bashrc) and exec.
pub use crate::domain::env::LOADER;
const PROFILE_D: &str = "/etc/profile.d/berth-env.sh";

const LOADER_TEXT: &str = include_str!("../../../assets/image/env.sh");
const PROFILE_D_TEXT: &str =
    "# berth: see /etc/berth/env.sh\nif [ -r /etc/berth/env.sh ]; then . /etc/berth/env.sh; fi\n";

/// Writes the secrets file; refuses when /run/berth is not a tmpfs (a workspace made
/// before berth mounted one), rather than put values on the disk.
const WRITE_SECRETS: &str = r#"set -e
if ! grep -qs ' /run/berth tmpfs ' /proc/mounts; then
  echo "/run/berth is not a tmpfs in this workspace (made by an older berth); not writing secrets to its disk. Re-create it to pass variables through" >&2
  exit 3
fi
umask 077
cat > /run/berth/env.new
chmod 0400 /run/berth/env.new
mv -f /run/berth/env.new /run/berth/env
"#;

/// Like [`WRITE_SECRETS`], but only when /run/berth/env is not there: a hard link
/// cannot replace a file, so a berth start that wrote it meanwhile wins.
const FILL_SECRETS: &str = r#"set -e
if ! grep -qs ' /run/berth tmpfs ' /proc/mounts; then
  echo "/run/berth is not a tmpfs in this workspace" >&2
  exit 3
fi
umask 077
t=/run/berth/env.fill.$$
cat > "$t"
chmod 0400 "$t"
ln "$t" /run/berth/env 2>/dev/null || true
rm -f "$t"
"#;

/// Does this workspace have the environment loader (made by a berth that writes it)?
/// Workspaces from before it get commands run as they are.
pub fn has_loader(w: &Workspace) -> bool {
    w.labels.contains_key(labels::FORWARD) || w.labels.contains_key(labels::SECRETS)
}

/// Secret values found in this process's environment, and the names it lacks.
pub struct Gathered {
    pub vars: Vec<(String, String)>,
    pub missing: Vec<String>,
}

/// Reads `names` from this process's environment, plus the host's GitHub token as
/// GH_TOKEN when `gh` forwarding is on (and GH_TOKEN was not passed through).
pub async fn gather(names: &[String], gh: bool) -> Gathered {
    let mut vars = Vec::new();
    let mut missing = Vec::new();
    for n in names {
        match std::env::var(n) {
            Ok(v) => vars.push((n.clone(), v)),
            Err(_) => missing.push(n.clone()),
        }
    }
    if gh && !vars.iter().any(|(k, _)| k == "GH_TOKEN") {
        // Not reported missing: gh forwarding is on by default, and most hosts
        // without gh would hear it on every start.
        if let Some(t) = super::gh::host_token().await {
            vars.push(("GH_TOKEN".into(), t));
        }
    }
    Gathered { vars, missing }
}

/// Writes the values onto the workspace's tmpfs (replacing what was there).
pub async fn write_secrets(ctx: &Ctx, container: &str, vars: &[(String, String)]) -> Result<()> {
    run_script(
        ctx.engine.as_ref(),
        container,
        "writing /run/berth/env",
        WRITE_SECRETS,
        &[],
        env_file(vars).into_bytes(),
    )
    .await?;
    Ok(())
}

/// The loaders and the public file (not secret: through the engine, any image).
pub async fn write_public(ctx: &Ctx, container: &str, public: &[(String, String)]) -> Result<()> {
    let e = &ctx.engine;
    e.write_file(container, LOADER, LOADER_TEXT.as_bytes(), 0o644)
        .await
        .context("writing the environment loader")?;
    e.write_file(container, PROFILE_D, PROFILE_D_TEXT.as_bytes(), 0o644)
        .await
        .context("writing the login-shell loader")?;
    e.write_file(container, PUBLIC_FILE, env_file(public).as_bytes(), 0o644)
        .await
        .context("writing the public environment")?;
    Ok(())
}

fn say_missing(name: &str, missing: &[String]) -> Option<String> {
    (!missing.is_empty()).then(|| {
        format!(
            "workspace {name}: not passed through, not set in this berth's environment: {} (set them and run `berth restart {name}`)",
            missing.join(", ")
        )
    })
}

/// The env step of a create: loaders, public file, passed-through values.
pub async fn at_create(
    ctx: &Ctx,
    container: &str,
    name: &str,
    public: &[(String, String)],
    secrets: &[String],
    progress: ProgressFn<'_>,
) -> Result<()> {
    write_public(ctx, container, public).await?;
    let g = gather(secrets, false).await;
    write_secrets(ctx, container, &g.vars).await?;
    let names: Vec<&str> = g.vars.iter().map(|(k, _)| k.as_str()).collect();
    if !names.is_empty() {
        note(progress, format!("passed through: {}", names.join(", "))).await;
    }
    if let Some(m) = say_missing(name, &g.missing) {
        note(progress, m).await;
    }
    Ok(())
}

/// What to deliver on start: the passed-through names (a cold workspace's label; a
/// claimed pool workspace's file, written by its claim), and whether the GitHub
/// token goes too. `None` when there is nothing to deliver.
async fn recorded(engine: &dyn Engine, w: &Workspace) -> Option<(Vec<String>, bool)> {
    let mut names = w
        .labels
        .get(labels::SECRETS)
        .map(|l| names_from_label(l))
        .unwrap_or_default();
    if names.is_empty() && w.labels.contains_key(crate::domain::pool::POOL) {
        names = claimed_names(engine, w).await;
    }
    let gh = w
        .labels
        .get(labels::FORWARD)
        .is_some_and(|f| Forward::from_label(f).gh);
    (!names.is_empty() || gh).then_some((names, gh))
}

/// The names a claim recorded in a pool-born workspace (none when unreadable: the
/// start then says nothing is passed through, as for a workspace without any).
async fn claimed_names(engine: &dyn Engine, w: &Workspace) -> Vec<String> {
    const LIMIT: usize = 64 << 10;
    match engine
        .read_file(&w.container, crate::domain::pool::ENV_NAMES_PATH, LIMIT)
        .await
    {
        Ok(Some(b)) => String::from_utf8_lossy(&b)
            .lines()
            .flat_map(names_from_label)
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => {
            tracing::warn!("cannot read the passed-through names of {}: {e}", w.name);
            Vec::new()
        }
    }
}

/// A claim records the names (never values) it passed through in the workspace,
/// where [`recorded`] finds them on every start.
pub async fn record_claimed_names(ctx: &Ctx, container: &str, names: &[String]) -> Result<()> {
    let text: String = names.iter().map(|n| format!("{n}\n")).collect();
    ctx.engine
        .write_file(
            container,
            crate::domain::pool::ENV_NAMES_PATH,
            text.as_bytes(),
            0o644,
        )
        .await
        .context("recording the passed-through names")
}

/// After a start berth made: delivers the values again; a failure is said, not fatal
/// (the workspace runs; its shells just lack those values).
pub async fn on_start(ctx: &Ctx, w: &Workspace, progress: ProgressFn<'_>) {
    if let Err(e) = redeliver(ctx, w, progress).await {
        tracing::warn!("redelivering the environment of {}: {e:#}", w.name);
        note(
            progress,
            format!(
                "{e:#}; the workspace runs without its passed-through variables (`berth restart {}` tries again)",
                w.name
            ),
        )
        .await;
    }
}

/// On every start: the recorded names' values again, from this process's environment.
pub async fn redeliver(ctx: &Ctx, w: &Workspace, progress: ProgressFn<'_>) -> Result<()> {
    let Some((names, gh)) = recorded(ctx.engine.as_ref(), w).await else {
        return Ok(());
    };
    let g = gather(&names, gh).await;
    write_secrets(ctx, &w.container, &g.vars)
        .await
        .with_context(|| format!("delivering the environment of workspace {}", w.name))?;
    if let Some(m) = say_missing(&w.name, &g.missing) {
        note(progress, m).await;
    }
    Ok(())
}

/// For the watcher, after a start it did not make (see the module doc): fills an
/// empty /run/berth/env from this process's environment. Returns whether it wrote.
pub async fn refill_if_empty(engine: &dyn Engine, w: &Workspace) -> Result<bool> {
    let Some((names, gh)) = recorded(engine, w).await else {
        return Ok(false);
    };
    let probe = ExecRequest {
        cmd: vec!["test".into(), "-e".into(), SECRETS_FILE.into()],
        user: Some(crate::domain::workspace::WORKSPACE_USER.into()),
        ..Default::default()
    };
    let (outcome, _, _) = exec_collect(engine, &w.container, probe).await?;
    if outcome.exit_code == 0 {
        return Ok(false);
    }
    let g = gather(&names, gh).await;
    run_script(
        engine,
        &w.container,
        "filling /run/berth/env",
        FILL_SECRETS,
        &[],
        env_file(&g.vars).into_bytes(),
    )
    .await?;
    if !g.missing.is_empty() {
        tracing::warn!(
            "workspace {}: restarted by the engine; not in this berth's environment: {}",
            w.name,
            g.missing.join(", ")
        );
    }
    Ok(true)
}
