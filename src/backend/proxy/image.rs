//! The proxy image (`berth/proxy:<definition hash>`): Debian's Squid and socat with
//! the sidecar's entrypoint (`assets/proxy/`), built like every sidecar image
//! (`backend::sidecar_image`).
use crate::backend::sidecar_image::SidecarImage;
use crate::domain::proxy::{IMAGE_REPO, KIND};

pub const IMAGE: SidecarImage = SidecarImage {
    kind: KIND,
    repo: IMAGE_REPO,
    what: "proxy image",
    installs: "Debian's squid and socat",
    needed_by: "--net-profile proxy",
    flag: "--proxy",
    files: &[
        (
            "Dockerfile",
            include_str!("../../../assets/proxy/Dockerfile"),
            0o644,
        ),
        (
            "entrypoint.sh",
            include_str!("../../../assets/proxy/entrypoint.sh"),
            0o755,
        ),
    ],
};
