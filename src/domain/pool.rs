//! The warm pool: pre-booted workspaces waiting for `berth create` to claim one.
//!
//! A slot is a real workspace container made by the normal create plan minus the
//! steps that depend on a name or on the claimer (`slot_plan`), under a slot name
//! (`WorkspaceName::pool_slot`: container and volume `berth-pool.<profile>.<id>`),
//! labelled [`POOL`] with its profile. A claim renames the container to
//! `workspace-NAME` (the engine's rename fails when the name is taken, so two
//! claimers never get one slot) and runs the rest of the plan (`claim_plan`).
//! Labels cannot change, so a pool-born container's name comes from its container
//! name ([`workspace_name`]), its home volume from its mount, and a claim is only
//! allowed when every other label and every create-time setting a cold create would
//! give it is what the slot has ([`Shape`]).
use super::labels::{self, workspace_labels, Maker};
use super::naming::{WorkspaceName, OBJECT_PREFIX, POOL_SLOT_PREFIX};
use super::net_profile::NetProfile;
use super::provision::{plan, Step};
use super::workspace::{Workspace, WorkspaceSpec};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// On a pool-born container: the profile of the pool it was made for. Stays after a
/// claim (it says the name comes from the container name).
pub const POOL: &str = "dev.berth.pool";
/// On a slot: the hash of its [`Shape`], to tell whether a create may claim it.
pub const POOL_SHAPE: &str = "dev.berth.pool-shape";
/// On a slot: the id of the image it runs (a rebuilt image makes it stale).
pub const POOL_IMAGE: &str = "dev.berth.pool-image";
/// On a slot: which berth made it ([`owner`] of its state directory). Another
/// berth on the same engine (another user, another config) never claims, refills
/// or drains it: its authorized_keys hold the maker's key.
pub const POOL_OWNER: &str = "dev.berth.pool-owner";

/// The [`POOL_OWNER`] of the berth whose state directory is `state_dir`.
pub fn owner(state_dir: &str) -> String {
    let mut h = Sha256::new();
    h.update(state_dir.as_bytes());
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}
/// In a claimed workspace: the names (never values) of the host variables its
/// claim passed through, one per line, redelivered on every start like a cold
/// workspace's `dev.berth.env-passthrough` label (a slot's labels predate them).
pub const ENV_NAMES_PATH: &str = "/etc/berth/env-passthrough";
/// Written in a slot (holding its container id) once its plan finished: it is ready.
pub const READY_PATH: &str = "/etc/berth/pool-ready";

/// Is `w` an unclaimed pool slot (never shown as a workspace, never counted as the
/// user's)?
pub fn is_slot(w: &Workspace) -> bool {
    w.labels.contains_key(POOL) && w.name.starts_with(POOL_SLOT_PREFIX)
}

/// A container's workspace name: for a pool-born one (labelled [`POOL`]) its
/// container name `workspace-NAME` once claimed, its slot name (the label) before;
/// for any other the `dev.berth.name` label. `None`: not a workspace.
pub fn workspace_name(labels: &BTreeMap<String, String>, container: &str) -> Option<String> {
    let label = labels.get(labels::NAME)?;
    if !labels.contains_key(POOL) {
        return Some(label.clone());
    }
    let container = container.trim_start_matches('/');
    match container.strip_prefix(OBJECT_PREFIX) {
        Some(n) if WorkspaceName::parse(n).is_ok() => Some(n.to_string()),
        _ => Some(label.clone()),
    }
}

/// Why a create with `spec` can never be pooled (its sidecars or mounts are named
/// after the workspace), if so.
pub fn unpoolable(spec: &WorkspaceSpec) -> Option<&'static str> {
    let o = &spec.options;
    if o.provider == super::vm::Provider::Vm {
        Some("a VM workspace is never taken from the warm pool: its machine and home disk are made for it")
    } else if o.net_profile == NetProfile::Proxy {
        Some("a proxy-profile workspace has an egress proxy sidecar named after it")
    } else if o.docker {
        Some("--docker makes a Docker engine sidecar named after the workspace")
    } else if o.forward_logs.is_some() {
        Some("log forwarding makes a forwarder sidecar named after the workspace")
    } else if o.forward.ssh {
        Some("ssh-agent forwarding mounts a socket made for the workspace's name")
    } else if spec.thread.is_some() {
        Some("a --thread workspace records its thread in its labels")
    } else {
        None
    }
}

/// Labels that name one object (its name, its create, its port) or the pool itself,
/// left out of a [`Shape`]; the TTL, which a claim records in the store; and the
/// names of the host variables passed through, which come from the environment of
/// whoever creates (a daemon's differs from a shell's): a claim records them in
/// the workspace ([`ENV_NAMES_PATH`]).
const OWN_LABELS: [&str; 10] = [
    POOL_OWNER,
    labels::TTL,
    labels::SECRETS,
    labels::NAME,
    labels::CREATE,
    labels::CREATOR,
    labels::SSH_PORT,
    POOL,
    POOL_SHAPE,
    POOL_IMAGE,
];

/// Everything a create fixes when it makes the container (labels, image, env,
/// mounts, ports, runtime, resources) except what names this one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(BTreeMap<String, String>);

impl Shape {
    pub fn of(spec: &WorkspaceSpec, version: &str) -> Self {
        let maker = Maker {
            token: String::new(),
            creator: String::new(),
        };
        let mut m = BTreeMap::new();
        for (k, v) in workspace_labels(spec, None, version, &maker) {
            if !OWN_LABELS.contains(&k.as_str()) {
                m.insert(format!("label {k}"), v);
            }
        }
        let o = &spec.options;
        let env: Vec<String> = o.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mounts: Vec<String> = o
            .mounts
            .iter()
            .map(|b| format!("{}:{}:{}", b.host.display(), b.path, b.read_only))
            .collect();
        let ports: Vec<String> = o
            .ports
            .iter()
            .map(|p| format!("{}:{}", p.host, p.container))
            .collect();
        for (k, v) in [
            ("image", spec.image.clone()),
            ("runtime", spec.runtime.clone().unwrap_or_default()),
            ("resources", format!("{:?}", spec.resources)),
            ("env", env.join(" ")),
            ("mounts", mounts.join(" ")),
            ("ports", ports.join(" ")),
        ] {
            m.insert(k.to_string(), v);
        }
        m.retain(|_, v| !v.is_empty());
        Self(m)
    }

    /// A short stable hash (the [`POOL_SHAPE`] label).
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for (k, v) in &self.0 {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.as_bytes());
            h.update([0]);
        }
        h.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// What differs between a create's shape (`self`) and the pool's, one phrase each.
    pub fn differences(&self, pool: &Shape) -> Vec<String> {
        let keys: BTreeSet<&String> = self.0.keys().chain(pool.0.keys()).collect();
        keys.into_iter()
            .filter(|k| self.0.get(*k) != pool.0.get(*k))
            .map(|k| {
                let what = k
                    .strip_prefix("label dev.berth.")
                    .or_else(|| k.strip_prefix("label "))
                    .unwrap_or(k);
                let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "none".into());
                format!(
                    "{what} {} (warm ones have {})",
                    show(self.0.get(k)),
                    show(pool.0.get(k))
                )
            })
            .collect()
    }
}

/// Why a create cannot claim a slot of its profile's pool (`None`: it may): the
/// sentence a cold create prints. `pool` is the shape of the configured pool.
pub fn mismatch(spec: &WorkspaceSpec, version: &str, pool: &Shape) -> Option<String> {
    if let Some(why) = unpoolable(spec) {
        return Some(format!(
            "no warm workspace matches: {why}; creating it cold"
        ));
    }
    let diff = Shape::of(spec, version).differences(pool);
    (!diff.is_empty()).then(|| {
        format!(
            "no warm workspace matches: {}; creating it cold",
            diff.join(", ")
        )
    })
}

/// Is `step` part of making a slot (name-independent, done before any claim)?
fn in_slot(step: &Step) -> bool {
    matches!(
        step,
        Step::Volume
            | Step::Port
            | Step::Image
            | Step::Container
            | Step::Start
            | Step::Ssh
            | Step::Profile
    )
}

/// The steps that make a slot of `spec`'s profile.
pub fn slot_plan(spec: &WorkspaceSpec) -> Vec<Step> {
    plan(spec).into_iter().filter(in_slot).collect()
}

/// The steps a claim runs on a renamed slot: the name-dependent and per-user ones
/// (the claimer's keys, host key pin, environment, secrets, forwarding, dotfiles, clone,
/// setup, post-start) and the commit that marks it provisioned.
pub fn claim_plan(spec: &WorkspaceSpec) -> Vec<Step> {
    plan(spec).into_iter().filter(|s| !in_slot(s)).collect()
}

/// A slot as a refill sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotView {
    pub container: String,
    pub profile: String,
    pub shape: String,
    pub image_id: String,
    /// Its plan finished (the ready file holds its id).
    pub ready: bool,
    /// Running and its sshd answers.
    pub healthy: bool,
    pub created: i64,
}

/// A configured pool as a refill sees it: `shape`/`image_id` are `None` when slots
/// of it cannot be made (the reason is reported instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolWant {
    pub profile: String,
    pub size: usize,
    pub shape: Option<String>,
    pub image_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefillPlan {
    /// Slots to remove, each with why.
    pub remove: Vec<(String, String)>,
    /// How many slots to make per profile.
    pub make: BTreeMap<String, usize>,
}

/// What a refill does: removes slots no pool wants any more (profile dropped or
/// size lowered), stale ones (options or image changed) and broken ones (not
/// ready, not running, sshd silent), and tops every pool up to its size. Run under
/// the pool lock, so an unfinished slot is a dead refill's leftover.
pub fn plan_refill(wants: &[PoolWant], slots: &[SlotView]) -> RefillPlan {
    let mut out = RefillPlan::default();
    let mut slots: Vec<&SlotView> = slots.iter().collect();
    // Oldest first: the newest go when there are too many.
    slots.sort_by(|a, b| (a.created, &a.container).cmp(&(b.created, &b.container)));
    let mut kept: BTreeMap<&str, usize> = BTreeMap::new();
    for s in slots {
        let want = wants.iter().find(|w| w.profile == s.profile && w.size > 0);
        let why = match want {
            None => Some(format!("no pool of profile {} is configured", s.profile)),
            Some(w) if w.shape.as_deref() != Some(s.shape.as_str()) => {
                Some("its options no longer match the config".to_string())
            }
            Some(w) if w.image_id.as_deref() != Some(s.image_id.as_str()) => {
                Some("its image was rebuilt".to_string())
            }
            Some(_) if !s.ready => Some("it was never finished".to_string()),
            Some(_) if !s.healthy => Some("it is not running or its sshd does not answer".into()),
            Some(w) if kept.get(w.profile.as_str()).copied().unwrap_or(0) >= w.size => Some(
                format!("the pool of {} holds {} at most", w.profile, w.size),
            ),
            Some(w) => {
                *kept.entry(w.profile.as_str()).or_default() += 1;
                None
            }
        };
        if let Some(why) = why {
            out.remove.push((s.container.clone(), why));
        }
    }
    for w in wants
        .iter()
        .filter(|w| w.shape.is_some() && w.image_id.is_some())
    {
        let have = kept.get(w.profile.as_str()).copied().unwrap_or(0);
        if w.size > have {
            out.make.insert(w.profile.clone(), w.size - have);
        }
    }
    out
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
