//! `--dotfiles-dir DIR`: a host directory copied into the workspace user's home as
//! is (modes kept, files and relative links), by `tar -x` running as that user in
//! the home, fed a tar stream built on a blocking thread (never the engine's
//! archive API, which would chown the home to root).
//!
//! Links: a relative link that stays inside DIR is copied as a link. A link that is
//! absolute or leads out of DIR is refused, before anything is created: inside the
//! workspace it would point somewhere else than on the host, and following it could
//! copy host files the user never meant to hand over. Sockets, fifos and devices
//! are skipped with a note. Existing files in the home are replaced; existing
//! directories keep their own mode (`--no-overwrite-dir`).
use super::note;
use crate::backend::{Ctx, ProgressFn};
use crate::domain::workspace::WORKSPACE_USER;
use crate::engine::{exec_collect, ExecRequest};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// The host directory: `~` and `~/x` (as a config file may say) under the host's
/// home; anything else as given (the CLI makes its flag absolute).
pub fn host_dir(dir: &Path, home: &Path) -> PathBuf {
    match dir.to_str() {
        Some("~") => home.to_path_buf(),
        Some(s) if s.starts_with("~/") => home.join(&s[2..]),
        _ => dir.to_path_buf(),
    }
}

/// One thing to copy, relative to DIR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir(PathBuf),
    File(PathBuf),
    Link(PathBuf),
}

/// What a walk of DIR found.
#[derive(Debug, Default)]
pub struct Walk {
    pub entries: Vec<Entry>,
    /// Sockets, fifos, devices: not copied.
    pub skipped: Vec<PathBuf>,
}

/// Whether a link at `rel` (relative to the root) pointing at `to` stays inside the
/// root, judged on the path alone.
pub fn link_stays_inside(rel: &Path, to: &Path) -> bool {
    if to.is_absolute() {
        return false;
    }
    let mut depth: i64 = rel.parent().map_or(0, |p| p.components().count() as i64);
    for c in to.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Walks `root` (blocking), refusing links that lead out of it.
pub fn walk(root: &Path) -> Result<Walk> {
    let meta = std::fs::metadata(root)
        .with_context(|| format!("--dotfiles-dir {}: cannot read it", root.display()))?;
    if !meta.is_dir() {
        bail!("--dotfiles-dir {}: not a directory", root.display());
    }
    let mut w = Walk::default();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let mut children: Vec<_> = std::fs::read_dir(root.join(&rel))
            .with_context(|| format!("reading {}", root.join(&rel).display()))?
            .collect::<std::io::Result<_>>()?;
        children.sort_by_key(|e| e.file_name());
        for child in children {
            let r = rel.join(child.file_name());
            let full = root.join(&r);
            let ft = child.file_type()?;
            if ft.is_symlink() {
                let to = std::fs::read_link(&full)?;
                if !link_stays_inside(&r, &to) {
                    bail!(
                        "--dotfiles-dir {}: {} is a link to {}, outside the directory; berth copies the directory as is and does not follow links out of it (put the file itself there, or a relative link inside)",
                        root.display(),
                        r.display(),
                        to.display()
                    );
                }
                w.entries.push(Entry::Link(r));
            } else if ft.is_dir() {
                w.entries.push(Entry::Dir(r.clone()));
                stack.push(r);
            } else if ft.is_file() {
                w.entries.push(Entry::File(r));
            } else {
                w.skipped.push(r);
            }
        }
    }
    Ok(w)
}

/// Before anything is created: DIR is there, is a directory, has no link out.
pub async fn check(dir: PathBuf) -> Result<()> {
    tokio::task::spawn_blocking(move || walk(&dir).map(|_| ()))
        .await
        .map_err(|e| anyhow!("checking --dotfiles-dir: {e}"))?
}

/// A blocking `Write` into the async pipe feeding the exec's stdin.
struct PipeWriter {
    rt: tokio::runtime::Handle,
    w: tokio::io::DuplexStream,
}

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.rt.block_on(self.w.write(buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.rt.block_on(self.w.flush())
    }
}

/// Writes the tar stream of `walk` (paths relative to `root`) into `out`.
fn write_tar(root: &Path, walk: &Walk, out: impl Write) -> Result<()> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    for e in &walk.entries {
        match e {
            Entry::Dir(r) => b.append_dir(r, root.join(r)),
            Entry::File(r) | Entry::Link(r) => b.append_path_with_name(root.join(r), r),
        }
        .with_context(|| format!("reading {}", root.join(e_path(e)).display()))?;
    }
    b.into_inner()?.flush()?;
    Ok(())
}

fn e_path(e: &Entry) -> &Path {
    match e {
        Entry::Dir(p) | Entry::File(p) | Entry::Link(p) => p,
    }
}

const EXTRACT: &str = "exec tar -x -p --no-overwrite-dir -f - -C \"$HOME\"";

/// Copies DIR into the home.
pub async fn copy(ctx: &Ctx, container: &str, dir: &Path, progress: ProgressFn<'_>) -> Result<()> {
    let root = dir.to_path_buf();
    let w = {
        let root = root.clone();
        tokio::task::spawn_blocking(move || walk(&root))
            .await
            .map_err(|e| anyhow!("reading --dotfiles-dir: {e}"))??
    };
    let count = w.entries.len();
    let skipped: Vec<String> = w.skipped.iter().map(|p| p.display().to_string()).collect();
    // Bounded: the writer waits while the exec drains the pipe.
    let (rd, wr) = tokio::io::duplex(64 * 1024);
    let rt = tokio::runtime::Handle::current();
    let writer = tokio::task::spawn_blocking(move || {
        let mut pipe = PipeWriter { rt, w: wr };
        let r = write_tar(&root, &w, &mut pipe);
        let _ = pipe.rt.block_on(pipe.w.shutdown());
        r
    });
    let req = ExecRequest {
        cmd: vec!["/bin/sh".into(), "-c".into(), EXTRACT.into()],
        user: Some(WORKSPACE_USER.into()),
        stdin: Some(Box::new(rd)),
        ..Default::default()
    };
    let ran = exec_collect(ctx.engine.as_ref(), container, req).await;
    let wrote = writer
        .await
        .map_err(|e| anyhow!("packing --dotfiles-dir: {e}"))?;
    let (outcome, _, err) = ran?;
    if outcome.exit_code != 0 {
        bail!(
            "copying --dotfiles-dir {} into the home failed (tar exit {}): {}",
            dir.display(),
            outcome.exit_code,
            String::from_utf8_lossy(&err).trim()
        );
    }
    wrote.with_context(|| format!("packing --dotfiles-dir {}", dir.display()))?;
    let mut said = format!("copied {} ({count} entries) into the home", dir.display());
    if !skipped.is_empty() {
        said.push_str(&format!(
            "; skipped what is not a file, directory or link: {}",
            skipped.join(", ")
        ));
    }
    note(progress, said).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_is_the_host_home() {
        let h = Path::new("/home/me");
        assert_eq!(host_dir(Path::new("~/dots"), h), Path::new("/home/me/dots"));
        assert_eq!(host_dir(Path::new("~"), h), h);
        assert_eq!(host_dir(Path::new("/d/~/x"), h), Path::new("/d/~/x"));
    }

    #[test]
    fn links_must_stay_inside() {
        let p = Path::new;
        assert!(link_stays_inside(p("a"), p("b")));
        assert!(link_stays_inside(p("d/a"), p("../b")));
        assert!(link_stays_inside(p("d/a"), p("./x/../y")));
        assert!(!link_stays_inside(p("a"), p("../b")));
        assert!(!link_stays_inside(p("d/a"), p("../../b")));
        assert!(!link_stays_inside(p("a"), p("/etc/passwd")));
        assert!(!link_stays_inside(p("d/a"), p("x/../../../b")));
    }

    #[test]
    fn walk_and_tar_keep_modes_and_inner_links() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join(".config/app")).unwrap();
        std::fs::write(root.join(".config/app/conf"), "c").unwrap();
        std::fs::write(root.join("tool"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(root.join("tool"), std::fs::Permissions::from_mode(0o750))
            .unwrap();
        symlink("tool", root.join("alias")).unwrap();
        symlink("../tool", root.join(".config/up")).unwrap();
        let w = walk(root).unwrap();
        assert_eq!(w.entries.len(), 6, "{:?}", w.entries);
        let mut buf = Vec::new();
        write_tar(root, &w, &mut buf).unwrap();
        let mut ar = tar::Archive::new(&buf[..]);
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            let path = e.path().unwrap().display().to_string();
            if path == "tool" {
                assert_eq!(h.mode().unwrap() & 0o777, 0o750);
            }
            if path == "alias" {
                assert_eq!(h.link_name().unwrap().unwrap().to_str(), Some("tool"));
            }
            seen.push(path);
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                ".config",
                ".config/app",
                ".config/app/conf",
                ".config/up",
                "alias",
                "tool"
            ]
        );

        symlink("/etc/passwd", root.join("out")).unwrap();
        let err = walk(root).unwrap_err().to_string();
        assert!(err.contains("out is a link to /etc/passwd"), "{err}");
        let err = walk(&root.join("missing")).unwrap_err().to_string();
        assert!(err.contains("cannot read it"), "{err}");
    }
}
