//! A workspace spec turned into an ordered provisioning plan: steps as data; and
//! where a workspace's provisioning stands.
//!
//! Crash consistency: the last step, [`Step::Commit`], writes [`MARKER_PATH`] into
//! the container's own filesystem (through the engine, so any runtime works),
//! holding the container's id. So the engine itself records whether provisioning
//! finished: a berth workspace without its marker is incomplete, whatever happened
//! to the process that created it. (The id makes a copied filesystem, such as a
//! snapshot, not count for a new container.) The store adds which step it reached,
//! whether its create still runs, and remembers containers already seen finished.
use super::workspace::WorkspaceSpec;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the home volume (or reuse one kept by `delete --keep-volume`).
    Volume,
    /// `restore`: copy the snapshot's home into the new volume (without its host key).
    Seed(String),
    /// Reserve an SSH port in the range.
    Port,
    /// `try-repo`: pick the profile from the repository's top-level files.
    Detect(String),
    /// The profile's image: reused when built from the same definition, else built.
    Image,
    /// `--net-profile proxy`: the workspace's internal network and its egress
    /// proxy sidecar (which publishes the SSH port), started.
    Proxy,
    /// Create the container.
    Container,
    /// Start it (the engine may refuse a host port taken meanwhile).
    Start,
    /// Put the host's public keys in authorized_keys.
    Keys,
    /// Wait until sshd answers with its banner.
    Ssh,
    /// Record the workspace's host key for `berth ssh`.
    PinHostKey,
    /// Environment: the public file, and passed-through values on the tmpfs.
    Env,
    /// Secret files on the tmpfs (`berth secret`, `--secret`).
    Secrets,
    /// `--docker`: the workspace's Docker engine sidecar, its volume and the CLI.
    Docker,
    /// `--forward-logs`: the log forwarder sidecar (after the other sidecars, so
    /// it follows them from the start).
    Logs,
    /// Copy the host's git config and known_hosts.
    Git,
    /// The GitHub CLI's token as GH_TOKEN, and git's credential helper for it.
    Gh,
    /// The host's ssh-agent made available inside.
    SshAgent,
    /// Dotfiles: a repository installed, inline files, a directory copied.
    Dotfiles,
    /// Clone the repository into ~/repo.
    Clone(String),
    /// The profile's own setup commands.
    Profile,
    /// A `--setup` command (0-based index among them).
    Setup(usize, String),
    /// Run the post-start script with `/bin/sh -lc`.
    PostStart(String),
    /// Mark the workspace complete (the marker file).
    Commit,
}

impl Step {
    /// Short label used in progress output and errors.
    pub fn label(&self) -> &'static str {
        match self {
            Step::Volume => "volume",
            Step::Seed(_) => "home",
            Step::Port => "ssh port",
            Step::Detect(_) => "detect",
            Step::Image => "image",
            Step::Proxy => "proxy",
            Step::Container => "container",
            Step::Start => "start",
            Step::Keys => "ssh keys",
            Step::Ssh => "sshd",
            Step::PinHostKey => "host key",
            Step::Env => "env",
            Step::Secrets => "secrets",
            Step::Docker => "docker",
            Step::Logs => "logs",
            Step::Git => "git",
            Step::Gh => "gh",
            Step::SshAgent => "ssh-agent",
            Step::Dotfiles => "dotfiles",
            Step::Clone(_) => "clone",
            Step::Profile => "profile",
            Step::Setup(..) => "setup",
            Step::PostStart(_) => "post-start",
            Step::Commit => "commit",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Volume => f.write_str("create the home volume"),
            Step::Seed(snap) => write!(f, "copy the home of snapshot {snap}"),
            Step::Port => f.write_str("reserve an SSH port"),
            Step::Detect(url) => write!(f, "pick a profile from the files of {url}"),
            Step::Image => f.write_str("get the profile's image (built once, then cached)"),
            Step::Proxy => f.write_str(
                "start the egress proxy (an internal network whose only way out is a logging proxy)",
            ),
            Step::Container => f.write_str("create the container"),
            Step::Start => f.write_str("start the container"),
            Step::Keys => f.write_str("install SSH public keys"),
            Step::Ssh => f.write_str("wait for sshd"),
            Step::PinHostKey => f.write_str("pin the SSH host key"),
            Step::Env => f.write_str("deliver the environment"),
            Step::Secrets => f.write_str("deliver secret files"),
            Step::Docker => {
                f.write_str("start the workspace's Docker engine (a privileged sidecar)")
            }
            Step::Logs => f.write_str("start the log forwarder (a sidecar)"),
            Step::Git => f.write_str("forward git config and known_hosts"),
            Step::Gh => f.write_str("forward GitHub CLI auth"),
            Step::SshAgent => f.write_str("forward the ssh-agent"),
            Step::Dotfiles => f.write_str("install dotfiles"),
            Step::Clone(url) => write!(f, "clone {url}"),
            Step::Profile => f.write_str("run the profile's setup"),
            Step::Setup(i, cmd) => write!(f, "setup command {}: {cmd}", i + 1),
            Step::PostStart(_) => f.write_str("run the post-start script"),
            Step::Commit => f.write_str("mark the workspace ready"),
        }
    }
}

/// Does the workspace of `spec` get an SSH port on the host? Not an offline
/// container (ssh goes through the engine); a VM always does (its offline
/// profile only stops what goes out: the forwarded ports still come in).
pub fn publishes_ssh_port(spec: &WorkspaceSpec) -> bool {
    let o = &spec.options;
    o.provider == super::vm::Provider::Vm || super::net_isolation::publishes_ports(o.net_profile)
}

/// The ordered steps that create `spec`.
pub fn plan(spec: &WorkspaceSpec) -> Vec<Step> {
    let o = &spec.options;
    let clone = spec.clone_url.as_ref().filter(|u| !u.trim().is_empty());
    // A VM's home disk is made with it (`Step::Container`): no volume step.
    let mut steps = if o.provider == super::vm::Provider::Vm {
        vec![]
    } else {
        vec![Step::Volume]
    };
    // An offline container publishes nothing: no SSH port (ssh goes through the engine).
    if publishes_ssh_port(spec) {
        steps.push(Step::Port);
    }
    if let (true, Some(url)) = (o.detect_profile, clone) {
        steps.push(Step::Detect(url.clone()));
    }
    steps.push(Step::Image);
    if o.net_profile == super::net_profile::NetProfile::Proxy {
        steps.push(Step::Proxy);
    }
    steps.extend([
        Step::Container,
        Step::Start,
        Step::Keys,
        Step::Ssh,
        Step::PinHostKey,
        Step::Env,
        // Always: secrets set for this workspace's name before it existed count too.
        Step::Secrets,
    ]);
    // Before anything that runs the user's commands (setup may use docker).
    if o.docker {
        steps.push(Step::Docker);
    }
    if o.forward_logs.is_some() {
        steps.push(Step::Logs);
    }
    let f = o.forward;
    for (on, step) in [
        (f.git, Step::Git),
        (f.gh, Step::Gh),
        (f.ssh, Step::SshAgent),
    ] {
        if on {
            steps.push(step);
        }
    }
    if !o.dotfiles.is_empty() {
        steps.push(Step::Dotfiles);
    }
    if let Some(url) = clone {
        steps.push(Step::Clone(url.clone()));
    }
    steps.push(Step::Profile);
    for (i, cmd) in o.setup.iter().enumerate() {
        steps.push(Step::Setup(i, cmd.clone()));
    }
    if let Some(cmd) = spec.post_start.as_ref().filter(|c| !c.trim().is_empty()) {
        steps.push(Step::PostStart(cmd.clone()));
    }
    steps.push(Step::Commit);
    steps
}

/// The steps that restore snapshot `snapshot` as a new workspace: a create without
/// the image, forwarding, dotfiles, clone, profile, setup and post-start steps (its
/// files are there), with its home copied from the snapshot. Passed-through values
/// are delivered again (the env step), the GitHub token with them.
pub fn restore_plan(snapshot: &str, spec: &WorkspaceSpec) -> Vec<Step> {
    let profile = spec.options.net_profile;
    let port = super::net_isolation::publishes_ports(profile).then_some(Step::Port);
    let proxy = (profile == super::net_profile::NetProfile::Proxy).then_some(Step::Proxy);
    let logs = spec.options.forward_logs.is_some().then_some(Step::Logs);
    [Step::Volume, Step::Seed(snapshot.to_string())]
        .into_iter()
        .chain(port)
        .chain(proxy)
        .chain([
            Step::Container,
            Step::Start,
            Step::Keys,
            Step::Ssh,
            Step::PinHostKey,
            Step::Env,
            Step::Secrets,
        ])
        .chain(logs)
        .chain([Step::Commit])
        .collect()
}

/// The file whose content (the container's id) says provisioning finished.
pub const MARKER_PATH: &str = "/etc/berth/provisioned";

/// Does a marker file's content say that container `id` finished provisioning?
pub fn marker_matches(content: &[u8], id: &str) -> bool {
    !id.is_empty() && String::from_utf8_lossy(content).trim() == id
}

/// Where a workspace's provisioning stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Provision {
    /// Provisioning finished.
    Ready,
    /// A create is working on it right now (process `pid`).
    Provisioning {
        step: String,
        index: usize,
        total: usize,
        pid: u32,
    },
    /// Its create ended before finishing (killed, crashed, power cut). `step` is the
    /// step it had reached, when known.
    Incomplete {
        step: Option<String>,
        index: usize,
        total: usize,
    },
}

/// What the store knows about a create of this workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub step: String,
    pub index: usize,
    pub total: usize,
    pub pid: u32,
    /// The creating process still runs.
    pub alive: bool,
}

impl Provision {
    /// From the engine alone: `finished` when the container's marker says so (or it
    /// predates markers).
    pub fn from_engine(finished: bool) -> Self {
        if finished {
            Provision::Ready
        } else {
            Provision::Incomplete {
                step: None,
                index: 0,
                total: 0,
            }
        }
    }

    /// The engine's word, refined by the store's record (never trusted over it).
    pub fn with_record(self, record: Option<&Progress>) -> Self {
        match (self, record) {
            (Provision::Ready, _) => Provision::Ready,
            (_, Some(r)) if r.alive => Provision::Provisioning {
                step: r.step.clone(),
                index: r.index,
                total: r.total,
                pid: r.pid,
            },
            (_, Some(r)) => Provision::Incomplete {
                step: (!r.step.is_empty()).then(|| r.step.clone()),
                index: r.index,
                total: r.total,
            },
            (p, None) => p,
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self, Provision::Ready)
    }

    /// One word for tables: "ready", "provisioning", "incomplete".
    pub fn word(&self) -> &'static str {
        match self {
            Provision::Ready => "ready",
            Provision::Provisioning { .. } => "provisioning",
            Provision::Incomplete { .. } => "incomplete",
        }
    }

    /// "post-start (9/10)" or "an unknown step".
    pub fn step_text(&self) -> String {
        match self {
            Provision::Ready => String::new(),
            Provision::Provisioning {
                step, index, total, ..
            } if !step.is_empty() => format!("{step} ({index}/{total})"),
            Provision::Incomplete {
                step: Some(step),
                index,
                total,
            } => format!("{step} ({index}/{total})"),
            Provision::Provisioning { .. } | Provision::Incomplete { step: None, .. } => {
                "an unknown step".into()
            }
        }
    }

    /// A sentence for status views: what happened and what to do.
    pub fn explain(&self, name: &str) -> Option<String> {
        match self {
            Provision::Ready => None,
            Provision::Provisioning { pid, .. } => Some(format!(
                "being created by berth process {pid}, at step {}",
                self.step_text()
            )),
            Provision::Incomplete { .. } => Some(format!(
                "incomplete: its create stopped at {} and never finished. `berth create {name}` starts it over (keeping its volume); `berth delete {name}` removes it",
                self.step_text()
            )),
        }
    }
}

#[cfg(test)]
#[path = "provision_tests.rs"]
mod tests;
