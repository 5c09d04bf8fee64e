//! Dotfiles: a repository cloned (as the workspace user, after the credentials
//! steps so private repositories clone) and installed by the rules of
//! `domain::dotfiles`, then a host directory copied into the home
//! (`dotfiles_dir`), then the inline `--dotfile` files, so explicit files win.
//!
//! A target that already holds a clone of the same repository (a create starting
//! over on a kept volume) is updated when it fast-forwards, else left as it is with
//! a note; berth never deletes it. Symlinking never destroys a file: what it would
//! replace is moved aside as `NAME.berth-backup` (then `.berth-backup.1`, ...), and
//! a directory present both in the repository and in the home is merged entry by
//! entry (so `~/.ssh` or `~/.config` are never swapped out wholesale).
use super::dotfiles_dir;
use super::{note, run_with_stdin};
use crate::backend::create_exec::run_streamed;
use crate::backend::{Ctx, ProgressFn};
use crate::domain::create_options::{Dotfiles, DotfilesRepo};
use crate::domain::dotfiles::{candidates, parse_listing, resolve, target_path, Install};
use crate::domain::workspace::WORKSPACE_HOME;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Checks what can be checked before anything is created: the target's shape and
/// the host directory (present, a directory, no link leading out of it).
pub async fn preflight(d: &Dotfiles, host_home: &Path) -> Result<()> {
    if let Some(r) = &d.repo {
        target_path(&r.target, WORKSPACE_HOME).map_err(anyhow::Error::msg)?;
    }
    if let Some(dir) = &d.dir {
        dotfiles_dir::check(dotfiles_dir::host_dir(dir, host_home)).await?;
    }
    Ok(())
}

/// The dotfiles step.
pub async fn install(
    ctx: &Ctx,
    container: &str,
    d: &Dotfiles,
    progress: ProgressFn<'_>,
) -> Result<()> {
    if let Some(repo) = &d.repo {
        install_repo(ctx, container, repo, progress).await?;
    }
    if let Some(dir) = &d.dir {
        let dir = dotfiles_dir::host_dir(dir, &ctx.paths.home);
        dotfiles_dir::copy(ctx, container, &dir, progress).await?;
    }
    for (rel, content) in &d.inline {
        super::git::write_home_file(ctx, container, rel, "0644", content.clone().into_bytes())
            .await?;
    }
    if !d.inline.is_empty() {
        let names: Vec<String> = d.inline.iter().map(|(r, _)| format!("~/{r}")).collect();
        note(progress, format!("wrote {}", names.join(", "))).await;
    }
    Ok(())
}

/// `~/x` for a path in the home, for messages.
fn tilde(p: &str) -> String {
    match p.strip_prefix(WORKSPACE_HOME) {
        Some(r) if r.starts_with('/') => format!("~{r}"),
        _ => p.to_string(),
    }
}

/// What the target holds: `absent` (or an empty directory), `clone<TAB>ORIGIN`, `other`.
const STATE: &str = r#"t="$1"
if [ -d "$t/.git" ]; then
  printf 'clone\t%s' "$(git -C "$t" remote get-url origin 2>/dev/null)"
elif [ -L "$t" ] || { [ -e "$t" ] && ! { [ -d "$t" ] && [ -z "$(ls -A "$t")" ]; }; }; then
  printf other
else
  printf absent
fi
"#;

/// Clones `$0` into `$1` (branch `$2` if given), making the parent directory.
const CLONE: &str = r#"set -e
mkdir -p "$(dirname "$1")"
if [ -n "$2" ]; then exec git clone --progress --branch "$2" -- "$0" "$1"; fi
exec git clone --progress -- "$0" "$1"
"#;

/// Brings an existing clone up to date when that is a fast-forward (switching to
/// branch `$2` if given); prints `updated<TAB>REV` or `left<TAB>WHY`.
const UPDATE: &str = r#"export GIT_TERMINAL_PROMPT=0
cd "$1" || { printf 'left\tcannot enter it'; exit 0; }
why() { printf 'left\t%s' "$(printf '%s' "$1" | head -n 1)"; exit 0; }
out=$(git fetch -q origin 2>&1) || why "git fetch failed: $out"
if [ -n "$2" ] && [ "$(git symbolic-ref -q --short HEAD)" != "$2" ]; then
  out=$(git checkout -q "$2" 2>&1) || why "cannot switch to branch $2: $out"
fi
out=$(git merge -q --ff-only '@{u}' 2>&1) || why "not a fast-forward: $out"
printf 'updated\t%s' "$(git rev-parse --short HEAD)"
"#;

/// Lists the clone `$1`: its top-level entries, then which of the candidate
/// scripts (`$2`...) are files, with their first line (see `parse_listing`).
const LIST: &str = r#"cd "$1" || exit 1
shift
for f in .[!.]* ..?* *; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  if [ -L "$f" ]; then k=l; elif [ -d "$f" ]; then k=d
  elif [ -f "$f" ]; then if [ -x "$f" ]; then k=x; else k=f; fi
  else k=o; fi
  printf 'T\t%s\t%s\0' "$k" "$f"
done
for s in "$@"; do
  [ -f "$s" ] || continue
  if [ -x "$s" ]; then x=x; else x=-; fi
  l=$(head -c 256 "$s" | head -n 1 | tr -d '\000\t')
  printf 'S\t%s\t%s\t%s\0' "$x" "$s" "$l"
done
"#;

/// Symlinks `$HOME/NAME` -> `$1/NAME` for each NAME in `$2`...: an existing link to
/// the same place stays; directories on both sides are merged entry by entry;
/// anything else in the way is moved to `NAME.berth-backup[.N]`; nothing that holds
/// the clone itself is touched. Prints `linked`, `same`, `backup`, `skip` lines.
const LINK: &str = r#"set -e
repo="$1"; shift
backup() {
  b="$1.berth-backup"; n=1
  while [ -e "$b" ] || [ -L "$b" ]; do b="$1.berth-backup.$n"; n=$((n+1)); done
  mv "$1" "$b"
  printf 'backup\t%s\t%s\n' "$1" "$b"
}
link() {
  local src="$1" dst="$2" c holds=0
  if [ -L "$dst" ] && [ "$(readlink "$dst")" = "$src" ]; then printf 'same\t%s\n' "$dst"; return 0; fi
  # Never the clone itself or anything in it; a directory holding it is only merged.
  case "$dst/" in "$repo/"*) printf 'skip\t%s\n' "$dst"; return 0;; esac
  case "$repo/" in "$dst/"*) holds=1;; esac
  # Never berth's own: the keys sshd lets in, the host key, ~/.ssh as a whole.
  case "$dst" in
    "$HOME/.ssh/authorized_keys"|"$HOME/.berth"|"$HOME/.berth/"*) printf 'skip\t%s\n' "$dst"; return 0;;
    "$HOME/.ssh") if [ ! -d "$src" ] || [ -L "$src" ] || [ ! -d "$dst" ] || [ -L "$dst" ]; then
        printf 'skip\t%s\n' "$dst"; return 0; fi;;
  esac
  if [ -d "$src" ] && [ ! -L "$src" ] && [ -d "$dst" ] && [ ! -L "$dst" ]; then
    for c in "$src"/.[!.]* "$src"/..?* "$src"/*; do
      [ -e "$c" ] || [ -L "$c" ] || continue
      link "$c" "$dst/${c##*/}"
    done
    return 0
  fi
  if [ "$holds" = 1 ]; then printf 'skip\t%s\n' "$dst"; return 0; fi
  if [ -e "$dst" ] || [ -L "$dst" ]; then backup "$dst"; fi
  ln -s "$src" "$dst"
  printf 'linked\t%s\n' "$dst"
}
for n in "$@"; do link "$repo/$n" "$HOME/$n"; done
"#;

/// Runs `make` where the image has it; says what to do where it does not.
const MAKE: &str = r#"if ! command -v make >/dev/null 2>&1; then
  echo "berth: the dotfiles repository has a Makefile, but make is not installed in this workspace's image; use a profile that has make (general) or give --dotfiles-script" >&2
  exit 127
fi
exec make
"#;

async fn install_repo(
    ctx: &Ctx,
    container: &str,
    r: &DotfilesRepo,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let target = target_path(&r.target, WORKSPACE_HOME).map_err(anyhow::Error::msg)?;
    let shown = tilde(&target);
    let state = run_with_stdin(
        ctx,
        container,
        "looking at the dotfiles target",
        STATE,
        &[&target],
        vec![],
    )
    .await?;
    match state.split_once('\t') {
        None if state == "absent" => {
            let branch = r.branch.as_deref().unwrap_or("");
            let cmd = vec![
                "/bin/sh".into(),
                "-c".into(),
                CLONE.into(),
                r.url.clone(),
                target.clone(),
                branch.into(),
            ];
            let env = vec!["GIT_TERMINAL_PROMPT=0".into()];
            run_streamed(
                ctx,
                container.into(),
                cmd,
                env,
                WORKSPACE_HOME,
                "dotfiles clone",
                progress,
            )
            .await
            .with_context(|| format!("cloning the dotfiles repository {} into {shown}", r.url))?;
        }
        Some(("clone", origin)) if origin.trim() == r.url => {
            let branch = r.branch.as_deref().unwrap_or("");
            let out = run_with_stdin(
                ctx,
                container,
                "updating the dotfiles clone",
                UPDATE,
                &[&target, branch],
                vec![],
            )
            .await?;
            let said = match out.split_once('\t') {
                Some(("updated", rev)) => {
                    format!("{shown} already holds the dotfiles clone; updated it (now at {rev})")
                }
                Some((_, why)) => format!(
                    "{shown} already holds the dotfiles clone; left it as it is ({why})"
                ),
                None => format!("{shown} already holds the dotfiles clone; left it as it is"),
            };
            note(progress, said).await;
        }
        Some(("clone", origin)) => bail!(
            "the dotfiles target {shown} already holds a clone of {}, not of {}; berth does not delete it: give another --dotfiles-target or remove it",
            if origin.trim().is_empty() { "another repository" } else { origin.trim() },
            r.url
        ),
        _ => bail!(
            "the dotfiles target {shown} already exists and is not a clone of {}; berth does not delete it: give another --dotfiles-target or remove it",
            r.url
        ),
    }

    let wanted = candidates(r.script.as_deref());
    let mut args: Vec<&str> = vec![&target];
    args.extend(wanted.iter().map(String::as_str));
    let listed = run_with_stdin(
        ctx,
        container,
        "listing the dotfiles repository",
        LIST,
        &args,
        vec![],
    )
    .await?;
    let how = resolve(r.script.as_deref(), &parse_listing(listed.as_bytes()))
        .map_err(|e| anyhow::anyhow!("{e} (cloned at {shown})"))?;
    note(progress, format!("dotfiles: {}", how.describe())).await;
    let login = |argv: Vec<String>| {
        let mut cmd = vec![
            "/bin/sh".into(),
            "-lc".into(),
            "exec \"$@\"".into(),
            "berth".into(),
        ];
        cmd.extend(argv);
        cmd
    };
    match how {
        Install::Script { path, argv, .. } => run_streamed(
            ctx,
            container.into(),
            login(argv),
            vec![],
            &target,
            "dotfiles install",
            progress,
        )
        .await
        .with_context(|| format!("the dotfiles install script {path} (in {shown}) failed")),
        Install::Make { makefile } => run_streamed(
            ctx,
            container.into(),
            vec!["/bin/sh".into(), "-lc".into(), MAKE.into()],
            vec![],
            &target,
            "dotfiles make",
            progress,
        )
        .await
        .with_context(|| format!("make (the dotfiles repository's {makefile}, in {shown}) failed")),
        Install::Link(names) => link(ctx, container, &target, &names, progress).await,
        Install::Nothing => Ok(()),
    }
}

async fn link(
    ctx: &Ctx,
    container: &str,
    target: &str,
    names: &[String],
    progress: ProgressFn<'_>,
) -> Result<()> {
    let mut args: Vec<&str> = vec![target];
    args.extend(names.iter().map(String::as_str));
    let out = run_with_stdin(
        ctx,
        container,
        "symlinking the dotfiles into the home",
        LINK,
        &args,
        vec![],
    )
    .await?;
    let (mut linked, mut same, mut skipped) = (0, 0, Vec::new());
    for line in out.lines() {
        let mut f = line.split('\t');
        match (f.next(), f.next(), f.next()) {
            (Some("linked"), _, _) => linked += 1,
            (Some("same"), _, _) => same += 1,
            (Some("skip"), Some(p), _) => skipped.push(tilde(p)),
            (Some("backup"), Some(p), Some(b)) => {
                note(
                    progress,
                    format!("dotfiles: kept the existing {} as {}", tilde(p), tilde(b)),
                )
                .await
            }
            _ => {}
        }
    }
    let mut said = format!("dotfiles: {linked} symlinks made in the home");
    if same > 0 {
        said.push_str(&format!(", {same} already in place"));
    }
    if !skipped.is_empty() {
        said.push_str(&format!(
            "; not linked (they hold the clone): {}",
            skipped.join(", ")
        ));
    }
    note(progress, said).await;
    Ok(())
}
