//! `berth doctor`'s check of berth's state directory (store, log, pinned host
//! keys, berth's own SSH identity). It holds no secret value, but what it holds
//! (secret sources, an audit trail, a private key) is the user's alone: owned by
//! them, nothing readable or writable by group or others.
use super::doctor::{Check, Status};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// At most this many entries are looked at (the directory is small).
const LIMIT: usize = 10_000;

/// One file or directory: its path, owner and mode bits.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    pub uid: u32,
    pub mode: u32,
}

/// The ssh-agent relay's per-workspace directories (`agent/NAME`, 0711 so the
/// workspace's user traverses them through the bind) and their sockets (0666)
/// are open on purpose: the 0700 state directory keeps other host users out.
fn open_on_purpose(e: &Entry, state: &Path) -> bool {
    let Ok(rel) = e.path.strip_prefix(state.join("agent")) else {
        return false;
    };
    let kind = e.mode & 0o170000;
    let depth = rel.components().count();
    match kind {
        // agent/NAME: traversable, nothing more.
        0o040000 => depth == 1 && e.mode & 0o066 == 0,
        // agent/NAME/agent.sock
        0o140000 => depth == 2,
        _ => false,
    }
}

/// What is wrong with `entries` (under the state directory `state`) for user
/// `me`: a sentence each.
pub fn problems(entries: &[Entry], state: &Path, me: u32) -> Vec<String> {
    let mut v = Vec::new();
    for e in entries {
        if e.uid != me {
            v.push(format!(
                "{} is owned by uid {}, not you (uid {me})",
                e.path.display(),
                e.uid
            ));
        }
        if e.mode & 0o077 != 0 && !open_on_purpose(e, state) {
            v.push(format!(
                "{} is open to group or others (mode {:04o})",
                e.path.display(),
                e.mode & 0o7777
            ));
        }
    }
    v
}

/// Every entry under `dir` (itself included); symlinks are not followed.
fn walk(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        // An entry that went between the listing and this look (a store journal, a
        // lock another berth just dropped) is not a problem.
        let m = match std::fs::symlink_metadata(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && p != dir => continue,
            m => m?,
        };
        if m.file_type().is_symlink() {
            continue;
        }
        if m.is_dir() {
            match std::fs::read_dir(&p) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && p != dir => continue,
                listing => {
                    for e in listing? {
                        todo.push(e?.path());
                    }
                }
            }
        }
        out.push(Entry {
            path: p,
            uid: m.uid(),
            mode: m.mode(),
        });
        if out.len() >= LIMIT {
            break;
        }
    }
    Ok(out)
}

/// The check itself (blocking I/O on a blocking thread).
pub async fn check(state_dir: PathBuf) -> Check {
    let dir = state_dir.clone();
    let found = tokio::task::spawn_blocking(move || {
        if !dir.exists() {
            return Ok(None);
        }
        // /proc/self belongs to this process's effective user.
        let me = std::fs::metadata("/proc/self")?.uid();
        Ok::<_, std::io::Error>(Some((walk(&dir)?, me)))
    })
    .await;
    let d = state_dir.display();
    let (status, detail, fix) = match found {
        Ok(Ok(None)) => (Status::Ok, format!("{d} not made yet"), None),
        Ok(Ok(Some((entries, me)))) => {
            let p = problems(&entries, &state_dir, me);
            if p.is_empty() {
                (
                    Status::Ok,
                    format!("{d}: yours alone ({} entries)", entries.len()),
                    None,
                )
            } else {
                let more = if p.len() > 3 {
                    format!(" (and {} more)", p.len() - 3)
                } else {
                    String::new()
                };
                (
                    Status::Fail,
                    format!("{}{more}", p[..p.len().min(3)].join("; ")),
                    Some(format!(
                        "sudo chown -R \"$(id -u):$(id -g)\" '{d}' && chmod -R go-rwx '{d}'"
                    )),
                )
            }
        }
        Ok(Err(e)) => (
            Status::Fail,
            format!("cannot read {d}: {e}"),
            Some(format!("ls -la '{d}'  # then fix its owner and mode")),
        ),
        Err(e) => (Status::Fail, format!("cannot check {d}: {e}"), None),
    };
    Check {
        check: "state directory".into(),
        status,
        detail,
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn foreign_owners_and_open_modes_are_named() {
        let e = |p: &str, uid, mode| Entry {
            path: p.into(),
            uid,
            mode,
        };
        let v = problems(
            &[
                e("/s", 1000, 0o40700),
                e("/s/db", 0, 0o100600),
                e("/s/log", 1000, 0o100644),
            ],
            Path::new("/s"),
            1000,
        );
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("/s/db is owned by uid 0"), "{v:?}");
        assert!(
            v[1].contains("/s/log is open to group or others (mode 0644)"),
            "{v:?}"
        );
    }

    #[tokio::test]
    async fn the_check_finds_an_open_file_and_says_how_to_fix_it() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("berth");
        assert_eq!(check(state.clone()).await.status, Status::Ok);
        std::fs::create_dir(&state).unwrap();
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(state.join("berth.log"), "x").unwrap();
        std::fs::set_permissions(
            state.join("berth.log"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        assert_eq!(check(state.clone()).await.status, Status::Ok);
        std::fs::set_permissions(
            state.join("berth.log"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let c = check(state.clone()).await;
        assert_eq!(c.status, Status::Fail);
        assert!(c.detail.contains("berth.log"), "{}", c.detail);
        assert!(c.fix.unwrap().contains("chmod -R go-rwx"));
    }

    #[test]
    fn the_agent_relays_directories_and_sockets_are_open_on_purpose() {
        let e = |p: &str, mode| Entry {
            path: p.into(),
            uid: 1000,
            mode,
        };
        let s = Path::new("/s");
        // `--forward-ssh`: agent/NAME is 0711 and its socket 0666 (ssh_agent.rs).
        let ok = [
            e("/s", 0o40700),
            e("/s/agent", 0o40700),
            e("/s/agent/w", 0o40711),
            e("/s/agent/w/agent.sock", 0o140666),
        ];
        assert!(
            problems(&ok, s, 1000).is_empty(),
            "{:?}",
            problems(&ok, s, 1000)
        );
        // Anything else open there still counts.
        for bad in [
            e("/s/agent", 0o40711),
            e("/s/agent/w", 0o40755),
            e("/s/agent/w/file", 0o100644),
            e("/s/ssh/agent.sock", 0o140666),
        ] {
            assert_eq!(
                problems(std::slice::from_ref(&bad), s, 1000).len(),
                1,
                "{bad:?}"
            );
        }
    }
}
