//! `berth hint`: the exact commands a person runs to connect to a workspace, with
//! the workspace user's login shell read from the container's /etc/passwd.
use super::{lifecycle, Ctx};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WORKSPACE_USER;
use anyhow::Result;
use serde::Serialize;

/// The shell assumed when the container's /etc/passwd cannot be read.
pub const FALLBACK_SHELL: &str = "/bin/sh";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    /// Plain ssh through the alias `berth ssh-config` writes.
    pub command: String,
    /// Straight through the engine, as the workspace user.
    pub docker: String,
    /// The workspace user's login shell.
    pub shell: String,
    /// berth's own ssh (pinned host key, the default directory).
    pub berth: String,
    /// The default directory for exec, ssh and shells, if any.
    pub workdir: Option<String>,
}

/// The login shell of `user` in an /etc/passwd text.
pub fn login_shell(passwd: &str, user: &str) -> Option<String> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() == 7 && f[0] == user && f[6].starts_with('/')).then(|| f[6].trim().to_string())
    })
}

/// The hint for `name`, whose login shell is `shell`.
pub fn hint_for(name: &WorkspaceName, shell: &str, workdir: Option<&str>) -> Hint {
    let prog = shell
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("sh");
    let dir = workdir.map_or(String::new(), |w| {
        format!("-w {} ", crate::domain::env::shell_quote(w))
    });
    Hint {
        command: format!("ssh {}", name.ssh_alias()),
        docker: format!(
            "docker exec -it -u workspace {dir}{} {prog} -l",
            name.container()
        ),
        shell: shell.to_string(),
        berth: format!("berth ssh {name}"),
        workdir: workdir.map(String::from),
    }
}

pub async fn hint(ctx: &Ctx, name: &WorkspaceName) -> Result<Hint> {
    let w = lifecycle::find(ctx, name).await?;
    // Through the engine: works whether the workspace runs or not.
    let shell = match ctx
        .engine
        .read_file(&w.container, "/etc/passwd", 1 << 20)
        .await
    {
        Ok(Some(p)) => login_shell(&String::from_utf8_lossy(&p), WORKSPACE_USER),
        Ok(None) => None,
        Err(e) => {
            tracing::debug!("cannot read /etc/passwd of {}: {e}", w.container);
            None
        }
    };
    let shell = shell.unwrap_or_else(|| FALLBACK_SHELL.to_string());
    let workdir = w.labels.get(labels::WORKDIR).map(String::as_str);
    Ok(hint_for(name, &shell, workdir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_shell_comes_from_passwd() {
        let p = "root:x:0:0:root:/root:/bin/bash\nworkspace:*:1000:1000::/home/workspace:/usr/bin/zsh\n";
        assert_eq!(login_shell(p, "workspace").as_deref(), Some("/usr/bin/zsh"));
        assert_eq!(login_shell(p, "nobody"), None);
        assert_eq!(login_shell("workspace:x:1000", "workspace"), None);
    }

    #[test]
    fn hints_name_the_alias_the_container_and_the_shell() {
        let n = WorkspaceName::parse("api").unwrap();
        let h = hint_for(&n, "/bin/bash", None);
        assert_eq!(h.command, "ssh berth-api");
        assert_eq!(
            h.docker,
            "docker exec -it -u workspace workspace-api bash -l"
        );
        assert_eq!(h.shell, "/bin/bash");
        assert_eq!(h.berth, "berth ssh api");
        let h = hint_for(&n, "/bin/sh", Some("/home/workspace/repo"));
        assert_eq!(
            h.docker,
            "docker exec -it -u workspace -w '/home/workspace/repo' workspace-api sh -l"
        );
    }
}
