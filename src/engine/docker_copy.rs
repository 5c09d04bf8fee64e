//! Copying trees through the engine's archive API, streamed both ways: a tar body
//! uploaded as it is produced, a tar downloaded chunk by chunk, and the path stat
//! the engine sends in a header (`X-Docker-Container-Path-Stat`). All of it works
//! on a stopped container.
use super::docker::{map_err, DockerEngine};
use super::{Engine, EngineError, EngineResult, PathStat, TarDownload, TarUpload};
use crate::domain::copy::Kind;
use bollard::query_parameters as qp;
use futures_util::StreamExt;

/// Go's `os.FileMode` type bits, as the engine reports them.
const GO_DIR: u32 = 1 << 31;
const GO_SYMLINK: u32 = 1 << 27;
const GO_TYPE: u32 =
    GO_DIR | GO_SYMLINK | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19);
const GO_SETUID: u32 = 1 << 23;
const GO_SETGID: u32 = 1 << 22;
const GO_STICKY: u32 = 1 << 20;

/// A Go file mode turned into a kind and Unix permission bits.
pub(super) fn from_go_mode(mode: u32) -> (Kind, u32) {
    let kind = if mode & GO_DIR != 0 {
        Kind::Dir
    } else if mode & GO_SYMLINK != 0 {
        Kind::Symlink
    } else if mode & GO_TYPE != 0 {
        Kind::Other
    } else {
        Kind::File
    };
    let mut perm = mode & 0o777;
    for (go, unix) in [
        (GO_SETUID, 0o4000),
        (GO_SETGID, 0o2000),
        (GO_STICKY, 0o1000),
    ] {
        if mode & go != 0 {
            perm |= unix;
        }
    }
    (kind, perm)
}

pub(super) async fn stat_path(
    eng: &DockerEngine,
    container: &str,
    path: &str,
) -> EngineResult<Option<PathStat>> {
    let opts = qp::ContainerArchiveInfoOptions { path: path.into() };
    match eng
        .docker()
        .get_container_archive_info(container, Some(opts))
        .await
    {
        Ok(s) => {
            let (kind, mode) = from_go_mode(s.file_mode);
            Ok(Some(PathStat {
                kind,
                size: u64::try_from(s.size).unwrap_or(0),
                mode,
                link_target: s.link_target,
            }))
        }
        Err(e) => match map_err(&eng.endpoint(), e) {
            EngineError::NotFound { .. } => Ok(None),
            other => Err(other),
        },
    }
}

pub(super) async fn upload(
    eng: &DockerEngine,
    container: &str,
    dir: &str,
    tar: TarUpload,
) -> EngineResult<()> {
    let opts = qp::UploadToContainerOptions {
        path: dir.into(),
        // As docker cp: never replace a directory with a file or the other way round.
        no_overwrite_dir_non_dir: Some("true".into()),
        ..Default::default()
    };
    eng.docker()
        .upload_to_container(container, Some(opts), bollard::body_try_stream(tar))
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))
}

pub(super) fn download(eng: &DockerEngine, container: &str, path: &str) -> TarDownload {
    let opts = qp::DownloadFromContainerOptions { path: path.into() };
    let endpoint = eng.endpoint();
    eng.docker()
        .download_from_container(container, Some(opts))
        .map(move |r| r.map_err(|e| map_err(&endpoint, e)))
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_modes_become_kinds_and_permissions() {
        assert_eq!(from_go_mode(2147484141), (Kind::Dir, 0o755));
        assert_eq!(from_go_mode(134218239), (Kind::Symlink, 0o777));
        assert_eq!(from_go_mode(0o644), (Kind::File, 0o644));
        assert_eq!(from_go_mode(GO_SETUID | 0o755), (Kind::File, 0o4755));
        assert_eq!(from_go_mode((1 << 25) | 0o600), (Kind::Other, 0o600));
    }
}
