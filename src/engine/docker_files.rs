//! Small files in a container's filesystem through the engine's archive API (a tar
//! in, a tar out). Works for any runtime and for stopped containers. What it writes
//! lands in the container's layer on the host's disk: never a secret.
use super::docker::{map_err, DockerEngine};
use super::{Engine, EngineError, EngineResult};
use bollard::query_parameters as qp;
use futures_util::StreamExt;

/// A tar holding `path` (relative to /) with `contents`, and its parent directory.
pub fn tar_of(path: &str, contents: &[u8], mode: u32) -> std::io::Result<Vec<u8>> {
    let rel = path.trim_start_matches('/');
    let mut b = tar::Builder::new(Vec::new());
    if let Some((dir, _)) = rel.rsplit_once('/') {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(0o755);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, format!("{dir}/"), std::io::empty())?;
    }
    let mut h = tar::Header::new_gnu();
    h.set_size(contents.len() as u64);
    h.set_mode(mode);
    h.set_mtime(chrono::Utc::now().timestamp().max(0) as u64);
    h.set_cksum();
    b.append_data(&mut h, rel, contents)?;
    b.into_inner()
}

/// The first regular file's contents in a tar (at most `limit` bytes).
pub fn first_file(tar_bytes: &[u8], limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut a = tar::Archive::new(tar_bytes);
    for entry in a.entries()? {
        let entry = entry?;
        if entry.header().entry_type().is_file() {
            let mut out = Vec::new();
            entry.take(limit as u64).read_to_end(&mut out)?;
            return Ok(Some(out));
        }
    }
    Ok(None)
}

pub(super) async fn write_file(
    eng: &DockerEngine,
    container: &str,
    path: &str,
    contents: &[u8],
    mode: u32,
) -> EngineResult<()> {
    let tar = tar_of(path, contents, mode)
        .map_err(|e| EngineError::Api(format!("cannot build the archive for {path}: {e}")))?;
    let opts = qp::UploadToContainerOptions {
        path: "/".into(),
        ..Default::default()
    };
    eng.docker()
        .upload_to_container(container, Some(opts), bollard::body_full(tar.into()))
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))
}

pub(super) async fn read_file(
    eng: &DockerEngine,
    container: &str,
    path: &str,
    limit: usize,
) -> EngineResult<Option<Vec<u8>>> {
    let opts = qp::DownloadFromContainerOptions { path: path.into() };
    let mut stream = eng.docker().download_from_container(container, Some(opts));
    let mut tar = Vec::new();
    // The tar holds one small file; its header and padding add a few KiB.
    let cap = limit + 64 * 1024;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(b) => {
                tar.extend_from_slice(&b);
                if tar.len() > cap {
                    break;
                }
            }
            Err(e) => {
                return match map_err(&eng.endpoint(), e) {
                    EngineError::NotFound { .. } => Ok(None),
                    other => Err(other),
                }
            }
        }
    }
    first_file(&tar, limit)
        .map_err(|e| EngineError::Api(format!("cannot read {path} from {container}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_round_trips_through_a_tar() {
        let t = tar_of("/etc/berth/provisioned", b"abc\n", 0o644).unwrap();
        assert_eq!(first_file(&t, 100).unwrap().as_deref(), Some(&b"abc\n"[..]));
        assert_eq!(first_file(&t, 2).unwrap().as_deref(), Some(&b"ab"[..]));
        let names: Vec<String> = tar::Archive::new(&t[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["etc/berth/", "etc/berth/provisioned"]);
    }
}
