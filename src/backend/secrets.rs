//! `berth secret set/ls/rm` and secret files' delivery: at create (a step), at
//! every start berth makes, and at once to every running workspace that uses a
//! secret when it is set again (rotation, no restart) or removed.
//!
//! Which workspaces get a secret: one set with `--workspace WS` goes to WS only; a
//! global one only to workspaces created with `--secret NAME` (least privilege:
//! never to every workspace). One set for a workspace wins over a global one of
//! the same name. berth's store keeps only each secret's source; values are read
//! from it when they are delivered (see `secret_files`).
use super::secret_files::{self, read, stdin_gone};
use super::{Ctx, Progress, ProgressFn};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::redact_stream::SecretRedactor;
use crate::domain::secrets::{self, check_name, for_workspace, Secret, Source};
use crate::domain::workspace::{Workspace, WorkspaceState};
use anyhow::{anyhow, bail, Result};
use serde::Serialize;

/// The global secrets a workspace was created with (`create --secret`).
pub fn named(w: &Workspace) -> Vec<String> {
    w.labels
        .get(labels::SECRET_FILES)
        .map(|l| secrets::names_from_label(l))
        .unwrap_or_default()
}

/// Does workspace `w` get the secret recorded as `rec`?
fn uses(all: &[Secret], w: &Workspace, rec: &Secret) -> bool {
    for_workspace(all, &w.name, &named(w))
        .iter()
        .any(|s| s.name == rec.name && s.workspace == rec.workspace)
}

fn scope_text(workspace: Option<&str>) -> String {
    workspace.map_or(String::new(), |w| format!(" for workspace {w}"))
}

/// What `berth secret set` asks for.
pub struct SetRequest {
    pub name: String,
    pub workspace: Option<String>,
    pub source: Source,
    /// The value read from standard input (for [`Source::Stdin`]).
    pub value: Option<Vec<u8>>,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub workspace: String,
    pub reason: String,
}

/// What a set or a remove did, workspace by workspace.
#[derive(Debug, Serialize)]
pub struct Delivery {
    pub secret: Secret,
    /// Set for the first time (else replaced).
    pub new: bool,
    /// Running workspaces whose file was written (set) or removed (rm).
    pub updated: Vec<String>,
    /// Stopped workspaces that use it: they get it when they start.
    pub waiting: Vec<String>,
    pub failed: Vec<Failure>,
    /// Sentences worth saying (a value given on stdin is not kept, ...).
    pub notes: Vec<String>,
}

/// Records a secret's source and delivers its value now to every running
/// workspace that uses it. The value is read first: a source that does not work
/// records nothing.
pub async fn set(ctx: &Ctx, req: SetRequest) -> Result<Delivery> {
    check_name(&req.name).map_err(|e| anyhow!(e))?;
    if let Some(w) = &req.workspace {
        WorkspaceName::parse(w)?;
    }
    req.source.check().map_err(|e| anyhow!(e))?;
    let value = match (&req.source, req.value) {
        (Source::Stdin, Some(v)) => secret_files::check_value(&req.name, v)?,
        (Source::Stdin, None) => bail!(stdin_gone(&req.name)),
        (source, _) => read(&req.name, source).await?,
    };
    let ws = req.workspace.as_deref();
    let new = ctx.store.secret_set(&req.name, ws, &req.source).await?;
    let all = ctx.store.secrets().await?;
    let rec = all
        .iter()
        .find(|s| s.name == req.name && s.workspace.as_deref() == ws)
        .cloned()
        .ok_or_else(|| anyhow!("secret {} vanished from berth's store", req.name))?;
    let workspaces = super::pool::workspaces(ctx).await?;
    let mut d = Delivery {
        secret: rec.clone(),
        new,
        updated: vec![],
        waiting: vec![],
        failed: vec![],
        notes: vec![],
    };
    if let Some(w) = ws.filter(|w| !workspaces.iter().any(|x| x.name == *w)) {
        d.notes.push(format!(
            "there is no workspace {w} yet: it gets {} when it is created",
            req.name
        ));
    }
    let pair = [(req.name.clone(), value)];
    for w in workspaces.iter().filter(|w| uses(&all, w, &rec)) {
        if w.state != WorkspaceState::Running {
            d.waiting.push(w.name.clone());
            continue;
        }
        match secret_files::write(ctx.engine.as_ref(), &w.container, &pair).await {
            Ok(()) => d.updated.push(w.name.clone()),
            Err(e) => d.failed.push(Failure {
                workspace: w.name.clone(),
                reason: format!("{e:#}"),
            }),
        }
    }
    if !rec.source.is_kept() {
        d.notes.push(stdin_gone(&req.name));
    }
    let _ = ctx
        .store
        .audit(ws.unwrap_or(""), "secret set", &rec.title())
        .await;
    Ok(d)
}

/// Forgets a secret and removes its file from the running workspaces that had it
/// (one that now gets a global secret of the same name gets that one's value).
pub async fn remove(ctx: &Ctx, name: &str, workspace: Option<&str>) -> Result<Delivery> {
    check_name(name).map_err(|e| anyhow!(e))?;
    let before = ctx.store.secrets().await?;
    let Some(rec) = before
        .iter()
        .find(|s| s.name == name && s.workspace.as_deref() == workspace)
        .cloned()
    else {
        bail!(
            "no secret {name}{}; `berth secret ls` lists them",
            scope_text(workspace)
        );
    };
    let workspaces = super::pool::workspaces(ctx).await?;
    let users: Vec<&Workspace> = workspaces
        .iter()
        .filter(|w| uses(&before, w, &rec))
        .collect();
    ctx.store.secret_remove(name, workspace).await?;
    let after = ctx.store.secrets().await?;
    let mut d = Delivery {
        secret: rec.clone(),
        new: false,
        updated: vec![],
        waiting: vec![],
        failed: vec![],
        notes: vec![],
    };
    for w in users
        .into_iter()
        .filter(|w| w.state == WorkspaceState::Running)
    {
        let instead = for_workspace(&after, &w.name, &named(w))
            .into_iter()
            .find(|s| s.name == name)
            .cloned();
        let done = match &instead {
            Some(other) => match read(name, &other.source).await {
                Ok(v) => {
                    let pair = [(name.to_string(), v)];
                    secret_files::write(ctx.engine.as_ref(), &w.container, &pair).await
                }
                Err(e) => Err(e),
            },
            None => {
                let names = [name.to_string()];
                secret_files::remove(ctx.engine.as_ref(), &w.container, &names).await
            }
        };
        match done {
            Ok(()) => d.updated.push(w.name.clone()),
            Err(e) => d.failed.push(Failure {
                workspace: w.name.clone(),
                reason: format!("{e:#}; `berth restart {}` empties its secret files", w.name),
            }),
        }
        if let (Some(other), true) = (instead, d.updated.last() == Some(&w.name)) {
            d.notes.push(format!(
                "workspace {} now has {} from the secret {}",
                w.name,
                name,
                other.title()
            ));
        }
    }
    let _ = ctx
        .store
        .audit(workspace.unwrap_or(""), "secret rm", &rec.title())
        .await;
    Ok(d)
}

/// A secret as `berth secret ls` shows it, with the workspaces that use it.
#[derive(Debug, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub secret: Secret,
    pub kept: bool,
    pub used_by: Vec<String>,
}

pub async fn list(ctx: &Ctx) -> Result<Vec<Listed>> {
    let all = ctx.store.secrets().await?;
    let workspaces = super::pool::workspaces(ctx).await?;
    Ok(all
        .iter()
        .map(|s| Listed {
            secret: s.clone(),
            kept: s.source.is_kept(),
            used_by: workspaces
                .iter()
                .filter(|w| uses(&all, w, s))
                .map(|w| w.name.clone())
                .collect(),
        })
        .collect())
}

/// Reads the values workspace `ws` gets. A value that cannot be read is a
/// sentence in the second list (a value given on stdin always is).
async fn gather(
    ctx: &Ctx,
    ws: &str,
    named: &[String],
) -> Result<(Vec<(String, Vec<u8>)>, Vec<String>)> {
    let all = ctx.store.secrets().await?;
    let mut problems: Vec<String> = secrets::missing(&all, ws, named)
        .into_iter()
        .map(|n| format!("there is no secret {n} (removed?); `berth secret set {n} ...` sets it"))
        .collect();
    let wanted = for_workspace(&all, ws, named);
    let reads = wanted.iter().map(|s| read(&s.name, &s.source));
    let mut values = Vec::new();
    for (s, r) in wanted
        .iter()
        .zip(futures_util::future::join_all(reads).await)
    {
        match r {
            Ok(v) => values.push((s.name.clone(), v)),
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    Ok((values, problems))
}

/// The create's secrets step: every secret the new workspace gets, as files. A
/// secret named with `--secret` that is not set, or a source that cannot be
/// read, fails the create (which removes what it made); a value given on stdin
/// is not there to deliver, and says so.
pub async fn at_create(
    ctx: &Ctx,
    name: &WorkspaceName,
    named: &[String],
    progress: ProgressFn<'_>,
) -> Result<()> {
    let all = ctx.store.secrets().await?;
    let missing = secrets::missing(&all, name.as_str(), named);
    if let Some(n) = missing.first() {
        bail!("there is no secret {n}; set it first with `berth secret set {n} --from-env VAR` (or --from-file PATH, --from-cmd CMD, or the value on standard input)");
    }
    let wanted = for_workspace(&all, name.as_str(), named);
    let mut values = Vec::new();
    for s in wanted {
        match &s.source {
            Source::Stdin => note(progress, stdin_gone(&s.name)).await,
            src => values.push((s.name.clone(), read(&s.name, src).await?)),
        }
    }
    secret_files::write(ctx.engine.as_ref(), &name.container(), &values).await?;
    if !values.is_empty() {
        let names: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
        let text = format!("secret files in {}: {}", secrets::DIR, names.join(", "));
        note(progress, text).await;
    }
    Ok(())
}

/// After a start berth made (the tmpfs is empty): the secret files again, each
/// value read from its source now. Failures are said, not fatal.
pub async fn on_start(ctx: &Ctx, w: &Workspace, progress: ProgressFn<'_>) {
    let (values, problems) = match gather(ctx, &w.name, &named(w)).await {
        Ok(v) => v,
        Err(e) => (vec![], vec![format!("{e:#}")]),
    };
    if let Err(e) = secret_files::write(ctx.engine.as_ref(), &w.container, &values).await {
        note(
            progress,
            format!("workspace {}: secret files not written: {e:#}", w.name),
        )
        .await;
    }
    for p in problems {
        note(progress, format!("workspace {}: {p}", w.name)).await;
    }
}

/// What hides the values workspace `w` holds from the text berth shows of it,
/// each read from its source now (held in memory only); a value given on stdin is
/// read back from the workspace's own file while it runs. The sentences say which
/// values could not be read, and so are not hidden.
pub async fn redactor_for(ctx: &Ctx, w: &Workspace) -> (SecretRedactor, Vec<String>) {
    let all = match ctx.store.secrets().await {
        Ok(a) => a,
        Err(e) => return (SecretRedactor::default(), vec![format!("{e:#}")]),
    };
    let named = named(w);
    let wanted = for_workspace(&all, &w.name, &named);
    if wanted.is_empty() {
        return (SecretRedactor::default(), vec![]);
    }
    let running = w.state == WorkspaceState::Running;
    let reads = wanted.iter().map(|s| async move {
        match (&s.source, running) {
            (Source::Stdin, true) => {
                secret_files::read_back(ctx.engine.as_ref(), &w.container, &s.name).await
            }
            (src, _) => read(&s.name, src).await,
        }
    });
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for (s, r) in wanted
        .iter()
        .zip(futures_util::future::join_all(reads).await)
    {
        match r {
            Ok(v) => values.push((s.name.clone(), v)),
            Err(e) => problems.push(format!(
                "the value of secret {} is not hidden from this output: {e:#}",
                s.name
            )),
        }
    }
    (SecretRedactor::new(values), problems)
}

async fn note(progress: ProgressFn<'_>, text: String) {
    progress.report(Progress::Note(text)).await;
}
