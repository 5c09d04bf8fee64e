//! podman through its Docker-compatible socket: telling it from Docker, and what
//! it lacks that berth would use, each said as a sentence with what to do instead.
//! Pure: the engine reports what it is (`EngineInfo::flavor`), the backend and
//! doctor act on these decisions.
use super::net_profile::NetProfile;
use serde::Serialize;

/// Which engine answers on the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    #[default]
    Docker,
    Podman,
}

impl Flavor {
    /// From the names of the components the engine's version lists: podman
    /// says `Podman Engine`, Docker `Engine`.
    pub fn from_components<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        if names
            .into_iter()
            .any(|n| n.to_ascii_lowercase().contains("podman"))
        {
            Self::Podman
        } else {
            Self::Docker
        }
    }

    pub fn is_podman(self) -> bool {
        self == Self::Podman
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
        }
    }
}

/// podman's inspect names the runtime of a container that asked for none `oci`;
/// berth shows it as the engine's default (`None`), as Docker does.
pub fn container_runtime(shown: Option<String>) -> Option<String> {
    shown.filter(|r| !r.is_empty() && r != "oci")
}

/// A tmpfs's mount options for podman, which (4.3) refuses `uid=`/`gid=`: they
/// become `U` (owned by the container's user, the image's `workspace`).
pub fn tmpfs_options(opts: &str) -> String {
    let mut owned = false;
    let mut out: Vec<&str> = opts
        .split(',')
        .filter(|o| {
            let id = o.starts_with("uid=") || o.starts_with("gid=");
            owned |= id;
            !id && !o.is_empty()
        })
        .collect();
    if owned {
        out.insert(0, "U");
    }
    out.join(",")
}

/// Whether an engine's error says that the init process berth asks for is not
/// installed (podman runs `catatonit` as a container's init).
pub fn init_missing(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("catatonit") || m.contains("container-init binary not found")
}

/// The sentence for [`init_missing`]: what to install, or how to go without.
pub fn init_missing_hint(engine: &str) -> String {
    format!(
        "the engine {engine:?} has no init binary for the workspace's init process (podman runs catatonit): install it where the engine runs (`sudo apt install catatonit`), or set `init = false` under [engines.{engine}] in berth's config to create workspaces without one (zombie processes are then not reaped)"
    )
}

/// What a workspace without an init process gives up, for status and doctor.
pub const NO_INIT: &str =
    "no init process (`init = false`): zombie processes in the workspace are not reaped";

/// Whether this workspace was created without an init process (its label).
pub fn lacks_init(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels.get(super::labels::INIT).map(String::as_str) == Some(super::labels::INIT_NONE)
}

/// `berth status`'s line for a workspace without an init process, if it is one.
pub fn init_status_line(labels: &std::collections::BTreeMap<String, String>) -> Option<String> {
    lacks_init(labels).then(|| format!("{:<10} {NO_INIT}\n", "init"))
}

/// Whether a workspace gets an init process: unless the engine's definition says
/// `init = false`.
pub fn wants_init(def_init: Option<bool>) -> bool {
    def_init != Some(false)
}

/// One thing podman does not do as berth needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lack {
    /// Short, for doctor's check column.
    pub what: &'static str,
    /// Why, and what it means for workspaces.
    pub detail: &'static str,
    /// What to do instead.
    pub instead: &'static str,
}

pub const ICC: Lack = Lack {
    what: "isolated network",
    detail: "podman cannot turn off inter-container communication on a network (Docker's com.docker.network.bridge.enable_icc=false), so the `isolated` profile would not keep workspaces apart",
    instead: "create with `--net-profile open` (other containers can reach it), `--net-profile proxy` (an internal network behind berth's proxy) or `--net-profile offline` (no network), or set `[network] profile` in the config; or use a Docker engine for isolated workspaces",
};

pub const RESTART: Lack = Lack {
    what: "restart on boot",
    detail: "podman has no daemon that restarts containers after a reboot: running workspaces come back only if podman-restart.service is enabled",
    instead: "sudo systemctl enable podman-restart.service",
};

pub const DIND: Lack = Lack {
    what: "docker sidecar",
    detail: "berth's Docker-in-Docker sidecar is made for Docker's privileged containers and shared network namespaces; it is not supported on podman",
    instead: "create without `--docker`, or on a Docker engine",
};

pub const LOG_FORWARD: Lack = Lack {
    what: "log forwarding",
    detail: "podman writes container logs in its own k8s-file format (or to journald), not the json-file log berth's forwarder reads",
    instead: "create without `--forward-logs`, or on a Docker engine",
};

/// Everything podman lacks, for doctor.
pub const LACKS: [Lack; 4] = [ICC, RESTART, DIND, LOG_FORWARD];

/// What a create asks for that podman may not give.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked {
    pub net_profile: NetProfile,
    pub docker: bool,
    pub forward_logs: bool,
}

/// `Err(sentence)` when a create on `flavor` would silently be less than asked
/// (less isolated, or missing a part); `Ok(notes)` with what to know otherwise.
pub fn check_create(flavor: Flavor, engine: &str, asked: Asked) -> Result<Vec<String>, String> {
    if !flavor.is_podman() {
        return Ok(Vec::new());
    }
    let refuse = |l: &Lack, asked: &str| {
        format!(
            "engine {engine:?} is podman, which cannot give {asked}: {}; {}",
            l.detail, l.instead
        )
    };
    if asked.net_profile == NetProfile::Isolated {
        return Err(refuse(&ICC, "the `isolated` network profile (the default)"));
    }
    if asked.docker {
        return Err(refuse(&DIND, "a Docker sidecar (`--docker`)"));
    }
    if asked.forward_logs {
        return Err(refuse(&LOG_FORWARD, "log forwarding (`--forward-logs`)"));
    }
    Ok(vec![format!(
        "engine {engine:?} is podman: {}",
        RESTART.detail
    )])
}

/// The runtimes doctor probes: Docker's registered ones (`to_check`); on podman,
/// which lists every runtime its configuration names, installed or not, only
/// those berth would use (the default and the configured one). The second list
/// is what podman lists but is not probed.
pub fn runtimes_to_probe(
    flavor: Flavor,
    listed: Vec<String>,
    default: &str,
    configured: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    if !flavor.is_podman() {
        return (listed, Vec::new());
    }
    let used = |r: &str| r == default || configured == Some(r);
    let (probe, rest): (Vec<String>, Vec<String>) = listed.into_iter().partition(|r| used(r));
    (probe, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_without_init_says_so_in_its_status() {
        let mut l = std::collections::BTreeMap::new();
        assert!(!lacks_init(&l));
        assert_eq!(init_status_line(&l), None);
        l.insert(
            crate::domain::labels::INIT.to_string(),
            crate::domain::labels::INIT_NONE.to_string(),
        );
        assert!(lacks_init(&l));
        let line = init_status_line(&l).unwrap();
        assert!(line.starts_with("init "), "{line}");
        assert!(line.contains("zombie"), "{line}");
    }

    #[test]
    fn podman_is_told_by_its_components() {
        assert_eq!(
            Flavor::from_components(["Podman Engine", "Conmon", "OCI Runtime (crun)"]),
            Flavor::Podman
        );
        assert_eq!(
            Flavor::from_components(["Engine", "containerd", "runc", "docker-init"]),
            Flavor::Docker
        );
        assert_eq!(Flavor::from_components([]), Flavor::Docker);
    }

    #[test]
    fn oci_is_the_engines_default_runtime() {
        assert_eq!(container_runtime(Some("oci".into())), None);
        assert_eq!(container_runtime(Some(String::new())), None);
        assert_eq!(container_runtime(None), None);
        assert_eq!(
            container_runtime(Some("runsc".into())).as_deref(),
            Some("runsc")
        );
    }

    #[test]
    fn a_missing_catatonit_is_recognised_and_explained() {
        let msg = "container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory";
        assert!(init_missing(msg));
        assert!(!init_missing("no such image"));
        let hint = init_missing_hint("pod");
        assert!(hint.contains("apt install catatonit"), "{hint}");
        assert!(hint.contains("init = false"), "{hint}");
        assert!(hint.contains("[engines.pod]"), "{hint}");
    }

    #[test]
    fn podman_probes_only_the_runtimes_berth_would_use() {
        let listed: Vec<String> = ["crun", "kata", "runc", "runsc"].map(String::from).into();
        let (probe, rest) = runtimes_to_probe(Flavor::Podman, listed.clone(), "crun", Some("runc"));
        assert_eq!(probe, ["crun", "runc"]);
        assert_eq!(rest, ["kata", "runsc"]);
        let (probe, rest) = runtimes_to_probe(Flavor::Docker, listed.clone(), "runc", None);
        assert_eq!(probe, listed);
        assert!(rest.is_empty());
    }

    #[test]
    fn tmpfs_ownership_is_said_as_podman_understands() {
        assert_eq!(
            tmpfs_options("uid=1000,gid=1000,mode=0700,size=4m,nosuid"),
            "U,mode=0700,size=4m,nosuid"
        );
        assert_eq!(tmpfs_options("mode=0700,size=4m"), "mode=0700,size=4m");
    }

    #[test]
    fn init_is_on_unless_the_engine_says_false() {
        assert!(wants_init(None));
        assert!(wants_init(Some(true)));
        assert!(!wants_init(Some(false)));
    }

    #[test]
    fn docker_is_never_refused_here() {
        let asked = Asked {
            net_profile: NetProfile::Isolated,
            docker: true,
            forward_logs: true,
        };
        assert_eq!(check_create(Flavor::Docker, "default", asked), Ok(vec![]));
    }

    #[test]
    fn podman_refuses_what_it_would_silently_weaken() {
        let isolated = Asked::default();
        assert_eq!(isolated.net_profile, NetProfile::Isolated);
        let e = check_create(Flavor::Podman, "pod", isolated).unwrap_err();
        assert!(e.contains("inter-container"), "{e}");
        assert!(e.contains("--net-profile open"), "{e}");
        let open = |docker, forward_logs| Asked {
            net_profile: NetProfile::Open,
            docker,
            forward_logs,
        };
        let e = check_create(Flavor::Podman, "pod", open(true, false)).unwrap_err();
        assert!(e.contains("--docker"), "{e}");
        let e = check_create(Flavor::Podman, "pod", open(false, true)).unwrap_err();
        assert!(e.contains("--forward-logs"), "{e}");
        let notes = check_create(Flavor::Podman, "pod", open(false, false)).unwrap();
        assert!(notes[0].contains("podman-restart.service"), "{notes:?}");
        for p in [NetProfile::Proxy, NetProfile::Offline] {
            let a = Asked {
                net_profile: p,
                ..Default::default()
            };
            assert!(check_create(Flavor::Podman, "pod", a).is_ok(), "{p:?}");
        }
    }
}
