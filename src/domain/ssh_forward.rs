//! SSH forwarding (`--forward-ssh`): what a create makes available inside and what
//! it says about it. Pure: the backend (`backend::provision::ssh_agent`) looks at
//! the host and runs the relay.
/// The directory inside the workspace where berth's agent relay puts its socket
/// (a bind of a berth-owned host directory, one per workspace).
pub const AGENT_DIR: &str = "/run/berth-agent";
/// The relay's socket inside the workspace: `SSH_AUTH_SOCK` for `berth exec`, the
/// create's own steps and ssh sessions without agent forwarding.
pub const AGENT_SOCKET: &str = "/run/berth-agent/agent.sock";
/// The socket's file name (the same in the host directory).
pub const SOCKET_NAME: &str = "agent.sock";
/// Where the host's `~/.ssh` is bound read-only when there is no agent (beside the
/// workspace's own `~/.ssh`, which holds its authorized_keys).
pub const HOST_SSH_DIR: &str = "/home/workspace/.ssh-host";
/// The longest path a Unix socket can be bound at (`sun_path` less its NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// The container's label recording what `--forward-ssh` gave it (its mounts are
/// fixed at create): "agent", "host-ssh" or "none".
pub const LABEL: &str = "dev.berth.ssh-forward";

/// What `--forward-ssh` gives a workspace, decided once at create (its mounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshForward {
    /// The host's agent, through berth's relay and through `ssh -A`.
    Agent,
    /// No agent: the host's `~/.ssh` bound read-only at [`HOST_SSH_DIR`].
    HostSshDir,
    /// Neither an agent nor a `~/.ssh` on the host: nothing to forward.
    Nothing,
}

impl SshForward {
    pub fn choose(agent_reachable: bool, host_ssh_dir: bool) -> Self {
        match (agent_reachable, host_ssh_dir) {
            (true, _) => SshForward::Agent,
            (false, true) => SshForward::HostSshDir,
            (false, false) => SshForward::Nothing,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            SshForward::Agent => "agent",
            SshForward::HostSshDir => "host-ssh",
            SshForward::Nothing => "none",
        }
    }

    pub fn from_label(s: &str) -> Option<Self> {
        [
            SshForward::Agent,
            SshForward::HostSshDir,
            SshForward::Nothing,
        ]
        .into_iter()
        .find(|m| m.label() == s)
    }

    /// The public environment this gives the workspace (container config and the
    /// ssh sessions' /etc/berth/env, where an agent forwarded by `ssh -A` wins).
    pub fn env(&self) -> Option<(String, String)> {
        (*self == SshForward::Agent).then(|| ("SSH_AUTH_SOCK".into(), AGENT_SOCKET.into()))
    }
}

/// Why the host has no usable agent, for the create's warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAgent {
    Unset,
    Unreachable(String),
}

/// The create's note for a workspace given the host's agent: what works when.
pub fn agent_note(name: &str) -> String {
    format!(
        "ssh-agent: forwarded (keys stay on the host). Inside, SSH_AUTH_SOCK reaches your agent \
         during this create, in `berth exec {name}` while it runs, and in `berth ssh {name}`, \
         shell tabs and `ssh berth-{name}` (after `berth ssh-config`) through ssh's agent forwarding; \
         a plain `docker exec` reaches it only while a berth command for {name} runs"
    )
}

/// The create's warning when the host's `~/.ssh` is bound instead of an agent.
/// `owner_uid` is the host directory's owner: the workspace user (uid 1000) reads
/// it only when that is 1000 or the files are readable by others.
pub fn fallback_warning(why: &NoAgent, host_dir: &str, owner_uid: u32) -> String {
    let why = match why {
        NoAgent::Unset => "SSH_AUTH_SOCK is not set".to_string(),
        NoAgent::Unreachable(e) => format!("the ssh-agent at SSH_AUTH_SOCK does not answer ({e})"),
    };
    let mut s = format!(
        "WARNING: --forward-ssh found no ssh-agent ({why}), so your {host_dir} is bound read-only at \
         {HOST_SSH_DIR}: your PRIVATE KEYS ARE VISIBLE inside this workspace to anything running \
         in it. Start an agent (`eval $(ssh-agent)`, `ssh-add`) and re-create it to forward the \
         agent instead (keys then stay on the host)"
    );
    if owner_uid != 1000 {
        s.push_str(&format!(
            ". {host_dir} belongs to uid {owner_uid}, not the workspace user (uid 1000): only \
             files in it readable by others can be read inside"
        ));
    }
    s
}

/// The create's note when there is nothing to forward.
pub fn nothing_note(why: &NoAgent, host_dir: &str) -> String {
    let why = match why {
        NoAgent::Unset => "SSH_AUTH_SOCK is not set".to_string(),
        NoAgent::Unreachable(e) => format!("the agent does not answer: {e}"),
    };
    format!("ssh-agent: nothing forwarded: no ssh-agent ({why}) and no {host_dir} on this host")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workspace::WORKSPACE_HOME;

    #[test]
    fn an_agent_wins_over_the_ssh_directory() {
        assert_eq!(SshForward::choose(true, true), SshForward::Agent);
        assert_eq!(SshForward::choose(true, false), SshForward::Agent);
        assert_eq!(SshForward::choose(false, true), SshForward::HostSshDir);
        assert_eq!(SshForward::choose(false, false), SshForward::Nothing);
    }

    #[test]
    fn labels_round_trip() {
        for m in [
            SshForward::Agent,
            SshForward::HostSshDir,
            SshForward::Nothing,
        ] {
            assert_eq!(SshForward::from_label(m.label()), Some(m));
        }
        assert_eq!(SshForward::from_label("agentx"), None);
    }

    #[test]
    fn only_the_agent_sets_ssh_auth_sock() {
        assert_eq!(
            SshForward::Agent.env(),
            Some(("SSH_AUTH_SOCK".into(), AGENT_SOCKET.into()))
        );
        assert_eq!(SshForward::HostSshDir.env(), None);
        assert_eq!(SshForward::Nothing.env(), None);
    }

    #[test]
    fn paths_agree() {
        assert_eq!(AGENT_SOCKET, format!("{AGENT_DIR}/{SOCKET_NAME}"));
        assert!(HOST_SSH_DIR.starts_with(WORKSPACE_HOME));
        assert!(AGENT_SOCKET.len() <= MAX_SOCKET_PATH);
    }

    #[test]
    fn the_fallback_warning_says_keys_are_visible_and_who_can_read_them() {
        let w = fallback_warning(&NoAgent::Unset, "/root/.ssh", 0);
        assert!(w.starts_with("WARNING"));
        assert!(w.contains("PRIVATE KEYS ARE VISIBLE"));
        assert!(w.contains(HOST_SSH_DIR));
        assert!(w.contains("SSH_AUTH_SOCK is not set"));
        assert!(w.contains("uid 0"));
        let w = fallback_warning(&NoAgent::Unreachable("refused".into()), "/h/.ssh", 1000);
        assert!(w.contains("does not answer (refused)"));
        assert!(!w.contains("uid 1000)"));
    }

    #[test]
    fn the_agent_note_names_every_path() {
        let n = agent_note("api");
        for want in [
            "berth exec api",
            "berth ssh api",
            "ssh berth-api",
            "shell tabs",
        ] {
            assert!(n.contains(want), "{want} missing in {n}");
        }
        assert!(nothing_note(&NoAgent::Unset, "/h/.ssh").contains("nothing forwarded"));
    }
}
