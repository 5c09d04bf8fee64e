//! A minimal QMP client over a VM's unix socket: the greeting, capabilities
//! negotiation, then one command (`query-status`, `quit`). Events that arrive
//! meanwhile are skipped. Callers bound it with a timeout.
use serde_json::{json, Value};
use std::io;
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// A QMP reply line: `Some(Ok)` for a return, `Some(Err)` for an error,
/// `None` for the greeting or an event.
pub fn reply(line: &str) -> Option<Result<Value, String>> {
    let v: Value = serde_json::from_str(line).ok()?;
    if let Some(r) = v.get("return") {
        return Some(Ok(r.clone()));
    }
    let e = v.get("error")?;
    Some(Err(e
        .get("desc")
        .and_then(Value::as_str)
        .unwrap_or("QMP error")
        .to_string()))
}

/// Runs `command` on the QMP socket at `sock`, after negotiating capabilities.
pub async fn execute(sock: &Path, command: &str) -> io::Result<Value> {
    let stream = UnixStream::connect(sock).await?;
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let answer = |cmd: &str| json!({ "execute": cmd }).to_string() + "\n";
    w.write_all(answer("qmp_capabilities").as_bytes()).await?;
    next_reply(&mut lines).await?;
    w.write_all(answer(command).as_bytes()).await?;
    match next_reply(&mut lines).await {
        // `quit` may close the socket before answering
        Err(e) if command == "quit" && e.kind() == io::ErrorKind::UnexpectedEof => Ok(Value::Null),
        r => r,
    }
}

async fn next_reply<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut tokio::io::Lines<R>,
) -> io::Result<Value> {
    while let Some(line) = lines.next_line().await? {
        match reply(&line) {
            Some(Ok(v)) => return Ok(v),
            Some(Err(e)) => return Err(io::Error::other(e)),
            None => continue,
        }
    }
    Err(io::Error::new(io::ErrorKind::UnexpectedEof, "QMP closed"))
}

/// `query-status`'s `status` (`running`, `paused`, `shutdown`, ...).
pub async fn status(sock: &Path) -> io::Result<String> {
    let v = execute(sock, "query-status").await?;
    Ok(v.get("status")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_events_and_errors() {
        assert_eq!(
            reply(r#"{"QMP": {"version": {}, "capabilities": []}}"#),
            None
        );
        assert_eq!(reply(r#"{"event": "STOP", "timestamp": {}}"#), None);
        assert_eq!(
            reply(r#"{"return": {"status": "running", "running": true}}"#),
            Some(Ok(json!({"status": "running", "running": true})))
        );
        assert_eq!(
            reply(r#"{"error": {"class": "GenericError", "desc": "nope"}}"#),
            Some(Err("nope".into()))
        );
        assert_eq!(reply("garbage"), None);
    }
}
