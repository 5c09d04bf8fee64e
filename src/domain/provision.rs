//! A workspace spec turned into an ordered provisioning plan: steps as data.
use super::workspace::WorkspaceSpec;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the home volume (or reuse one kept by `delete --keep-volume`).
    Volume,
    /// Reserve an SSH port in the range.
    Port,
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
    /// Clone the repository into ~/repo.
    Clone(String),
    /// Run the post-start script with `/bin/sh -lc`.
    PostStart(String),
}

impl Step {
    /// Short label used in progress output and errors.
    pub fn label(&self) -> &'static str {
        match self {
            Step::Volume => "volume",
            Step::Port => "ssh port",
            Step::Container => "container",
            Step::Start => "start",
            Step::Keys => "ssh keys",
            Step::Ssh => "sshd",
            Step::PinHostKey => "host key",
            Step::Clone(_) => "clone",
            Step::PostStart(_) => "post-start",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Volume => f.write_str("create the home volume"),
            Step::Port => f.write_str("reserve an SSH port"),
            Step::Container => f.write_str("create the container"),
            Step::Start => f.write_str("start the container"),
            Step::Keys => f.write_str("install SSH public keys"),
            Step::Ssh => f.write_str("wait for sshd"),
            Step::PinHostKey => f.write_str("pin the SSH host key"),
            Step::Clone(url) => write!(f, "clone {url}"),
            Step::PostStart(_) => f.write_str("run the post-start script"),
        }
    }
}

/// The ordered steps that create `spec`.
pub fn plan(spec: &WorkspaceSpec) -> Vec<Step> {
    let mut steps = vec![
        Step::Volume,
        Step::Port,
        Step::Container,
        Step::Start,
        Step::Keys,
        Step::Ssh,
        Step::PinHostKey,
    ];
    if let Some(url) = spec.clone_url.as_ref().filter(|u| !u.trim().is_empty()) {
        steps.push(Step::Clone(url.clone()));
    }
    if let Some(cmd) = spec.post_start.as_ref().filter(|c| !c.trim().is_empty()) {
        steps.push(Step::PostStart(cmd.clone()));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::naming::WorkspaceName;
    use crate::domain::resources::Resources;

    fn spec(clone: Option<&str>, post: Option<&str>) -> WorkspaceSpec {
        WorkspaceSpec {
            name: WorkspaceName::parse("w").unwrap(),
            image: "i".into(),
            clone_url: clone.map(Into::into),
            thread: None,
            platform: None,
            profile: "general".into(),
            post_start: post.map(Into::into),
            resources: Resources::default(),
            runtime: None,
            extra_labels: Default::default(),
        }
    }

    #[test]
    fn base_plan_reaches_ssh_before_optional_steps() {
        let p = plan(&spec(None, None));
        assert_eq!(p.first(), Some(&Step::Volume));
        assert_eq!(p.last(), Some(&Step::PinHostKey));
        let pos = |s: &Step| p.iter().position(|x| x == s).unwrap();
        assert!(pos(&Step::Port) < pos(&Step::Container));
        assert!(pos(&Step::Start) < pos(&Step::Keys));
    }

    #[test]
    fn clone_then_post_start() {
        let p = plan(&spec(Some("git://x/r"), Some("make")));
        let n = p.len();
        assert_eq!(p[n - 2], Step::Clone("git://x/r".into()));
        assert_eq!(p[n - 1], Step::PostStart("make".into()));
        assert_eq!(plan(&spec(Some("  "), Some(""))).len(), 7);
    }
}
