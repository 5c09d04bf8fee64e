//! Where an engine is: `unix://`, `tcp://` (also `http://`, `https://`) and
//! `ssh://` addresses parsed into an [`EngineHost`] and printed back.
/// Where an engine is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineHost {
    /// A socket on this machine (`unix:///var/run/docker.sock`).
    Unix(String),
    /// The engine's TCP API (`tcp://host:2376`), with TLS when the definition has it.
    Tcp { host: String, port: u16 },
    /// Docker's ssh transport (`ssh://[user@]host[:port]`): the remote's
    /// `docker system dial-stdio` over the user's ssh.
    Ssh {
        user: Option<String>,
        host: String,
        port: Option<u16>,
    },
}

impl EngineHost {
    /// Parses `unix://PATH`, `tcp://HOST:PORT` (also `http://`, `https://`) or
    /// `ssh://[USER@]HOST[:PORT]`; the error is a sentence naming the forms.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let forms = "use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]";
        if let Some(path) = s.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "engine host {s:?}: the socket path must be absolute; {forms}"
                ));
            }
            return Ok(Self::Unix(path.to_string()));
        }
        let tcp = ["tcp://", "http://", "https://"]
            .iter()
            .find_map(|p| s.strip_prefix(p));
        if let Some(rest) = tcp {
            let rest = rest.trim_end_matches('/');
            let (host, port) = split_host_port(rest)
                .ok_or_else(|| format!("engine host {s:?}: a port is needed ({forms})"))?;
            let port = port.ok_or_else(|| {
                format!("engine host {s:?}: a port is needed, such as tcp://{host}:2376 ({forms})")
            })?;
            return Ok(Self::Tcp { host, port });
        }
        if let Some(rest) = s.strip_prefix("ssh://") {
            let rest = rest.trim_end_matches('/');
            if rest.contains('/') {
                return Err(format!(
                    "engine host {s:?}: an ssh engine has no path (the remote's own docker socket is used); {forms}"
                ));
            }
            let (user, hostport) = match rest.rsplit_once('@') {
                Some((u, h)) if !u.is_empty() => (Some(u.to_string()), h),
                Some(_) => return Err(format!("engine host {s:?}: the user is empty; {forms}")),
                None => (None, rest),
            };
            let (host, port) = split_host_port(hostport)
                .ok_or_else(|| format!("engine host {s:?}: the host is missing or bad; {forms}"))?;
            return Ok(Self::Ssh { user, host, port });
        }
        Err(format!("engine host {s:?} is not understood; {forms}"))
    }

    /// Back in URL form (what `parse` reads).
    pub fn url(&self) -> String {
        match self {
            Self::Unix(p) => format!("unix://{p}"),
            Self::Tcp { host, port } => format!("tcp://{}:{port}", bracket(host)),
            Self::Ssh { user, host, port } => {
                let user = user.as_deref().map(|u| format!("{u}@")).unwrap_or_default();
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                format!("ssh://{user}{}{port}", bracket(host))
            }
        }
    }

    /// Whether the engine runs on this machine (a unix socket): then a workspace's
    /// published port is reachable here directly.
    pub fn is_local(&self) -> bool {
        matches!(self, Self::Unix(_))
    }

    /// `unix`, `tcp` or `ssh`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Unix(_) => "unix",
            Self::Tcp { .. } => "tcp",
            Self::Ssh { .. } => "ssh",
        }
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `None` when the host is empty or
/// the port is not a number in 1-65535.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':')?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => return None,
            None => (s, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '@') {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0)?),
        None => None,
    };
    Some((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hosts_parse_and_print_back() {
        for (s, want) in [
            (
                "unix:///var/run/docker.sock",
                EngineHost::Unix("/var/run/docker.sock".into()),
            ),
            (
                "tcp://10.0.0.2:2376",
                EngineHost::Tcp {
                    host: "10.0.0.2".into(),
                    port: 2376,
                },
            ),
            (
                "ssh://me@box",
                EngineHost::Ssh {
                    user: Some("me".into()),
                    host: "box".into(),
                    port: None,
                },
            ),
            (
                "ssh://box:2222",
                EngineHost::Ssh {
                    user: None,
                    host: "box".into(),
                    port: Some(2222),
                },
            ),
            (
                "tcp://[::1]:2376",
                EngineHost::Tcp {
                    host: "::1".into(),
                    port: 2376,
                },
            ),
        ] {
            let h = EngineHost::parse(s).unwrap();
            assert_eq!(h, want, "{s}");
            assert_eq!(EngineHost::parse(&h.url()).unwrap(), h);
        }
        assert_eq!(
            EngineHost::parse("https://h:2376").unwrap().url(),
            "tcp://h:2376"
        );
    }

    #[test]
    fn bad_hosts_say_what_is_wrong() {
        for (s, says) in [
            ("unix://relative.sock", "absolute"),
            ("tcp://host", "port is needed"),
            ("tcp://host:0", "port is needed"),
            ("ssh://@host", "user is empty"),
            ("ssh://host/path", "no path"),
            ("npipe:////./pipe/docker", "not understood"),
            ("ssh://me@:22", "host is missing"),
        ] {
            let e = EngineHost::parse(s).unwrap_err();
            assert!(e.contains(says) && e.contains("ssh://"), "{s}: {e}");
        }
    }

    proptest! {
        #[test]
        fn parsed_hosts_round_trip(user in proptest::option::of("[a-z]{1,6}"), host in "[a-z][a-z0-9.-]{0,10}", port in proptest::option::of(1u16..)) {
            let h = EngineHost::Ssh { user, host, port };
            prop_assert_eq!(EngineHost::parse(&h.url()).unwrap(), h);
        }
    }
}
