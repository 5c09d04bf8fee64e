//! Log forwarding (`berth create --forward-logs TARGET`): the forwarder sidecar
//! `workspace-NAME.logs` ships the logs of the workspace and of its other sidecars
//! to a file or a syslog endpoint (see `domain::log_forward`). It reads the
//! engine's json-file logs, bind-mounted read-only, never the engine's socket.
//!
//! It follows the set of sidecars: `berth service add`/`rm` make it again with the
//! new set, and so does every start of the workspace when the set changed (a
//! sidecar added another way). Starting, stopping and removal follow the workspace
//! like every sidecar (`backend::sidecars`); its volume keeps where each source
//! was when it stopped, so lines are not shipped twice across stops.
pub mod image;
mod target;
#[cfg(test)]
mod tests;

use super::{Ctx, Progress, ProgressFn, STOP_TIMEOUT_SECS};
use crate::domain::labels;
use crate::domain::log_forward::{self as lf, Forwarding, Source, Target};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{Workspace, WorkspaceSpec, WorkspaceState};
use crate::engine::{Bind, LogFile, LogForwarderSpec};
use anyhow::{anyhow, bail, Result};
use std::path::PathBuf;

/// What the logs step made (removed again if the create fails).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Made {
    pub container: Option<String>,
    pub volume: Option<String>,
    /// The log file on the host, when this create made it.
    pub file: Option<PathBuf>,
}

impl Made {
    /// Removes what was made; the sentences of what went and what could not.
    pub async fn undo(self, ctx: &Ctx) -> (Vec<String>, Vec<String>) {
        let (mut removed, mut problems) = (Vec::new(), Vec::new());
        if let Some(c) = self.container {
            match ctx.engine.remove_container(&c).await {
                Ok(()) => removed.push(format!("sidecar {c}")),
                Err(e) if e.is_not_found() => {}
                Err(e) => problems.push(format!("sidecar {c}: {e}")),
            }
        }
        if let Some(v) = self.volume {
            match ctx.engine.remove_volume(&v).await {
                Ok(()) => removed.push(format!("volume {v}")),
                Err(e) if e.is_not_found() => {}
                Err(e) => problems.push(format!("volume {v}: {e}")),
            }
        }
        if let Some(f) = self.file {
            match target::remove_if_empty(f.clone()).await {
                Ok(true) => removed.push(format!("log file {}", f.display())),
                Ok(false) => removed.push(format!(
                    "nothing of the log file {} (it holds lines; kept)",
                    f.display()
                )),
                Err(e) => problems.push(format!("log file {}: {e}", f.display())),
            }
        }
        (removed, problems)
    }
}

/// Refuses a create whose forwarding cannot work, before anything is made.
pub async fn preflight(ctx: &Ctx, spec: &WorkspaceSpec) -> Result<(), String> {
    let Some(t) = &spec.options.forward_logs else {
        return Ok(());
    };
    if let Some(p) = t.file() {
        target::check(p).await?;
    }
    match image::IMAGE.missing_sentence(ctx).await {
        Ok(None) => Ok(()),
        Ok(Some(s)) => Err(s),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// The create step: the file, the image, the volume, the forwarder, started.
pub async fn provision(
    ctx: &Ctx,
    spec: &WorkspaceSpec,
    made: &mut Made,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let Some(t) = &spec.options.forward_logs else {
        return Ok(());
    };
    let name = &spec.name;
    if let Some(p) = t.file() {
        if target::ensure(p).await? {
            made.file = Some(p.to_path_buf());
        }
    }
    let image = image::IMAGE.ensure(ctx, progress).await?;
    let sidecar = name.sidecar(lf::KIND);
    // One an interrupted create left: made again here.
    match ctx.engine.remove_container(&sidecar).await {
        Err(e) if !e.is_not_found() => return Err(e.into()),
        _ => {}
    }
    let vlabels = labels::sidecar_labels(&spec.extra_labels, name.as_str(), lf::KIND, false);
    // Noted first, so a failure or a cancel during the call still removes it.
    if !ctx.engine.volume_exists(&sidecar).await? {
        made.volume = Some(sidecar.clone());
        if !ctx.engine.create_volume(&sidecar, &vlabels).await? {
            made.volume = None;
        }
    }
    made.container = Some(sidecar.clone());
    let sources = make(ctx, name, t, &image, &spec.extra_labels).await?;
    ctx.engine.start_container(&sidecar).await?;
    progress
        .report(Progress::Note(format!(
            "logs of {} go to {t} through sidecar {sidecar} (it reads the engine's log files read-only and never gets the engine's socket)",
            sources.join(", ")
        )))
        .await;
    Ok(())
}

/// The workspace's and its sidecars' log files (never the forwarder's own), each
/// checked to be a json-file log.
async fn sources(ctx: &Ctx, name: &WorkspaceName) -> Result<Vec<(Source, LogFile)>> {
    let mut out = Vec::new();
    let mut add = |tag: String, f: LogFile| -> Result<()> {
        if f.driver != lf::DRIVER {
            bail!(
                "the engine logs container {} with the {:?} logging driver; log forwarding reads only {} logs (set \"log-driver\": \"json-file\" in the engine's daemon.json and restart it, or create the workspace without --forward-logs)",
                if tag == lf::WORKSPACE_SOURCE { name.container() } else { name.sidecar(&tag) },
                f.driver,
                lf::DRIVER
            );
        }
        out.push((
            Source {
                tag,
                id: f.id.clone(),
            },
            f,
        ));
        Ok(())
    };
    let ws = ctx.engine.log_file(&name.container()).await?;
    add(lf::WORKSPACE_SOURCE.into(), ws)?;
    for s in ctx.engine.sidecars(name.as_str()).await? {
        if s.source == lf::KIND {
            continue;
        }
        let f = ctx.engine.log_file(&s.container).await?;
        add(s.source, f)?;
    }
    Ok(out)
}

/// Creates the forwarder (not started) for the sources there are now; their tags.
async fn make(
    ctx: &Ctx,
    name: &WorkspaceName,
    t: &Target,
    image: &str,
    extra: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<String>> {
    let sources = sources(ctx, name).await?;
    let only: Vec<Source> = sources.iter().map(|(s, _)| s.clone()).collect();
    let mut binds: Vec<Bind> = sources
        .iter()
        .map(|(s, f)| Bind {
            host: f.dir(),
            path: s.mount_dir(),
            read_only: true,
        })
        .collect();
    let user = match t.file() {
        Some(p) => {
            // Its directory (see `lf::OUT_DIR`); the target is checked to be a
            // regular file there, not a link, before every start.
            let dir = p.parent().unwrap_or(std::path::Path::new("/"));
            binds.push(Bind {
                host: dir.to_path_buf(),
                path: lf::OUT_DIR.into(),
                read_only: false,
            });
            target::owner(p).await?
        }
        None => lf::SYSLOG_USER.into(),
    };
    // Group 0 reads the engine's log files; root (berth run as root) needs no group.
    let group_add = if user.starts_with("0:") {
        Vec::new()
    } else {
        vec!["0".into()]
    };
    let sidecar = name.sidecar(lf::KIND);
    let mut l = labels::sidecar_labels(extra, name.as_str(), lf::KIND, false);
    l.insert(lf::SOURCES_LABEL.into(), lf::sources_label(&only));
    let spec = LogForwarderSpec {
        container: sidecar.clone(),
        image: image.to_string(),
        labels: l,
        args: lf::forwarder_args(t, name.as_str(), &only),
        user,
        group_add,
        binds,
        volume: sidecar,
        host_network: t.host_network(),
    };
    ctx.engine.create_log_forwarder(&spec).await?;
    Ok(only.into_iter().map(|s| s.tag).collect())
}

/// Makes the forwarder again when the set of sidecars changed (a service added or
/// removed); it keeps running if it ran. Nothing for a workspace that forwards
/// nothing. Returns whether it was made again.
pub async fn refresh(ctx: &Ctx, name: &WorkspaceName) -> Result<bool> {
    let Some(w) = ctx.engine.inspect_workspace(&name.container()).await? else {
        return Ok(false);
    };
    let Some(f) = Forwarding::of(&w) else {
        return Ok(false);
    };
    let t = Target::parse(&f.target)
        .ok()
        .flatten()
        .ok_or_else(|| anyhow!("the workspace's label {} holds {:?}, which is not a log target; create it again to forward its logs", lf::LABEL, f.target))?;
    let want: Vec<Source> = sources(ctx, name)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let current = ctx.engine.inspect_workspace(&f.sidecar).await?;
    let has = current
        .as_ref()
        .and_then(|c| c.labels.get(lf::SOURCES_LABEL).cloned());
    if has.as_deref() == Some(lf::sources_label(&want).as_str()) {
        return Ok(false);
    }
    let was_running = current
        .as_ref()
        .map_or(w.state == WorkspaceState::Running, |c| {
            c.state == WorkspaceState::Running
        });
    if current.is_some() {
        // Stopped first: it records where each source was (in its volume).
        match ctx
            .engine
            .stop_container(&f.sidecar, STOP_TIMEOUT_SECS)
            .await
        {
            Err(e) if !e.is_not_found() => return Err(e.into()),
            _ => {}
        }
        ctx.engine.remove_container(&f.sidecar).await?;
    }
    if let Some(p) = t.file() {
        target::ensure(p).await?;
    }
    let image = image::IMAGE.ensure(ctx, &|_| {}).await?;
    make(ctx, name, &t, &image, &ctx.config.labels).await?;
    if was_running {
        ctx.engine.start_container(&f.sidecar).await?;
    }
    Ok(true)
}

/// [`refresh`] where its failure is said, not fatal (the service change or the
/// start it follows went through); the next start tries again.
pub async fn refresh_or_warn(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) {
    if let Err(e) = refresh(ctx, name).await {
        tracing::warn!("cannot remake the log forwarder of {name}: {e:#}");
        progress
            .report(Progress::Note(format!(
                "warning: the log forwarder of {name} could not follow the change of its sidecars ({e:#}); `berth restart {name}` tries again"
            )))
            .await;
    }
}

/// Before the workspace and its sidecars start: a file target that went missing is
/// made again (0600) and the forwarder follows the sidecars there are now.
pub async fn before_start(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) {
    let w = match ctx.engine.inspect_workspace(&name.container()).await {
        Ok(Some(w)) => w,
        _ => return,
    };
    let Some(f) = Forwarding::of(&w) else {
        return;
    };
    if let Ok(Some(t)) = Target::parse(&f.target) {
        if let Some(p) = t.file() {
            if let Err(e) = target::ensure(p).await {
                // The engine resolves the bind's source again at every start: a
                // path that became a link (or a directory) would be followed, and
                // the workspace's lines appended wherever it points. The forwarder
                // is removed (its volume keeps the cursors) so it cannot start;
                // the next start makes it again once the file is fixed.
                let removed = match ctx.engine.remove_container(&f.sidecar).await {
                    Ok(()) => "not started".to_string(),
                    Err(e) if e.is_not_found() => "not started".to_string(),
                    Err(e) => format!("and it could not be removed: {e}"),
                };
                progress
                    .report(Progress::Note(format!(
                        "warning: the log file of {name} cannot be used ({e:#}); its forwarder {} is {removed}: fix the file and `berth restart {name}`",
                        f.sidecar
                    )))
                    .await;
                return;
            }
        }
    }
    refresh_or_warn(ctx, name, progress).await;
}

/// The workspace's forwarding with whether its forwarder runs and what it follows.
pub async fn status(ctx: &Ctx, w: &Workspace) -> Option<Forwarding> {
    let mut f = Forwarding::of(w)?;
    if let Ok(Some(c)) = ctx.engine.inspect_workspace(&f.sidecar).await {
        f.running = Some(c.state == WorkspaceState::Running);
        f.sources = c
            .labels
            .get(lf::SOURCES_LABEL)
            .map(|s| s.split(',').map(String::from).collect());
    } else {
        f.running = Some(false);
    }
    Some(f)
}
