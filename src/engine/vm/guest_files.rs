//! Files in a running VM workspace, over berth's ssh exec (`guest_exec`), as
//! root: small files (contents on stdin, never on a command line), stats, and
//! tar archives streamed in and out. Small files berth writes under
//! `/etc/berth/` (the provisioning marker, the pool's mark) are mirrored in the
//! VM's own directory on the host, so they read back while it is stopped.
use super::guest_exec::{self, Guest, MARKER};
use crate::domain::copy::Kind;
use crate::engine::{
    EngineError, EngineResult, ExecRequest, Output, PathStat, TarDownload, TarUpload,
};
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// The guest directory whose small files are mirrored on the host.
pub const MIRRORED_DIR: &str = "/etc/berth/";
/// Status the scripts below use for "no such path".
const ABSENT: i64 = 3;

/// Where the host keeps its copy of guest file `path`, when it is one berth
/// mirrors (directly in `/etc/berth/`, a plain name).
pub fn mirror_path(machine_dir: &Path, path: &str) -> Option<PathBuf> {
    let name = path.strip_prefix(MIRRORED_DIR)?;
    let plain = !name.is_empty()
        && !name.contains('/')
        && name != "."
        && name != ".."
        && !name.starts_with('.');
    plain.then(|| machine_dir.join("etc-berth").join(name))
}

/// The mirror's copy of a file (blocking).
pub fn read_mirror(file: &Path, limit: usize) -> EngineResult<Option<Vec<u8>>> {
    match std::fs::read(file) {
        Ok(mut b) => {
            b.truncate(limit);
            Ok(Some(b))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EngineError::Api(format!(
            "cannot read {}: {e}",
            file.display()
        ))),
    }
}

/// Writes the mirror's copy (blocking; private directory, atomic).
pub fn write_mirror(file: &Path, contents: &[u8], mode: u32) -> EngineResult<()> {
    let err =
        |e: anyhow::Error| EngineError::Api(format!("cannot write {}: {e:#}", file.display()));
    if let Some(dir) = file.parent() {
        crate::private_fs::ensure_dir(dir).map_err(err)?;
    }
    crate::private_fs::write_atomic(file, contents, mode & 0o600 | 0o600).map_err(err)
}

fn root_req(script: &str, args: &[&str]) -> ExecRequest {
    // The scripts read their first argument as `$0`.
    let mut cmd = vec!["sh".to_string(), "-c".into(), script.to_string()];
    cmd.extend(args.iter().map(|a| a.to_string()));
    ExecRequest {
        cmd,
        user: Some("root".into()),
        ..Default::default()
    }
}

/// Runs a root script with `stdin`; its status, stdout and stderr.
async fn collect(
    g: &Guest,
    mut req: ExecRequest,
    stdin: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>,
) -> EngineResult<(i64, Vec<u8>, String)> {
    req.stdin = stdin;
    let (tx, mut rx) = mpsc::channel(64);
    let gather = async {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        while let Some(c) = rx.recv().await {
            match c {
                Output::Stdout(b) => o.extend_from_slice(&b),
                Output::Stderr(b) => e.extend_from_slice(&b),
            }
        }
        (o, e)
    };
    let (r, (o, e)) = tokio::join!(guest_exec::run(g, &[], req, tx), gather);
    Ok((
        r?.exit_code,
        o,
        String::from_utf8_lossy(&e).trim().to_string(),
    ))
}

fn failed(g: &Guest, what: &str, code: i64, err: &str) -> EngineError {
    EngineError::Api(format!(
        "{what} in VM workspace {} failed (status {code}): {err}",
        g.container
    ))
}

pub async fn write_file(g: &Guest, path: &str, contents: &[u8], mode: u32) -> EngineResult<()> {
    let script = "umask 077; d=$(dirname -- \"$0\") && mkdir -p -- \"$d\" && \
                  t=\"$0.berth-$$\" && cat > \"$t\" && chmod \"$1\" \"$t\" && mv -f -- \"$t\" \"$0\"";
    let mode = format!("{:o}", mode & 0o7777);
    let data: Box<dyn tokio::io::AsyncRead + Send + Unpin> =
        Box::new(std::io::Cursor::new(contents.to_vec()));
    let (code, _, err) = collect(g, root_req(script, &[path, &mode]), Some(data)).await?;
    if code != 0 {
        return Err(failed(g, &format!("writing {path}"), code, &err));
    }
    Ok(())
}

pub async fn read_file(g: &Guest, path: &str, limit: usize) -> EngineResult<Option<Vec<u8>>> {
    let script = format!("[ -e \"$0\" ] || exit {ABSENT}; head -c \"$1\" -- \"$0\"");
    let (code, out, err) = collect(g, root_req(&script, &[path, &limit.to_string()]), None).await?;
    match code {
        0 => Ok(Some(out)),
        ABSENT => Ok(None),
        c => Err(failed(g, &format!("reading {path}"), c, &err)),
    }
}

/// `stat -c '%f %s'` (raw mode in hex, size) and a symlink's target, parsed.
pub fn parse_stat(out: &str) -> Option<PathStat> {
    let mut lines = out.lines();
    let mut first = lines.next()?.split_whitespace();
    let raw = u32::from_str_radix(first.next()?, 16).ok()?;
    let size = first.next()?.parse().ok()?;
    let kind = match raw & 0o170000 {
        0o100000 => Kind::File,
        0o040000 => Kind::Dir,
        0o120000 => Kind::Symlink,
        _ => Kind::Other,
    };
    let link_target = if kind == Kind::Symlink {
        lines.next().unwrap_or_default().to_string()
    } else {
        String::new()
    };
    Some(PathStat {
        kind,
        size,
        mode: raw & 0o7777,
        link_target,
    })
}

pub async fn stat_path(g: &Guest, path: &str) -> EngineResult<Option<PathStat>> {
    let script = format!(
        "[ -e \"$0\" ] || [ -L \"$0\" ] || exit {ABSENT}; stat -c '%f %s' -- \"$0\" && \
         if [ -L \"$0\" ]; then readlink -- \"$0\"; fi"
    );
    let (code, out, err) = collect(g, root_req(&script, &[path]), None).await?;
    match code {
        0 => parse_stat(&String::from_utf8_lossy(&out))
            .map(Some)
            .ok_or_else(|| failed(g, &format!("stat of {path}"), 0, "unexpected output")),
        ABSENT => Ok(None),
        c => Err(failed(g, &format!("stat of {path}"), c, &err)),
    }
}

pub async fn upload_archive(g: &Guest, dir: &str, mut tar: TarUpload) -> EngineResult<()> {
    let (mut w, r) = tokio::io::duplex(64 * 1024);
    let feed = async move {
        while let Some(chunk) = tar.next().await {
            // An error ends the upload: the writer goes, tar sees a cut archive.
            w.write_all(&chunk?).await?;
        }
        w.shutdown().await
    };
    let script = "[ -d \"$0\" ] || { echo \"no directory $0\" >&2; exit 3; }; \
                  tar -x --same-owner -p -C \"$0\" -f -";
    let (ran, fed) = tokio::join!(
        collect(g, root_req(script, &[dir]), Some(Box::new(r))),
        feed
    );
    let (code, _, err) = ran?;
    if let Err(e) = fed {
        return Err(EngineError::Api(format!(
            "upload into {dir} in VM workspace {} was cut off: {e}",
            g.container
        )));
    }
    if code != 0 {
        return Err(failed(g, &format!("extracting into {dir}"), code, &err));
    }
    Ok(())
}

/// The parent directory and last component of `path` (`/` stays itself).
pub fn split_path(path: &str) -> (String, String) {
    let p = path.trim_end_matches('/');
    if p.is_empty() {
        return ("/".into(), ".".into());
    }
    match p.rsplit_once('/') {
        Some(("", base)) => ("/".into(), base.into()),
        Some((dir, base)) => (dir.into(), base.into()),
        None => (".".into(), p.into()),
    }
}

/// How much of ssh's stderr an error keeps (its end).
const STDERR_KEPT: usize = 16 * 1024;

/// Reads `r` to its end, keeping its last [`STDERR_KEPT`] bytes.
async fn tail_of(mut r: impl tokio::io::AsyncRead + Unpin) -> String {
    let (mut kept, mut buf) = (Vec::new(), vec![0u8; 8192]);
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > STDERR_KEPT {
            kept.drain(..kept.len() - STDERR_KEPT);
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// A tar of `path` streamed out of the guest (`tar -c`), as ssh's stdout.
pub fn download_archive(g: Guest, path: &str) -> TarDownload {
    let (dir, base) = split_path(path);
    let req = root_req("tar -c -C \"$0\" -- \"$1\"", &[&dir, &base]);
    let pidfile = format!(
        "{}dl-{}",
        crate::domain::activity_probe::EXEC_PIDFILE_PREFIX,
        std::process::id()
    );
    let remote =
        guest_exec::remote_command(guest_exec::RunAs::Root, &pidfile, None, None, &req.cmd);
    let started = tokio::process::Command::new("ssh")
        .args(guest_exec::ssh_args(&g.identity, &g.target, &remote))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let path = path.to_string();
    struct Dl {
        child: tokio::process::Child,
        out: tokio::process::ChildStdout,
        /// ssh's stderr, read all along (a full pipe would stall the tar): its
        /// last [`STDERR_KEPT`] bytes, for the error.
        err: tokio::task::JoinHandle<String>,
        first: bool,
        done: bool,
    }
    let first = async move {
        let mut child = started.map_err(|e| {
            EngineError::Api(format!("cannot run ssh ({e}); install the OpenSSH client"))
        })?;
        let (Some(mut stdin), Some(out), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(EngineError::Api("ssh's pipes were not opened".into()));
        };
        // Ends with ssh (kill_on_drop), when its stderr closes.
        let err = tokio::spawn(tail_of(stderr));
        // The wrapper's header: no environment.
        let header = guest_exec::env_header(&[], &[]).map_err(EngineError::Api)?;
        let _ = stdin.write_all(&header).await;
        drop(stdin);
        Ok(Dl {
            child,
            out,
            err,
            first: true,
            done: false,
        })
    };
    let container = g.container.clone();
    futures_util::stream::once(first)
        .flat_map(move |dl| {
            let path = path.clone();
            let container = container.clone();
            match dl {
                Err(e) => futures_util::stream::iter(vec![Err(e)]).boxed(),
                Ok(dl) => futures_util::stream::unfold(dl, move |mut dl| {
                    let path = path.clone();
                    let container = container.clone();
                    async move {
                        if dl.done {
                            return None;
                        }
                        let mut buf = vec![0u8; 64 * 1024];
                        match dl.out.read(&mut buf).await {
                            Ok(0) | Err(_) => {
                                dl.done = true;
                                let ok = matches!(dl.child.wait().await, Ok(s) if s.success());
                                // Closed with ssh; bounded all the same.
                                let err = tokio::time::timeout(
                                    std::time::Duration::from_secs(2),
                                    &mut dl.err,
                                )
                                .await
                                .ok()
                                .and_then(Result::ok)
                                .unwrap_or_default();
                                if ok && !dl.first {
                                    return None;
                                }
                                let e = EngineError::Api(format!(
                                    "cannot read {path} from VM workspace {container}: {}",
                                    if err.trim().is_empty() {
                                        "no such path, or ssh failed"
                                    } else {
                                        err.trim()
                                    }
                                ));
                                Some((Err(e), dl))
                            }
                            Ok(n) => {
                                buf.truncate(n);
                                if dl.first {
                                    dl.first = false;
                                    if buf.first() == Some(&MARKER) {
                                        buf.remove(0);
                                    }
                                }
                                Some((Ok(bytes::Bytes::from(buf)), dl))
                            }
                        }
                    }
                })
                .boxed(),
            }
        })
        .boxed()
}

#[cfg(test)]
#[path = "guest_files_tests.rs"]
mod tests;
