//! Git config forwarding: the host's `~/.gitconfig`, `~/.gitconfig.local` and
//! `~/.ssh/known_hosts` copied into the workspace user's home (by a process inside,
//! as that user, so ownership and the home's own permissions stay right).
use super::{note, run_with_stdin};
use crate::backend::{Ctx, ProgressFn};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Host files (relative to the host's home), where they go in the workspace's home,
/// and how a different file already there (a reused home volume) is treated:
/// `backup` keeps it as NAME.berth-backup[.N], `merge` adds the host's missing lines.
const FILES: &[(&str, &str, &str, &str)] = &[
    (".gitconfig", ".gitconfig", "0644", "backup"),
    (".gitconfig.local", ".gitconfig.local", "0644", "backup"),
    (".ssh/known_hosts", ".ssh/known_hosts", "0644", "merge"),
];

/// Puts stdin at `$HOME/$1` (mode `$2`) without losing what is there (`$3`: backup
/// or merge, see [`FILES`]); prints what it did: new, same, merged or "backup PATH".
const FORWARD_FILE: &str = r#"set -e
f="$HOME/$1"
mkdir -p "$(dirname "$f")"
cat > "$f.berth-new"
chmod "$2" "$f.berth-new"
if [ ! -e "$f" ] && [ ! -L "$f" ]; then mv "$f.berth-new" "$f"; echo new; exit 0; fi
if cmp -s "$f" "$f.berth-new"; then rm -f "$f.berth-new"; echo same; exit 0; fi
if [ "$3" = merge ] && [ -f "$f" ] && [ ! -L "$f" ]; then
  if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >> "$f"; fi
  grep -vxF -f "$f" "$f.berth-new" >> "$f" || true
  rm -f "$f.berth-new"; echo merged; exit 0
fi
b="$f.berth-backup"; n=1
while [ -e "$b" ] || [ -L "$b" ]; do b="$f.berth-backup.$n"; n=$((n+1)); done
mv "$f" "$b"
mv "$f.berth-new" "$f"
echo "backup ~/${b#"$HOME"/}"
"#;

/// Writes stdin to `$HOME/$1` with mode `$2`, making its directory.
const WRITE_HOME_FILE: &str = r#"set -e
f="$HOME/$1"
mkdir -p "$(dirname "$f")"
cat > "$f.berth-new"
chmod "$2" "$f.berth-new"
mv -f "$f.berth-new" "$f"
"#;

/// Writes `contents` to `rel` under the workspace user's home.
pub async fn write_home_file(
    ctx: &Ctx,
    container: &str,
    rel: &str,
    mode: &str,
    contents: Vec<u8>,
) -> Result<()> {
    run_with_stdin(
        ctx,
        container,
        &format!("writing ~/{rel}"),
        WRITE_HOME_FILE,
        &[rel, mode],
        contents,
    )
    .await
    .map(|_| ())
}

async fn read_host(path: PathBuf) -> Result<Option<Vec<u8>>> {
    tokio::task::spawn_blocking(move || match std::fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    })
    .await?
}

pub async fn forward(
    ctx: &Ctx,
    container: &str,
    host_home: &Path,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let mut copied = Vec::new();
    for (from, to, mode, keep) in FILES {
        if let Some(bytes) = read_host(host_home.join(from)).await? {
            let did = run_with_stdin(
                ctx,
                container,
                &format!("copying ~/{from}"),
                FORWARD_FILE,
                &[to, mode, keep],
                bytes,
            )
            .await?;
            copied.push(match did.trim() {
                "merged" => format!("~/{from} (merged into the one there)"),
                b if b.starts_with("backup ") => {
                    format!("~/{from} (the one there kept as {})", &b[7..])
                }
                _ => format!("~/{from}"),
            });
        }
    }
    let said = if copied.is_empty() {
        format!(
            "no git config on the host ({} has no .gitconfig, .gitconfig.local or .ssh/known_hosts); nothing copied",
            host_home.display()
        )
    } else {
        format!("copied {}", copied.join(", "))
    };
    note(progress, said).await;
    Ok(())
}
