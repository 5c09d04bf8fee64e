//! The Docker engine image (`berth/docker:<definition hash>`): Debian's docker.io
//! and the sidecar's entrypoint (`assets/docker/`), built like every sidecar image
//! (`backend::sidecar_image`).
use crate::backend::sidecar_image::SidecarImage;
use crate::domain::dind::{IMAGE_REPO, KIND};

pub const IMAGE: SidecarImage = SidecarImage {
    kind: KIND,
    repo: IMAGE_REPO,
    what: "Docker engine image",
    installs: "Debian's docker.io",
    needed_by: "--docker",
    flag: "--docker",
    files: &[
        (
            "Dockerfile",
            include_str!("../../../assets/docker/Dockerfile"),
            0o644,
        ),
        (
            "entrypoint.sh",
            include_str!("../../../assets/docker/entrypoint.sh"),
            0o755,
        ),
    ],
};
