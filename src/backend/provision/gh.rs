//! GitHub CLI auth forwarding: the host's token (from `gh auth token`, else gh's
//! hosts.yml), delivered with the passed-through variables as `GH_TOKEN`, and a
//! git credential helper for https://github.com that reads it (never the token in a
//! URL or a git config file).
use std::path::PathBuf;
use std::time::Duration;

/// How long `gh auth token` may take (it reads a file or the keyring).
const GH_TIMEOUT: Duration = Duration::from_secs(10);

/// The host's GitHub token, if gh has one: `gh auth token`, else gh's hosts.yml.
pub async fn host_token() -> Option<String> {
    if let Some(t) = from_gh().await.filter(|t| usable(t)) {
        return Some(t);
    }
    tokio::task::spawn_blocking(from_hosts_file)
        .await
        .ok()
        .flatten()
        .filter(|t| usable(t))
}

/// A token is one word (anything else would be a message, not a token).
fn usable(t: &str) -> bool {
    !t.is_empty() && !t.contains(char::is_whitespace)
}

/// `gh auth token`; nothing when gh is absent, fails, or hangs (killed at the timeout).
async fn from_gh() -> Option<String> {
    let run = tokio::process::Command::new("gh")
        .args(["auth", "token", "--hostname", "github.com"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(GH_TIMEOUT, run).await.ok()?.ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// gh's config directory: GH_CONFIG_DIR, else $XDG_CONFIG_HOME/gh, else ~/.config/gh.
fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("GH_CONFIG_DIR") {
        return Some(d.into());
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(d).join("gh"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/gh"))
}

fn from_hosts_file() -> Option<String> {
    let text = std::fs::read_to_string(config_dir()?.join("hosts.yml")).ok()?;
    token_in_hosts(&text)
}

/// `oauth_token` of `github.com` in gh's hosts.yml (the simple layout gh writes).
fn token_in_hosts(text: &str) -> Option<String> {
    let mut in_github = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('\t') {
            in_github = line.trim_end() == "github.com:";
            continue;
        }
        if in_github {
            if let Some(v) = line.trim().strip_prefix("oauth_token:") {
                let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                return (!v.is_empty()).then(|| v.to_string());
            }
        }
    }
    None
}

/// git's credential helper for https://github.com: reads GH_TOKEN from the
/// workspace's environment when git asks (the token stays on the tmpfs).
const HELPER: &str = "!f() { test \"$1\" = get || exit 0; . /etc/berth/env.sh >/dev/null 2>&1; test -n \"$GH_TOKEN\" || exit 0; echo username=x-access-token; echo \"password=$GH_TOKEN\"; }; f";

/// Configures the helper in the SYSTEM git config (/etc/gitconfig, as root; it holds
/// no secret): git asks system helpers before the user's, so ours answers first
/// whatever the home's ~/.gitconfig says, and dotfiles that replace ~/.gitconfig
/// (or a user's own helpers there) neither lose it nor are touched by it.
const CONFIGURE: &str = r#"set -e
git config --system --replace-all credential.https://github.com.helper "$1"
"#;

/// What in the user's ~/.gitconfig would silence the system helper: the lines
/// `gh auth setup-git` writes on the host (an empty `helper =`, which resets the
/// list, and `!gh auth git-credential`, with no gh inside). Removed when gh is not
/// installed in the workspace; prints what it removed.
const UNBLOCK: &str = r#"command -v gh >/dev/null 2>&1 && exit 0
git config --global --unset-all credential.https://github.com.helper '^$|gh auth git-credential' 2>/dev/null && echo removed
exit 0
"#;

/// Removes from ~/.gitconfig the GitHub helpers that cannot work inside and would
/// cancel berth's (after the git config is copied, and again after dotfiles).
pub async fn unblock(
    ctx: &crate::backend::Ctx,
    container: &str,
    progress: crate::backend::ProgressFn<'_>,
) -> anyhow::Result<()> {
    let out = super::run_with_stdin(
        ctx,
        container,
        "checking ~/.gitconfig's GitHub helpers",
        UNBLOCK,
        &[],
        Vec::new(),
    )
    .await?;
    if out.contains("removed") {
        super::note(
            progress,
            "removed from ~/.gitconfig the host's `gh auth setup-git` helper lines for github.com (gh is not installed here; they would cancel berth's helper)".into(),
        )
        .await;
    }
    Ok(())
}

/// The gh step: GH_TOKEN with the passed-through values, and the credential helper.
pub async fn forward(
    ctx: &crate::backend::Ctx,
    container: &str,
    secrets: &[String],
    progress: crate::backend::ProgressFn<'_>,
) -> anyhow::Result<()> {
    let g = super::env::gather(secrets, true).await;
    if !g.vars.iter().any(|(k, _)| k == "GH_TOKEN") {
        super::note(
            progress,
            "no GitHub CLI auth on the host (`gh auth token` gave nothing and gh's hosts.yml has no github.com token); skipped".into(),
        )
        .await;
        return Ok(());
    }
    super::env::write_secrets(ctx, container, &g.vars).await?;
    super::run_script_as(
        ctx.engine.as_ref(),
        container,
        "root",
        "configuring git's credential helper",
        CONFIGURE,
        &[HELPER],
        Vec::new(),
    )
    .await?;
    unblock(ctx, container, progress).await?;
    super::note(
        progress,
        "GH_TOKEN delivered; git uses it for https://github.com".into(),
    )
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_gh_hosts_file() {
        let hosts = "github.example.com:\n    oauth_token: nope\ngithub.com:\n    user: me\n    oauth_token: gho_abc123\n    git_protocol: https\n";
        assert_eq!(token_in_hosts(hosts).as_deref(), Some("gho_abc123"));
        assert_eq!(token_in_hosts("github.com:\n    user: me\n"), None);
    }
}
