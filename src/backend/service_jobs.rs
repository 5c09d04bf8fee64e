//! The backend task's jobs (create, start, stop, restart, delete, copy, snapshots,
//! agents): each on its own task, its progress sent as events, ending in a sentence.
use super::create::{create, CreateOutcome, CreateRequest};
use super::service::linked;
use super::service_api::{Command, Event, JobUpdate};
use super::{keys, lifecycle, Ctx, Progress, Report};
use crate::domain::naming::WorkspaceName;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(super) fn job_id(cmd: &Command) -> Option<u64> {
    match cmd {
        Command::Create { job, .. }
        | Command::Start { job, .. }
        | Command::Stop { job, .. }
        | Command::Restart { job, .. }
        | Command::Delete { job, .. }
        | Command::Copy { job, .. }
        | Command::Snapshot { job, .. }
        | Command::Restore { job, .. }
        | Command::RemoveSnapshot { job, .. }
        | Command::Agent { job, .. } => Some(*job),
        Command::Select(_)
        | Command::AgentsView(_)
        | Command::AgentDiff { .. }
        | Command::McpView(_)
        | Command::Egress(_)
        | Command::PrepareShell { .. }
        | Command::SshCommand { .. }
        | Command::PlanDelete { .. }
        | Command::ListSnapshots { .. }
        | Command::ShellTab { .. }
        | Command::ShellUsed { .. }
        | Command::CancelJobs => None,
        Command::On { cmd, .. } => job_id(cmd),
    }
}

/// Sends a job's progress to the UI, waiting for room rather than dropping any.
struct JobProgress {
    job: u64,
    events: mpsc::Sender<Event>,
}

#[async_trait::async_trait]
impl Report for JobProgress {
    async fn report(&self, p: Progress) {
        let _ = self
            .events
            .send(Event::Job {
                job: self.job,
                update: JobUpdate::Progress(p),
            })
            .await;
    }
}

pub(super) fn spawn_job(
    link: tokio::sync::watch::Receiver<Option<Ctx>>,
    cmd: Command,
    events: mpsc::Sender<Event>,
    cancel: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<()> {
    let job = job_id(&cmd).unwrap_or_default();
    tokio::spawn(async move {
        let mut stop = cancel.clone();
        let ctx = tokio::select! {
            c = linked(link) => c,
            _ = stop.wait_for(|c| *c) => Err("cancelled before berth reached the engine".into()),
        };
        let update = match ctx {
            Err(why) => JobUpdate::Failed(why),
            Ok(ctx) => match run_job(&ctx, cmd, job, &events, cancel).await {
                Ok(msg) => JobUpdate::Done(msg),
                Err(e) => JobUpdate::Failed(format!("{e:#}")),
            },
        };
        let _ = events.send(Event::Job { job, update }).await;
    })
}

async fn run_job(
    ctx: &Ctx,
    cmd: Command,
    job: u64,
    events: &mpsc::Sender<Event>,
    mut cancel: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<String> {
    let progress = JobProgress {
        job,
        events: events.clone(),
    };
    match cmd {
        Command::Create { spec, .. } => {
            let keys = keys::for_create(&ctx.paths, None).await?;
            for n in &keys.notes {
                progress.report(Progress::Note(n.clone())).await;
            }
            let host_env = super::create::host_env_names();
            let name_generated = spec.name.trim().is_empty();
            let ws = super::create::workspace_spec(
                &ctx.config,
                *spec,
                host_env.iter().map(String::as_str),
            )?;
            let req = CreateRequest {
                spec: ws,
                keys: keys.keys,
                identities: keys.identities,
                name_generated,
                restore: None,
            };
            Ok(match create(ctx, req, &progress, cancel).await? {
                CreateOutcome::Created(w) => format!(
                    "created {} ({})",
                    w.name,
                    crate::domain::net_isolation::ssh_summary(w.ssh_port, w.net_profile())
                ),
                CreateOutcome::Reused(w) => format!("reused {} for its thread", w.name),
            })
        }
        // Waiting for sshd can take a while: a cancel ends the wait (the container
        // keeps running). Stop and delete are short and finish.
        Command::Start { name, .. } => {
            let n = WorkspaceName::parse(&name)?;
            tokio::select! {
            r = lifecycle::start(ctx, &n, &progress) => {
                Ok(format!("started {}", r?.name))
            }
            _ = cancel.wait_for(|c| *c) => anyhow::bail!("cancelled while waiting for {name} to answer"),
            }
        }
        Command::Restart { name, .. } => {
            let n = WorkspaceName::parse(&name)?;
            tokio::select! {
            r = lifecycle::restart(ctx, &n, &progress) => {
                r?;
                Ok(format!("restarted {name}"))
            }
            _ = cancel.wait_for(|c| *c) => anyhow::bail!("cancelled while waiting for {name} to answer"),
            }
        }
        Command::Stop { name, .. } => {
            lifecycle::stop(ctx, &WorkspaceName::parse(&name)?, &progress).await?;
            Ok(format!("stopped {name}"))
        }
        Command::Delete {
            name, keep_volume, ..
        } => {
            let d = lifecycle::delete(ctx, &WorkspaceName::parse(&name)?, keep_volume).await?;
            Ok(if d.volume_kept {
                format!("deleted {name} (volume kept)")
            } else {
                format!("deleted {name}")
            })
        }
        Command::Copy { src, dst, .. } => {
            super::copy_job::run(ctx, &src, &dst, &progress, cancel).await
        }
        cmd @ (Command::Snapshot { .. }
        | Command::Restore { .. }
        | Command::RemoveSnapshot { .. }) => super::restore::job(ctx, cmd, &progress, cancel).await,
        Command::Agent { name, action, .. } => super::agent_tasks::job(ctx, &name, action).await,
        Command::Select(_)
        | Command::AgentsView(_)
        | Command::AgentDiff { .. }
        | Command::McpView(_)
        | Command::Egress(_)
        | Command::PrepareShell { .. }
        | Command::SshCommand { .. }
        | Command::PlanDelete { .. }
        | Command::ListSnapshots { .. }
        | Command::ShellTab { .. }
        | Command::ShellUsed { .. }
        | Command::CancelJobs
        | Command::On { .. } => Ok(String::new()),
    }
}
