//! Purpose profiles at create time: `detect` (try-repo picks a profile from the
//! repository's top-level files), `image` (the profile's image: a local layer over
//! the base, built once per definition and base, then reused) and `profile` (its
//! setup commands in the new workspace).
use super::note;
use crate::backend::create_exec::run_streamed;
use crate::backend::images::{base_status, outdated_sentence, tar_of, BaseStatus};
use crate::backend::{Ctx, Progress, ProgressFn};
use crate::domain::integrity::{profile_finding, Finding, ImageFacts};
use crate::domain::labels;
use crate::domain::profiles::{detect as pick, Profile, BUILD_CA_FILE};
use crate::domain::workspace::WORKSPACE_HOME;
use crate::engine::ImageBuild;
use anyhow::{anyhow, bail, Context, Result};
use std::path::PathBuf;
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::mpsc;

/// How long listing a repository's files may take.
const DETECT_TIMEOUT: Duration = Duration::from_secs(180);

/// `try-repo`: the profile for the repository at `url`, from its top-level files.
///
/// The files are listed with a shallow clone on the HOST (`git` through
/// tokio::process) into a temporary directory removed afterwards, because: the
/// workspace does not exist yet (which image it runs is what is being decided);
/// the host's git already has the user's credentials for private repositories
/// (the same ones `git clone` by hand would use), where a throwaway container would
/// need credential forwarding of its own; and `--depth 1 --no-checkout` fetches one
/// commit's objects and writes no working files, so nothing from the repository is
/// run or even checked out on the host: only its top-level tree is read.
pub async fn detect(url: &str, progress: ProgressFn<'_>) -> Result<String> {
    let dir = TempDir::new().await?;
    let git = |args: &[&str]| {
        let mut c = Command::new("git");
        c.args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        c
    };
    let clone_dir = dir.path.join("repo");
    let clone_dir_s = clone_dir.display().to_string();
    let clone = git(&[
        "clone",
        "--quiet",
        "--depth",
        "1",
        "--no-checkout",
        "--no-tags",
        "--",
        url,
        &clone_dir_s,
    ])
    .output();
    let out = tokio::time::timeout(DETECT_TIMEOUT, clone)
        .await
        .map_err(|_| anyhow!("listing the files of {url} took over {}s", DETECT_TIMEOUT.as_secs()))?
        .map_err(|e| anyhow!("cannot run git on this machine to list the files of {url} ({e}); install git, or choose the profile with --profile NAME"))?;
    if !out.status.success() {
        bail!(
            "cannot list the files of {url}: git clone failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let ls = git(&["-C", &clone_dir_s, "ls-tree", "--name-only", "HEAD"])
        .output()
        .await?;
    let listing = String::from_utf8_lossy(&ls.stdout).into_owned();
    if !ls.status.success() {
        // An empty repository has no HEAD: nothing to detect.
        note(progress, format!("{url} has no commits to look at")).await;
    }
    dir.remove().await;
    let chosen = pick(listing.lines().map(str::trim));
    note(
        progress,
        format!("picked profile {chosen} from the top-level files of {url}"),
    )
    .await;
    Ok(chosen.to_string())
}

/// A directory under the system's temp dir, removed when done (or, if the create
/// is cancelled first, when dropped).
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    async fn new() -> Result<Self> {
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("berth-detect-{}-{nanos}", std::process::id()));
        tokio::fs::create_dir(&path)
            .await
            .with_context(|| format!("cannot make {}", path.display()))?;
        Ok(Self { path })
    }

    async fn remove(mut self) {
        let path = std::mem::take(&mut self.path);
        let _ = tokio::fs::remove_dir_all(&path).await;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        let path = std::mem::take(&mut self.path);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn_blocking(move || std::fs::remove_dir_all(path));
        }
    }
}

/// The image a workspace with `profile` runs over the base image `base`: the base
/// itself when the profile adds nothing, else the profile's image, built when no
/// image of this definition and base exists yet (for `platform`, the base's, when
/// given: `--platform`).
pub async fn image(
    ctx: &Ctx,
    profile: &Profile,
    base: &str,
    platform: Option<&str>,
    progress: ProgressFn<'_>,
) -> Result<String> {
    match base_status(ctx, base).await? {
        BaseStatus::Absent => {
            bail!("image {base} is not present in the engine; build it with `berth image build`")
        }
        // A warning, not a failure: the workspace works, it lacks what is new.
        BaseStatus::Outdated => {
            note(progress, format!("warning: {}", outdated_sentence(base))).await
        }
        BaseStatus::Current | BaseStatus::Foreign => {}
    }
    let Some((tag, hash, ca)) = wanted_image(ctx, profile, base).await? else {
        return Ok(base.to_string());
    };
    if sound(ctx, &tag, &hash, base, progress).await? {
        note(
            progress,
            format!(
                "profile {} uses its image {tag} (built before)",
                profile.name
            ),
        )
        .await;
        return Ok(tag);
    }
    // One build per tag at a time, across berth processes: the others wait, then
    // find it built.
    let _lock = lock(&tag).await?;
    if sound(ctx, &tag, &hash, base, progress).await? {
        note(
            progress,
            format!(
                "profile {} uses its image {tag} (another berth just built it)",
                profile.name
            ),
        )
        .await;
        return Ok(tag);
    }
    build(ctx, profile, base, platform, &hash, &tag, ca, progress).await?;
    prune_older(ctx, profile, &tag, progress).await;
    Ok(tag)
}

/// Is the image at `tag` the one berth builds there (its definition's hash, on
/// `base`)? An image a tag was moved to (another or no definition label, another
/// base) is not reused: it is rebuilt (`domain::integrity`).
async fn sound(
    ctx: &Ctx,
    tag: &str,
    hash: &str,
    base: &str,
    progress: ProgressFn<'_>,
) -> Result<bool> {
    let Some(info) = ctx.engine.image_info(tag).await? else {
        return Ok(false);
    };
    let facts = |i: crate::engine::ImageInfo| ImageFacts {
        id: i.id,
        labels: i.labels,
        layers: i.layers,
    };
    let base_facts = ctx
        .engine
        .image_info(base)
        .await?
        .map(facts)
        .unwrap_or_default();
    if profile_finding(Some(&facts(info)), hash, &base_facts) == Finding::Sound {
        return Ok(true);
    }
    note(
        progress,
        format!("{tag} is not the image berth built from this profile's definition over {base}; rebuilding it"),
    )
    .await;
    Ok(false)
}

/// Removes the images this profile was built as before (another definition or
/// base) for the same architecture (another platform's is not older, see
/// `--platform`), except those a workspace still runs (the engine refuses those).
async fn prune_older(ctx: &Ctx, profile: &Profile, keep: &str, progress: ProgressFn<'_>) {
    let want = [
        (labels::ROLE, labels::ROLE_IMAGE),
        (labels::PROFILE, profile.name.as_str()),
    ];
    let Ok(tags) = ctx.engine.images_labelled(&want).await else {
        return;
    };
    let prefix = format!("{}:", keep.split(':').next().unwrap_or(keep));
    let arch = |tag: String| async move {
        let info = ctx.engine.image_info(&tag).await.ok().flatten();
        info.map(|i| i.architecture).unwrap_or_default()
    };
    let kept_arch = arch(keep.to_string()).await;
    let mut removed = Vec::new();
    for tag in tags.iter().filter(|t| *t != keep && t.starts_with(&prefix)) {
        if arch(tag.clone()).await != kept_arch {
            continue;
        }
        if let Ok(true) = ctx.engine.remove_image(tag).await {
            removed.push(tag.clone());
        }
    }
    if !removed.is_empty() {
        note(
            progress,
            format!(
                "removed the profile's older image{} {} (no workspace runs it)",
                if removed.len() == 1 { "" } else { "s" },
                removed.join(", ")
            ),
        )
        .await;
    }
}

/// The tag (and hash, and CA bundle for a build) of the image `profile` runs over
/// `base`; `None` when it runs the base as is.
pub async fn wanted_image(
    ctx: &Ctx,
    profile: &Profile,
    base: &str,
) -> Result<Option<(String, String, Option<Vec<u8>>)>> {
    if !profile.needs_image() {
        return Ok(None);
    }
    let base_id = ctx
        .engine
        .image_info(base)
        .await?
        .map(|i| i.id)
        .ok_or_else(|| {
            anyhow!("image {base} is not present in the engine; build it with `berth image build`")
        })?;
    let ca = read_ca(ctx.config.build_ca_bundle.clone()).await?;
    let hash = profile.image_hash(base, &base_id, ca.is_some());
    Ok(Some((profile.image_tag(&hash), hash, ca)))
}

#[allow(clippy::too_many_arguments)]
async fn build(
    ctx: &Ctx,
    profile: &Profile,
    base: &str,
    platform: Option<&str>,
    hash: &str,
    tag: &str,
    ca: Option<Vec<u8>>,
    progress: ProgressFn<'_>,
) -> Result<()> {
    note(
        progress,
        format!(
            "building {tag} for profile {} over {base} (once; later creates reuse it)",
            profile.name
        ),
    )
    .await;
    let dockerfile = profile.dockerfile(base, ca.is_some());
    let mut files: Vec<(&str, &[u8], u32)> = vec![("Dockerfile", dockerfile.as_bytes(), 0o644)];
    if let Some(ca) = &ca {
        files.push((BUILD_CA_FILE, ca, 0o644));
    }
    let context = tar_of(files)?;
    let mut image_labels = labels::image_labels(&ctx.config.labels, env!("CARGO_PKG_VERSION"));
    image_labels.insert(labels::DEFINITION.into(), hash.into());
    image_labels.insert(labels::PROFILE.into(), profile.name.clone());
    // The base it sits on, checked by preflight's image integrity.
    if let Some(b) = ctx.engine.image_info(base).await? {
        image_labels.insert(labels::BASE_IMAGE.into(), b.id);
    }
    if let Some(p) = platform {
        image_labels.insert(labels::PLATFORM.into(), p.into());
    }
    let spec = ImageBuild {
        tag: tag.into(),
        args: Default::default(),
        labels: image_labels,
        platform: platform.map(String::from),
    };
    let (tx, mut rx) = mpsc::channel::<String>(64);
    let engine = ctx.engine.clone();
    let job = tokio::spawn(async move { engine.build_image(context, &spec, tx).await });
    let job = AbortOnDrop(job);
    while let Some(line) = rx.recv().await {
        progress
            .report(Progress::Output {
                label: "image".into(),
                line,
            })
            .await;
    }
    let mut job = job;
    (&mut job.0)
        .await
        .map_err(|e| anyhow!("the image build task failed: {e}"))?
        .with_context(|| {
            format!(
                "building the image of profile {} ({})",
                profile.name, profile.source
            )
        })?;
    Ok(())
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The CA bundle builds trust, when configured and present.
async fn read_ca(path: Option<PathBuf>) -> Result<Option<Vec<u8>>> {
    let Some(path) = path else { return Ok(None) };
    tokio::task::spawn_blocking(move || match std::fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| {
            format!(
                "reading the CA bundle {} ([build] ca_bundle)",
                path.display()
            )
        }),
    })
    .await?
}

/// Where image build locks live: per user, shared by every berth of that user
/// (each with its own state directory, as the tests have).
fn lock_path(tag: &str) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
    let file: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::env::temp_dir()
        .join(format!("berth-{uid}-locks"))
        .join(format!("{file}.lock"))
}

/// Takes the build lock of `tag` (an exclusive file lock, released when the file is
/// dropped: when the build ends, fails, or the create is cancelled or killed).
pub(crate) async fn lock(tag: &str) -> Result<std::fs::File> {
    let path = lock_path(tag);
    tokio::task::spawn_blocking(move || -> Result<std::fs::File> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the build lock {}", path.display()))?;
        f.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(f)
    })
    .await?
}

/// The profile's setup commands, in order, as the workspace user in the home.
pub async fn setup(
    ctx: &Ctx,
    container: &str,
    profile: &Profile,
    progress: ProgressFn<'_>,
) -> Result<()> {
    if profile.setup.is_empty() {
        return Ok(());
    }
    for (i, cmd) in profile.setup.iter().enumerate() {
        let argv = vec!["/bin/sh".into(), "-lc".into(), cmd.clone()];
        run_streamed(
            ctx,
            container.to_string(),
            argv,
            vec![],
            WORKSPACE_HOME,
            "profile",
            progress,
        )
        .await
        .with_context(|| {
            format!(
                "setup command {} of profile {} ({})",
                i + 1,
                profile.name,
                profile.source
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_files_are_per_user_and_named_after_the_tag() {
        let p = lock_path("berth/profile-python:0123abcd");
        assert!(p.starts_with(std::env::temp_dir()));
        assert_eq!(
            p.file_name().unwrap().to_string_lossy(),
            "berth_profile-python_0123abcd.lock"
        );
    }

    #[tokio::test]
    async fn one_build_lock_at_a_time_per_tag() {
        let tag = format!("berth/test-lock:{}", std::process::id());
        let first = lock(&tag).await.unwrap();
        let second = tokio::spawn(async move { lock(&tag).await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!second.is_finished(), "the second waits for the first");
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn a_temp_dir_is_removed_when_dropped() {
        let d = TempDir::new().await.unwrap();
        let p = d.path.clone();
        tokio::fs::write(p.join("f"), b"x").await.unwrap();
        drop(d);
        for _ in 0..50 {
            if !p.exists() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{} is still there", p.display());
    }
}
