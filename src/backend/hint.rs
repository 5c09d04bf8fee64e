//! `berth hint`: the exact commands a person runs to connect to a workspace, with
//! the workspace user's login shell read from the container's /etc/passwd.
use super::{lifecycle, Ctx};
use crate::domain::engines::{EngineDef, EngineSource, DEFAULT_ENGINE};
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
    /// Straight through the engine, as the workspace user; `None` for a VM
    /// workspace, which the engine does not run (null in JSON).
    pub docker: Option<String>,
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

/// The hint for `name` on the `default` engine, whose login shell is `shell`.
pub fn hint_for(name: &WorkspaceName, shell: &str, workdir: Option<&str>) -> Hint {
    hint_on(name, None, shell, workdir)
}

/// `docker` with the options that reach engine `def` (nothing for `default`):
/// `--context NAME` for a Docker context, else `-H URL` (and the TLS files).
fn docker_prog(def: Option<&EngineDef>) -> String {
    let Some(d) = def.filter(|d| d.name != DEFAULT_ENGINE) else {
        return "docker".into();
    };
    let q = |s: &str| crate::domain::env::shell_quote(s);
    let mut argv = vec!["docker".to_string()];
    match &d.source {
        EngineSource::Context(c) => argv.extend(["--context".into(), q(c)]),
        _ => {
            argv.extend(["-H".into(), q(&d.host.url())]);
            if let Some(t) = &d.tls {
                if t.verify {
                    argv.push("--tlsverify".into());
                } else {
                    argv.push("--tls".into());
                }
                for (flag, f) in [
                    ("--tlscacert", &t.ca),
                    ("--tlscert", &t.cert),
                    ("--tlskey", &t.key),
                ] {
                    if let Some(f) = f {
                        argv.extend([flag.to_string(), q(&f.display().to_string())]);
                    }
                }
            }
        }
    }
    argv.join(" ")
}

/// The hint for `name` on engine `def` (`None` or `default`: as [`hint_for`]):
/// the ssh alias `berth ssh-config` writes for that engine, `berth --engine`
/// and `docker` options that reach it.
pub fn hint_on(
    name: &WorkspaceName,
    def: Option<&EngineDef>,
    shell: &str,
    workdir: Option<&str>,
) -> Hint {
    let engine = def.map_or(DEFAULT_ENGINE, |d| d.name.as_str());
    let mut berth = vec!["berth".to_string()];
    berth.extend(super::ssh_route::engine_args(engine));
    let prog = shell
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("sh");
    let dir = workdir.map_or(String::new(), |w| {
        format!("-w {} ", crate::domain::env::shell_quote(w))
    });
    Hint {
        command: format!("ssh {}", super::ssh_route::alias(name, engine)),
        docker: Some(format!(
            "{} exec -it -u workspace {dir}{} {prog} -l",
            docker_prog(def),
            name.container()
        )),
        shell: shell.to_string(),
        berth: format!("{} ssh {name}", berth.join(" ")),
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
    let def = ctx.engines.def(&ctx.engine_name());
    let mut h = hint_on(name, def, &shell, workdir);
    // A VM is no container of the engine: `docker exec` cannot reach it.
    if w.provider() == crate::domain::vm::Provider::Vm {
        h.docker = None;
    }
    Ok(h)
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
            h.docker.as_deref(),
            Some("docker exec -it -u workspace workspace-api bash -l")
        );
        assert_eq!(h.shell, "/bin/bash");
        assert_eq!(h.berth, "berth ssh api");
        let h = hint_for(&n, "/bin/sh", Some("/home/workspace/repo"));
        assert_eq!(
            h.docker.as_deref(),
            Some("docker exec -it -u workspace -w '/home/workspace/repo' workspace-api sh -l")
        );
    }

    #[test]
    fn off_the_default_engine_the_alias_and_commands_name_it() {
        use crate::domain::engines::{EngineHost, TlsFiles};
        let n = WorkspaceName::parse("api").unwrap();
        let ssh = EngineDef::plain(
            "box",
            EngineHost::parse("ssh://me@box.example").unwrap(),
            EngineSource::Config,
        );
        let h = hint_on(&n, Some(&ssh), "/bin/bash", None);
        assert_eq!(h.command, "ssh berth-api.box");
        assert_eq!(h.berth, "berth --engine box ssh api");
        assert!(
            h.docker
                .as_deref()
                .unwrap_or_default()
                .starts_with("docker -H ")
                && h.docker
                    .as_deref()
                    .unwrap_or_default()
                    .contains("ssh://me@box.example"),
            "{:?}",
            h.docker
        );
        let ctx = EngineDef::plain(
            "lab",
            EngineHost::parse("unix:///run/lab.sock").unwrap(),
            EngineSource::Context("lab".into()),
        );
        let h = hint_on(&n, Some(&ctx), "/bin/sh", None);
        assert!(
            h.docker
                .as_deref()
                .unwrap_or_default()
                .starts_with("docker --context "),
            "{:?}",
            h.docker
        );
        let mut tls = EngineDef::plain(
            "far",
            EngineHost::parse("tcp://10.0.0.5:2376").unwrap(),
            EngineSource::Config,
        );
        tls.tls = Some(TlsFiles {
            ca: Some("/c/ca.pem".into()),
            cert: None,
            key: None,
            verify: true,
        });
        let h = hint_on(&n, Some(&tls), "/bin/sh", None);
        assert!(
            h.docker
                .as_deref()
                .unwrap_or_default()
                .contains("--tlsverify --tlscacert"),
            "{:?}",
            h.docker
        );
        // The default engine's definition: exactly as with one engine.
        let d = EngineDef::default_engine(None).unwrap();
        assert_eq!(
            hint_on(&n, Some(&d), "/bin/sh", None),
            hint_for(&n, "/bin/sh", None)
        );
    }
}

#[cfg(test)]
mod vm_tests {
    use crate::backend::Ctx;
    use crate::config::{Config, Paths};
    use crate::domain::naming::WorkspaceName;
    use crate::domain::vm::PROVIDER_LABEL;
    use crate::engine::memory::MemoryEngine;
    use std::sync::Arc;

    /// `docker exec` reaches a container, never a VM: no such line for a VM.
    #[tokio::test]
    async fn a_vm_gets_no_docker_exec_line() {
        let engine = MemoryEngine::new();
        engine.add_workspace("box", 2222);
        engine.add_workspace("vm", 2223);
        engine.set_label("workspace-vm", PROVIDER_LABEL, "vm");
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(&dir.path().join("berth"));
        let store = crate::store::Store::inline_for_tests(paths.store_file());
        let ctx = Ctx::with_store(Arc::new(engine), Config::default(), paths, store);
        let name = |n: &str| WorkspaceName::parse(n).unwrap();
        let c = super::hint(&ctx, &name("box")).await.unwrap();
        assert!(c.docker.unwrap().starts_with("docker exec"));
        let v = super::hint(&ctx, &name("vm")).await.unwrap();
        assert_eq!(v.docker, None);
        assert_eq!(v.berth, "berth ssh vm");
    }
}
