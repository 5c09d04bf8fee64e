//! Log forwarding (`berth create --forward-logs TARGET`, config `[logs] forward`):
//! where a workspace's logs, and its sidecars', are shipped, and the facts about the
//! forwarder sidecar that ships them. Pure: the target is parsed and checked here,
//! the forwarder's arguments and the line format are decided here.
//!
//! The forwarder (`workspace-NAME.logs`) never gets the engine's socket: it reads
//! the engine's json-file logs of the containers it forwards, bind-mounted
//! read-only, and follows them across rotation.
use super::workspace::Workspace;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The sidecar's kind: its container and volume are `workspace-NAME.logs`.
pub const KIND: &str = "logs";
/// On a workspace: where its logs go (the target, as [`Target`] writes it).
pub const LABEL: &str = "dev.berth.forward-logs";
/// On the forwarder: the sources it follows ("workspace,db,docker"), so berth
/// knows when the set changed and the forwarder must be made again.
pub const SOURCES_LABEL: &str = "dev.berth.log-sources";
/// Repository of the forwarder's image; its tag is the definition's hash.
pub const IMAGE_REPO: &str = "berth/logs";
/// The source tag of the workspace container itself.
pub const WORKSPACE_SOURCE: &str = "workspace";
/// The only logging driver whose files the forwarder can read.
pub const DRIVER: &str = "json-file";
/// Where the sources' log directories are mounted inside the forwarder.
pub const LOGS_DIR: &str = "/logs";
/// Where a file target's DIRECTORY is mounted inside the forwarder. Not the file
/// itself: the engine resolves a bind's host path at every start, so a file the
/// target's owner (or a workspace that has the directory mounted) swapped for a link
/// would send the lines wherever it points on the host; inside the directory mount,
/// a link resolves within the forwarder's own (read-only) filesystem instead.
pub const OUT_DIR: &str = "/out";

/// The file target as the forwarder sees it: its name under [`OUT_DIR`].
pub fn out_file(host: &std::path::Path) -> String {
    let name = host
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "forward.log".into());
    format!("{OUT_DIR}/{name}")
}
/// Where the forwarder keeps its cursors (the volume `workspace-NAME.logs`).
pub const STATE_DIR: &str = "/var/lib/berth-logfwd";
/// The syslog port when the target names none.
pub const DEFAULT_SYSLOG_PORT: u16 = 514;
/// Processes the forwarder may run (four per source: a loop, tail, jq, a sink).
pub const PIDS_LIMIT: i64 = 256;
/// Memory the forwarder may use.
pub const MEMORY_BYTES: i64 = 128 * 1024 * 1024;
/// The user a syslog forwarder runs as (nobody); a file forwarder runs as the
/// target file's owner. Either also gets group 0 to read the engine's log files
/// (0640 root:root in directories 0710 root:root: readable, not listable).
pub const SYSLOG_USER: &str = "65534:65534";
/// The hardening, in words, for the README and `berth status --json`.
pub const HARDENING: &str = "no engine socket; logs bind-mounted read-only; capabilities all dropped, no-new-privileges, read-only root filesystem, memory and pids limited";

/// How syslog messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
}

/// Which syslog format the messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Rfc5424,
    Rfc3164,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Rfc5424 => "rfc5424",
            Format::Rfc3164 => "rfc3164",
        }
    }
}

/// Where the logs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Lines appended to a file on the host (absolute path).
    File(PathBuf),
    /// A syslog endpoint (reached from the host's network).
    Syslog {
        transport: Transport,
        host: String,
        port: u16,
        format: Format,
    },
}

/// What is wrong with a target, in a sentence that says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("{0:?} is not a log target; give a file (file:/abs/path or /abs/path) or a syslog endpoint (syslog+udp://HOST[:PORT] or syslog+tcp://HOST[:PORT], port 514 when omitted; add ?format=rfc3164 for the older format)")]
    Unknown(String),
    #[error("the log file {0:?} is not an absolute path; give one like /var/log/berth/NAME.log")]
    Relative(String),
    #[error("the log file {0:?} names a directory; give a file inside it, like {0}/workspace.log")]
    Directory(String),
    #[error("{0:?} has no host; write it like syslog+udp://127.0.0.1:514")]
    NoHost(String),
    #[error(
        "{0:?} has a bad port; give a number from 1 to 65535, like syslog+udp://127.0.0.1:514"
    )]
    BadPort(String),
    #[error("{0:?}: the host may hold only letters, digits, '.', '-' and ':' (an IPv6 address in brackets)")]
    BadHost(String),
    #[error("{0:?}: the only option is ?format=rfc5424 (the default) or ?format=rfc3164")]
    BadOption(String),
}

impl Target {
    /// Parses a target; an empty one is "no forwarding" (`Ok(None)`).
    pub fn parse(raw: &str) -> Result<Option<Target>, TargetError> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if t.chars().any(|c| c.is_control()) {
            return Err(TargetError::Unknown(t.into()));
        }
        if let Some(path) = t.strip_prefix("file:") {
            return file(path).map(Some);
        }
        if t.starts_with('/') {
            return file(t).map(Some);
        }
        let (transport, rest) = if let Some(r) = t.strip_prefix("syslog+udp://") {
            (Transport::Udp, r)
        } else if let Some(r) = t.strip_prefix("syslog+tcp://") {
            (Transport::Tcp, r)
        } else if let Some(r) = t.strip_prefix("syslog://") {
            (Transport::Udp, r)
        } else if t.contains("://") {
            return Err(TargetError::Unknown(t.into()));
        } else {
            return Err(TargetError::Relative(t.into()));
        };
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a.trim_end_matches('/'), Some(q)),
            None => (rest.trim_end_matches('/'), None),
        };
        let format = match query {
            None => Format::default(),
            Some("format=rfc5424") => Format::Rfc5424,
            Some("format=rfc3164") => Format::Rfc3164,
            Some(_) => return Err(TargetError::BadOption(t.into())),
        };
        let (host, port) = split_host_port(authority, t)?;
        Ok(Some(Target::Syslog {
            transport,
            host,
            port,
            format,
        }))
    }

    /// The file on the host, for a file target.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Target::File(p) => Some(p),
            Target::Syslog { .. } => None,
        }
    }

    /// The forwarder's arguments before its sources: `file PATH` or
    /// `syslog udp|tcp HOST PORT FORMAT`.
    pub fn sink_args(&self) -> Vec<String> {
        match self {
            Target::File(p) => vec!["file".into(), out_file(p)],
            Target::Syslog {
                transport,
                host,
                port,
                format,
            } => vec![
                "syslog".into(),
                match transport {
                    Transport::Udp => "udp",
                    Transport::Tcp => "tcp",
                }
                .into(),
                host.trim_start_matches('[').trim_end_matches(']').into(),
                port.to_string(),
                format.as_str().into(),
            ],
        }
    }

    /// A syslog forwarder sends to an address of the host (127.0.0.1 included), so it
    /// shares the host's network (it listens on nothing); a file forwarder has none.
    pub fn host_network(&self) -> bool {
        matches!(self, Target::Syslog { .. })
    }
}

fn file(path: &str) -> Result<Target, TargetError> {
    if !path.starts_with('/') {
        return Err(TargetError::Relative(path.into()));
    }
    if path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..") {
        return Err(TargetError::Directory(path.trim_end_matches('/').into()));
    }
    Ok(Target::File(PathBuf::from(path)))
}

fn split_host_port(authority: &str, raw: &str) -> Result<(String, u16), TargetError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| TargetError::BadHost(raw.into()))?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else if authority.matches(':').count() > 1 {
        return Err(TargetError::BadHost(raw.into()));
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.is_empty() {
        return Err(TargetError::NoHost(raw.into()));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':');
    if !bare.chars().all(ok) || bare.starts_with('-') {
        return Err(TargetError::BadHost(raw.into()));
    }
    let port = match port {
        None => DEFAULT_SYSLOG_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| TargetError::BadPort(raw.into()))?,
    };
    Ok((host, port))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::File(p) => write!(f, "file:{}", p.display()),
            Target::Syslog {
                transport,
                host,
                port,
                format,
            } => {
                let t = match transport {
                    Transport::Udp => "udp",
                    Transport::Tcp => "tcp",
                };
                write!(f, "syslog+{t}://{host}:{port}")?;
                if *format == Format::Rfc3164 {
                    f.write_str("?format=rfc3164")?;
                }
                Ok(())
            }
        }
    }
}

/// One container whose logs the forwarder follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// "workspace", or the sidecar's kind or service name.
    pub tag: String,
    /// The engine's id of the container (its log file is `ID-json.log`).
    pub id: String,
}

impl Source {
    /// Where its log directory is mounted in the forwarder.
    pub fn mount_dir(&self) -> String {
        format!("{LOGS_DIR}/{}", self.tag)
    }

    /// The forwarder's argument for it: `TAG=FILE`.
    pub fn arg(&self) -> String {
        format!("{}={}/{}-json.log", self.tag, self.mount_dir(), self.id)
    }
}

/// The syslog tag (RFC 5424 APP-NAME) and the file lines' tag of a source:
/// `NAME/SOURCE`, e.g. `api/workspace`, `api/db`.
pub fn tag(workspace: &str, source: &str) -> String {
    format!("{workspace}/{source}")
}

/// The forwarder's full argument list: the sink, the workspace's name, the sources.
pub fn forwarder_args(target: &Target, workspace: &str, sources: &[Source]) -> Vec<String> {
    let mut a = target.sink_args();
    a.push(workspace.to_string());
    a.extend(sources.iter().map(Source::arg));
    a
}

/// The value of [`SOURCES_LABEL`] for a set of sources (sorted, so equal sets
/// compare equal).
pub fn sources_label(sources: &[Source]) -> String {
    let mut tags: Vec<&str> = sources.iter().map(|s| s.tag.as_str()).collect();
    tags.sort_unstable();
    tags.join(",")
}

/// What `berth status` says about a workspace's log forwarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forwarding {
    /// Where the logs go, as the label says.
    pub target: String,
    /// The forwarder sidecar.
    pub sidecar: String,
    /// The sources it follows (known only where someone asked the engine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
    /// Whether the forwarder runs (known only where someone asked the engine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<bool>,
}

impl Forwarding {
    /// From a workspace's labels; `None` for a workspace that forwards nothing.
    pub fn of(w: &Workspace) -> Option<Self> {
        let target = w.labels.get(LABEL).filter(|t| !t.is_empty())?.clone();
        Some(Self {
            target,
            sidecar: format!("{}.{KIND}", w.container),
            sources: None,
            running: None,
        })
    }

    /// One line for status views.
    pub fn summary(&self) -> String {
        let state = match self.running {
            Some(true) => "running",
            Some(false) => "stopped",
            None => "",
        };
        let sources = self
            .sources
            .as_ref()
            .map(|s| format!("; from {}", s.join(", ")))
            .unwrap_or_default();
        let sep = if state.is_empty() { "" } else { ", " };
        format!(
            "→ {} (sidecar {}{sep}{state}{sources})",
            self.target, self.sidecar
        )
    }
}

#[cfg(test)]
#[path = "log_forward_tests.rs"]
mod tests;
