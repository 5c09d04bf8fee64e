//! The egress audit: one record per request through a workspace's proxy sidecar
//! (network profile `proxy`). The proxy writes one line per request to its
//! standard output in [`SQUID_LOGFORMAT`]; berth reads them back from the
//! sidecar's logs with [`parse_line`]. Pure.
use serde::Serialize;

/// The proxy sidecar's kind: its container is `workspace-NAME.proxy`
/// (`WorkspaceName::sidecar`), its source tag in the logs pane `proxy`.
pub const PROXY_KIND: &str = "proxy";

/// First word of every audit line, so the proxy's other output (start-up
/// messages, warnings) is told apart.
pub const MARKER: &str = "berth-egress";

/// Squid's `logformat` for the audit (its name is `berth`): the marker, the time
/// (epoch seconds with milliseconds), method, host, port, the status sent to the
/// workspace, bytes sent to it, Squid's result code (`TCP_DENIED`, `TCP_TUNNEL`,
/// ...) and the URL last (Squid escapes spaces in it; `host:port` for CONNECT).
/// Squid writes `-` for a field it does not have.
pub const SQUID_LOGFORMAT: &str =
    "logformat berth berth-egress %ts.%03tu %rm %>rd %>rP %>Hs %<st %Ss %ru";

/// One request as the audit shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EgressRecord {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub method: String,
    pub host: String,
    pub port: Option<u16>,
    /// The HTTP status the workspace got (`None`: none was sent, e.g. an aborted
    /// tunnel).
    pub status: Option<u16>,
    /// Bytes sent to the workspace (headers included).
    pub bytes: u64,
    /// Squid's result code, e.g. `TCP_MISS`, `TCP_TUNNEL`, `TCP_DENIED`.
    pub result: String,
    pub url: String,
    /// False when the proxy refused it (off the allowlist, or not allowed at all).
    pub allowed: bool,
}

fn dash(s: &str) -> Option<&str> {
    (s != "-" && !s.is_empty()).then_some(s)
}

/// A record from one line of the proxy's output; `None` for any other line (or
/// an audit line cut short).
pub fn parse_line(line: &str) -> Option<EgressRecord> {
    let mut f = line.trim_end_matches(['\r', '\n']).splitn(9, ' ');
    if f.next()? != MARKER {
        return None;
    }
    let time = f.next()?;
    let (secs, millis) = time.split_once('.').unwrap_or((time, "0"));
    let time_ms = secs.parse::<i64>().ok()? * 1000 + millis.parse::<i64>().ok()?;
    let method = f.next()?.to_string();
    let host = f.next()?;
    let port = dash(f.next()?).and_then(|p| p.parse().ok());
    let status = dash(f.next()?)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| *s != 0);
    let bytes = dash(f.next()?).and_then(|b| b.parse().ok()).unwrap_or(0);
    let result = f.next()?.to_string();
    let url = f.next().unwrap_or("-").to_string();
    let host = match dash(host) {
        Some(h) => h.to_string(),
        // Squid has no domain for some denials; the URL still names the host.
        None => host_of(&url).unwrap_or("-").to_string(),
    };
    let allowed = !result.contains("DENIED");
    Some(EgressRecord {
        time_ms,
        method,
        host,
        port,
        status,
        bytes,
        result,
        url,
        allowed,
    })
}

/// The host of `url` (`scheme://host[:port]/...` or `host:port`).
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.split(':').next()?,
    };
    dash(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxied_request_and_a_tunnel_are_read() {
        let r = parse_line(
            "berth-egress 1764100000.123 GET example.test 80 200 1534 TCP_MISS http://example.test/a?b=c",
        )
        .unwrap();
        assert_eq!(r.time_ms, 1_764_100_000_123);
        assert_eq!(
            (r.method.as_str(), r.host.as_str()),
            ("GET", "example.test")
        );
        assert_eq!((r.port, r.status, r.bytes), (Some(80), Some(200), 1534));
        assert!(r.allowed);
        assert_eq!(r.url, "http://example.test/a?b=c");
        let t = parse_line(
            "berth-egress 1764100001.000 CONNECT api.test 443 200 5120 TCP_TUNNEL api.test:443",
        )
        .unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.result.as_str()),
            ("api.test", Some(443), "TCP_TUNNEL")
        );
    }

    #[test]
    fn a_denial_is_not_allowed_and_dashes_are_empty() {
        let r = parse_line(
            "berth-egress 1764100002.5 GET - - 403 3900 TCP_DENIED http://blocked.test:8080/x",
        )
        .unwrap();
        assert!(!r.allowed);
        assert_eq!(
            (r.host.as_str(), r.port, r.status),
            ("blocked.test", None, Some(403))
        );
        let r = parse_line(
            "berth-egress 1764100003.000 CONNECT h.test 443 000 0 TCP_TUNNEL_ABORTED h.test:443",
        )
        .unwrap();
        assert_eq!((r.status, r.bytes), (None, 0));
    }

    #[test]
    fn other_lines_and_cut_lines_are_not_records() {
        assert_eq!(
            parse_line("2026/11/25 21:00:00| Starting Squid Cache"),
            None
        );
        assert_eq!(parse_line("berth-egress 17641 GET"), None);
        assert_eq!(
            parse_line("berth-egress notatime GET h 80 200 1 TCP_MISS u"),
            None
        );
        assert_eq!(parse_line(""), None);
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(host_of("http://u:p@h.test:81/x"), Some("h.test"));
        assert_eq!(host_of("h.test:443"), Some("h.test"));
        assert_eq!(host_of("https://[::1]:8443/"), Some("::1"));
        assert_eq!(host_of("-"), None);
    }
}
