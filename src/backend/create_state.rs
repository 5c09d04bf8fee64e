//! A create's working state across its steps: what it made so far (so a failure
//! removes exactly that), the port and image it got, and the forwarded agent.
use super::{provision, Ctx};
use crate::domain::labels::Maker;
use crate::domain::workspace::WorkspaceSpec;
use std::collections::BTreeSet;
/// What this create made so far.
#[derive(Default)]
pub struct Made {
    pub volume: Option<String>,
    pub lease: bool,
    pub container: Option<String>,
    pub pinned: bool,
    /// The Docker engine sidecar and its volume (`--docker`).
    pub docker: super::dind::Made,
    /// The log forwarder, its volume and the log file (`--forward-logs`).
    pub logs: super::log_forward::Made,
    /// A restore's volume-copy helper, while it runs.
    pub helper: Option<String>,
    /// This create made berth's isolated network (removed on failure if no other
    /// workspace took it meanwhile).
    pub isolated_network: bool,
    /// The proxy sidecar and the internal network (`--net-profile proxy`).
    pub proxy: super::proxy::Made,
}

/// A create's working state across steps.
pub struct StepState {
    /// Identifies this create in the store (its record and its lease).
    pub token: String,
    /// The same token and this process, as labels on what it makes.
    pub maker: Maker,
    /// A start-over found the home volume and reuses it: if this create fails too,
    /// its record stays (abandoned) so the volume stays listed as incomplete.
    pub reused_leftover: bool,
    pub port: u16,
    /// The image the container runs (the profile's, once the image step ran).
    pub image: String,
    /// The profile `try-repo` picked (empty: the spec's own).
    pub profile: String,
    /// Ports the engine refused (taken meanwhile), skipped from then on.
    pub refused: BTreeSet<u16>,
    pub made: Made,
    /// What `--forward-ssh` gives this workspace (decided at the container step).
    pub ssh: Option<provision::ssh_agent::Prepared>,
    /// The agent relay serving the create's later steps (stopped when it ends).
    pub relay: Option<provision::agent_relay::Relay>,
}

pub enum StepError {
    PortRefused(String),
    Fatal(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for StepError {
    fn from(e: E) -> Self {
        StepError::Fatal(e.into())
    }
}

impl StepState {
    pub fn new(token: String, reused_leftover: bool) -> Self {
        Self {
            maker: Maker {
                token: token.clone(),
                creator: crate::store::Creator::current().label(),
            },
            reused_leftover,
            token,
            port: 0,
            image: String::new(),
            profile: String::new(),
            refused: BTreeSet::new(),
            made: Made::default(),
            ssh: None,
            relay: None,
        }
    }

    /// Public variables: the spec's, `SSH_AUTH_SOCK` when an agent is forwarded, and
    /// `DOCKER_HOST` with Docker inside (unless `--env` set it).
    pub(super) fn public_env(&self, spec: &WorkspaceSpec) -> Vec<(String, String)> {
        let mut env = spec.options.env.clone();
        if spec.options.docker && !env.iter().any(|(k, _)| k == "DOCKER_HOST") {
            env.push((
                "DOCKER_HOST".into(),
                crate::domain::dind::DOCKER_HOST.into(),
            ));
        }
        if let Some(v) = self.ssh.as_ref().and_then(|p| p.mode.env()) {
            env.retain(|(k, _)| *k != v.0);
            env.push(v);
        }
        super::proxy::public_env(spec, &mut env);
        env
    }

    /// The profile the workspace gets: the one try-repo picked, else the spec's.
    pub fn profile_name<'a>(&'a self, spec: &'a WorkspaceSpec) -> &'a str {
        if self.profile.is_empty() {
            &spec.profile
        } else {
            &self.profile
        }
    }

    /// Removes the container (and the proxy sidecar, which publishes the port) and
    /// frees the lease (before trying another port).
    pub async fn undo_container_and_lease(&mut self, ctx: &Ctx) {
        if let Some(c) = self.made.container.take() {
            let _ = ctx.engine.remove_container(&c).await;
        }
        if let Some(c) = self.made.proxy.container.take() {
            let _ = ctx.engine.remove_container(&c).await;
        }
        if std::mem::take(&mut self.made.lease) {
            let _ = ctx.store.release_lease(&self.token).await;
        }
    }
}
