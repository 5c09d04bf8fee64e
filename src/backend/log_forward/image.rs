//! The forwarder's image (`berth/logs:<definition hash>`): jq, tail and logger from
//! Debian, and the forwarder script (`assets/logs/`), built like every sidecar image
//! (`backend::sidecar_image`).
use crate::backend::sidecar_image::SidecarImage;
use crate::domain::log_forward::{IMAGE_REPO, KIND};

pub const IMAGE: SidecarImage = SidecarImage {
    kind: KIND,
    repo: IMAGE_REPO,
    what: "log forwarder image",
    installs: "Debian's jq",
    needed_by: "--forward-logs",
    flag: "--logs",
    files: &[
        (
            "Dockerfile",
            include_str!("../../../assets/logs/Dockerfile"),
            0o644,
        ),
        (
            "berth-logfwd",
            include_str!("../../../assets/logs/berth-logfwd"),
            0o755,
        ),
    ],
};
