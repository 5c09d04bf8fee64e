//! The label schema. The engine holds identity and spec: berth rebuilds its view
//! of what exists from these labels alone.
use super::workspace::WorkspaceSpec;
use std::collections::BTreeMap;

pub const ROLE: &str = "dev.berth.role";
pub const NAME: &str = "dev.berth.name";
pub const THREAD: &str = "dev.berth.thread";
pub const PLATFORM: &str = "dev.berth.platform";
pub const PROFILE: &str = "dev.berth.profile";
pub const SSH_PORT: &str = "dev.berth.ssh-port";
pub const VERSION: &str = "dev.berth.version";
/// How the workspace records that provisioning finished (see `domain::provision`);
/// absent on workspaces made before berth recorded it.
pub const PROVISION: &str = "dev.berth.provision";
pub const PROVISION_MARKER: &str = "marker";
/// The create that made an object (a unique token), so it knows what is its own.
pub const CREATE: &str = "dev.berth.create";
/// The process of that create (`<boot id>/<pid>/<start>`), so any berth can tell
/// whether it still runs.
pub const CREATOR: &str = "dev.berth.creator";

/// Names (never values) of the host variables passed through, redelivered on start.
pub const SECRETS: &str = "dev.berth.env-passthrough";
/// Names (never values) of the global secrets it gets as files (`create --secret`).
pub const SECRET_FILES: &str = "dev.berth.secrets";
/// What the workspace forwards from the host ("git,gh,ssh"; see `Forward::label`).
pub const FORWARD: &str = "dev.berth.forward";
/// Default directory for exec, ssh and shells (`--workdir`, else the clone's).
pub const WORKDIR: &str = "dev.berth.workdir";
/// The TTL a workspace was created with (`create --ttl`, e.g. "8h" or "never");
/// `berth ttl` later overrides it in the store (see `domain::ttl_source`).
pub const TTL: &str = "dev.berth.ttl";
/// On berth's images: a hash of the definition they were built from, so an image
/// built from an older definition is known as outdated.
pub const DEFINITION: &str = "dev.berth.definition";
/// On a profile's image: the id of the base image it was built over, so an image
/// that no longer sits on the current base is known (`domain::integrity`).
pub const BASE_IMAGE: &str = "dev.berth.base-image";
/// `none` on a workspace created without an init process (its engine's
/// `init = false`): its status says zombies are not reaped.
pub const INIT: &str = "dev.berth.init";
pub const INIT_NONE: &str = "none";

/// Which create made an object, for its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maker {
    pub token: String,
    pub creator: String,
}

pub const ROLE_WORKSPACE: &str = "workspace";
/// Role of the workspace image berth builds.
pub const ROLE_IMAGE: &str = "image";
/// Role of a snapshot's image and volume.
pub const ROLE_SNAPSHOT: &str = "snapshot";
/// Role of a container that serves a workspace (egress proxy, log forwarder, ...).
pub const ROLE_SIDECAR: &str = "sidecar";
/// Role of a short-lived container that checks a runtime (`domain::runtime`).
pub const ROLE_PROBE: &str = "probe";
/// On a probe container: the runtime it checks.
pub const PROBE_RUNTIME: &str = "dev.berth.probe-runtime";
/// A sidecar's short name, its source tag in the logs pane.
pub const SIDECAR: &str = "dev.berth.sidecar";
/// On a sidecar that joins its workspace's network namespace (`container:` network
/// mode): it must be started after the workspace and restarted with it.
pub const NETNS: &str = "dev.berth.netns";
pub const NETNS_WORKSPACE: &str = "workspace";

/// On a sidecar that is a service (`berth service add`): its service name.
pub const SERVICE: &str = "dev.berth.service";
/// Role of a named network (`berth net create`); its name is in [`NETWORK`].
pub const ROLE_NETWORK: &str = "network";
/// Role of the network that joins a workspace and its services (`dev.berth.name`
/// names the workspace).
pub const ROLE_WORKSPACE_NETWORK: &str = "workspace-network";
/// A named network's name (without the engine's `berth-` prefix).
pub const NETWORK: &str = "dev.berth.network";
/// On a workspace: the named networks it was created on ("a,b"), so a copy of it
/// (restore, fork) can join them too. The engine's own list is the live truth.
pub const NETWORKS: &str = "dev.berth.networks";

/// Labels of a runtime's probe container (the config's extra labels, so a test's
/// per-run label finds it too).
pub fn probe_labels(extra: &BTreeMap<String, String>, runtime: &str) -> BTreeMap<String, String> {
    let mut l = extra.clone();
    l.insert(ROLE.into(), ROLE_PROBE.into());
    l.insert(PROBE_RUNTIME.into(), runtime.into());
    l
}

/// Labels for sidecar `kind` of `workspace` (its container and its volumes): the
/// config's extra labels, role=sidecar, the workspace's name and the kind.
pub fn sidecar_labels(
    extra: &BTreeMap<String, String>,
    workspace: &str,
    kind: &str,
    joins_netns: bool,
) -> BTreeMap<String, String> {
    let mut l = extra.clone();
    l.insert(ROLE.into(), ROLE_SIDECAR.into());
    l.insert(NAME.into(), workspace.into());
    l.insert(SIDECAR.into(), kind.into());
    if joins_netns {
        l.insert(NETNS.into(), NETNS_WORKSPACE.into());
    }
    l
}

/// Engine filter that selects every workspace object.
pub fn workspace_filter() -> String {
    format!("{ROLE}={ROLE_WORKSPACE}")
}

/// Labels for a workspace's container and volume.
pub fn workspace_labels(
    spec: &WorkspaceSpec,
    ssh_port: Option<u16>,
    version: &str,
    maker: &Maker,
) -> BTreeMap<String, String> {
    let mut l = spec.extra_labels.clone();
    l.insert(ROLE.into(), ROLE_WORKSPACE.into());
    l.insert(NAME.into(), spec.name.to_string());
    l.insert(PROFILE.into(), spec.profile.clone());
    l.insert(VERSION.into(), version.into());
    l.insert(PROVISION.into(), PROVISION_MARKER.into());
    l.insert(CREATE.into(), maker.token.clone());
    l.insert(CREATOR.into(), maker.creator.clone());
    if let Some(t) = &spec.thread {
        l.insert(THREAD.into(), t.clone());
    }
    if let Some(p) = &spec.platform {
        l.insert(PLATFORM.into(), p.clone());
    }
    if let Some(port) = ssh_port {
        l.insert(SSH_PORT.into(), port.to_string());
    }
    let o = &spec.options;
    l.extend(o.session_labels.clone());
    l.insert(FORWARD.into(), o.forward.label());
    if !o.secrets.is_empty() {
        l.insert(SECRETS.into(), super::env::names_label(&o.secrets));
    }
    if !o.secret_files.is_empty() {
        l.insert(
            SECRET_FILES.into(),
            super::secrets::names_label(&o.secret_files),
        );
    }
    if !o.networks.is_empty() {
        l.insert(NETWORKS.into(), super::networks::label_value(&o.networks));
    }
    l.insert(super::net_profile::LABEL.into(), o.net_profile.to_string());
    if let Some(t) = &o.forward_logs {
        l.insert(super::log_forward::LABEL.into(), t.to_string());
    }
    if let Some(t) = &o.ttl {
        l.insert(TTL.into(), t.to_string());
    }
    if o.docker {
        l.insert(
            super::dind::LABEL.into(),
            spec.name.sidecar(super::dind::KIND),
        );
    }
    if let Some(w) =
        super::create_checks::default_workdir(o.workdir.as_deref(), spec.clone_url.is_some())
    {
        l.insert(WORKDIR.into(), w);
    }
    l
}

/// Labels for the workspace image berth builds: the config's extra labels, its role
/// and the berth version that built it.
pub fn image_labels(extra: &BTreeMap<String, String>, version: &str) -> BTreeMap<String, String> {
    let mut l = extra.clone();
    l.insert(ROLE.into(), ROLE_IMAGE.into());
    l.insert(VERSION.into(), version.into());
    l
}

/// The SSH port recorded in a workspace's labels.
pub fn ssh_port(labels: &BTreeMap<String, String>) -> Option<u16> {
    labels.get(SSH_PORT).and_then(|p| p.parse().ok())
}

/// Is a label key berth's own (not user-chosen)?
pub fn is_berth_key(key: &str) -> bool {
    key.starts_with("dev.berth.")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "label {key:?} is reserved for berth; choose a key that does not start with \"dev.berth.\""
)]
pub struct ReservedLabel {
    pub key: String,
}

/// Extra labels from config may not override berth's own keys.
pub fn check_extra_labels(extra: &BTreeMap<String, String>) -> Result<(), ReservedLabel> {
    match extra.keys().find(|k| is_berth_key(k)) {
        Some(key) => Err(ReservedLabel { key: key.clone() }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::naming::WorkspaceName;
    use crate::domain::resources::Resources;

    fn spec() -> WorkspaceSpec {
        WorkspaceSpec {
            name: WorkspaceName::parse("api").unwrap(),
            image: "img".into(),
            clone_url: None,
            thread: Some("t-1".into()),
            platform: None,
            profile: "general".into(),
            post_start: None,
            resources: Resources::default(),
            runtime: None,
            extra_labels: [("team".to_string(), "core".to_string())].into(),
            options: Default::default(),
        }
    }

    #[test]
    fn labels_hold_identity_and_spec() {
        let maker = Maker {
            token: "tok".into(),
            creator: "boot/1/2".into(),
        };
        let l = workspace_labels(&spec(), Some(2201), "0.1.0", &maker);
        assert_eq!(
            (l[CREATE].as_str(), l[CREATOR].as_str()),
            ("tok", "boot/1/2")
        );
        assert_eq!(l[ROLE], "workspace");
        assert_eq!(l[NAME], "api");
        assert_eq!(l[THREAD], "t-1");
        assert_eq!(l[PROFILE], "general");
        assert_eq!(l[VERSION], "0.1.0");
        assert_eq!(l["team"], "core");
        assert!(!l.contains_key(PLATFORM));
        assert_eq!(ssh_port(&l), Some(2201));
    }

    #[test]
    fn image_labels_hold_extra_labels_role_and_version() {
        let extra = [("berth.test-run".to_string(), "r1".to_string())].into();
        let l = image_labels(&extra, "0.1.0");
        assert_eq!(l["berth.test-run"], "r1");
        assert_eq!(l[ROLE], ROLE_IMAGE);
        assert_eq!(l[VERSION], "0.1.0");
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn extra_labels_cannot_override_berth_keys() {
        let bad: BTreeMap<String, String> = [(NAME.to_string(), "x".to_string())].into();
        assert!(check_extra_labels(&bad)
            .unwrap_err()
            .to_string()
            .contains("reserved"));
        assert!(check_extra_labels(&spec().extra_labels).is_ok());
    }
}
