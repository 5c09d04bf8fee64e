//! The host side of a preflight: the runtime on PATH, access to the engine's
//! socket, free disk space and the repository's state (host git through
//! tokio::process). Judgement lives in `domain::{disk_space, repo_state}`.
use crate::domain::disk_space;
use crate::domain::preflight::Check;
use crate::domain::repo_state::{self, RepoFacts};
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

/// How long one git or df command may take.
const TOOL_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `program args` with no terminal prompts; (success, stdout, stderr).
async fn run_tool(program: &str, args: &[&str]) -> Result<(bool, String, String), String> {
    let mut c = Command::new(program);
    c.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(TOOL_TIMEOUT, c.output()).await {
        Err(_) => Err(format!("{program} took over {}s", TOOL_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(format!("cannot run {program}: {e}")),
        Ok(Ok(o)) => Ok((
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).trim().to_string(),
        )),
    }
}

/// `runtime_installed`: a container runtime on PATH, or an engine that answers
/// (a remote one needs nothing here).
pub async fn runtime_check(endpoint: &str, answers: bool) -> Check {
    const NAME: &str = "runtime_installed";
    let found = tokio::task::spawn_blocking(|| {
        let path = std::env::var_os("PATH")?;
        ["dockerd", "docker", "podman"].into_iter().find_map(|b| {
            std::env::split_paths(&path)
                .map(|d| d.join(b))
                .find(|p| p.is_file())
        })
    })
    .await
    .ok()
    .flatten();
    match (found, answers, endpoint.starts_with("unix://")) {
        (Some(p), _, _) => Check::pass(NAME, format!("{} found", p.display())),
        (None, true, _) => Check::pass(NAME, format!("the engine at {endpoint} answers")),
        (None, false, false) => Check::pass(
            NAME,
            format!("a remote engine ({endpoint}): nothing to install here"),
        ),
        (None, false, true) => Check::fail(
            NAME,
            "no dockerd, docker or podman on PATH",
            "install Docker: `sudo apt-get install docker.io` (or see https://docs.docker.com/engine/install/)",
        ),
    }
}

/// `user_permissions`: can this user use the engine's socket? Known for sure when
/// the engine answers or refused for permissions; else the socket is tried.
pub async fn permissions_check(endpoint: &str, answers: bool, denied: bool) -> Check {
    const NAME: &str = "user_permissions";
    let fix = "add yourself to the docker group: `sudo usermod -aG docker $USER`, then log in again (or run berth as root)";
    if answers {
        return Check::pass(NAME, format!("this user can use the engine at {endpoint}"));
    }
    if denied {
        return Check::fail(NAME, format!("permission denied on {endpoint}"), fix);
    }
    let Some(path) = endpoint.strip_prefix("unix://") else {
        return Check::fail(
            NAME,
            format!("cannot tell: the engine at {endpoint} does not answer"),
            "start the engine first (see daemon_running)",
        );
    };
    match tokio::net::UnixStream::connect(path).await {
        Ok(_) => Check::pass(
            NAME,
            format!("this user can open {path} (the engine behind it does not answer: see daemon_running)"),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Check::fail(NAME, format!("permission denied on {path}"), fix)
        }
        Err(e) => Check::fail(
            NAME,
            format!("cannot tell: {path} cannot be opened ({e})"),
            "start the engine first (see daemon_running)",
        ),
    }
}

/// `disk_space` on the first of `candidates` that exists.
pub async fn disk_check(candidates: &[&Path]) -> Check {
    let mut path = None;
    for c in candidates {
        // An ancestor that exists (berth's state dir may not be made yet).
        for a in c.ancestors() {
            if tokio::fs::try_exists(a).await.unwrap_or(false) {
                path = Some(a.display().to_string());
                break;
            }
        }
        if path.is_some() {
            break;
        }
    }
    let path = path.unwrap_or_else(|| "/".into());
    let free = match run_tool("df", &["-Pk", &path]).await {
        Ok((true, out, _)) => disk_space::parse_df(&out),
        _ => None,
    };
    disk_space::check(&path, free)
}

/// What git says about the repository at `path`.
pub async fn repo_facts(path: &Path) -> RepoFacts {
    let p = path.display().to_string();
    if !tokio::fs::try_exists(path).await.unwrap_or(false) {
        return RepoFacts::NotARepo {
            reason: "no such directory".into(),
        };
    }
    let git = |args: &'static [&'static str]| {
        let p = p.clone();
        async move {
            let mut all = vec!["-C", p.as_str()];
            all.extend_from_slice(args);
            run_tool("git", &all).await
        }
    };
    match git(&["rev-parse", "--is-inside-work-tree"]).await {
        Ok((true, out, _)) if out.trim() == "true" => {}
        Ok((_, _, err)) => {
            let reason = if err.is_empty() {
                "git says it is not".into()
            } else {
                err
            };
            return RepoFacts::NotARepo { reason };
        }
        Err(e) => {
            return RepoFacts::NotARepo {
                reason: format!("{e}; install git"),
            }
        }
    }
    let head = match git(&["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).await {
        Ok((true, out, _)) => out.trim().to_string(),
        _ => return RepoFacts::NoCommit,
    };
    let branch = match git(&["symbolic-ref", "--quiet", "--short", "HEAD"]).await {
        Ok((true, out, _)) => Some(out.trim().to_string()),
        _ => None,
    };
    let changed = match git(&["status", "--porcelain=v1", "-z", "--untracked-files=normal"]).await {
        Ok((true, out, _)) => repo_state::parse_porcelain_z(&out),
        Ok((false, _, err)) => {
            return RepoFacts::NotARepo {
                reason: format!("git status failed: {err}"),
            }
        }
        Err(e) => return RepoFacts::NotARepo { reason: e },
    };
    RepoFacts::Tree {
        head,
        branch,
        changed,
    }
}

/// `repo_state` for the repository at `path`.
pub async fn repo_check(path: &Path, force: bool) -> Check {
    let facts = repo_facts(path).await;
    repo_state::check(&path.display().to_string(), &facts, force)
}
