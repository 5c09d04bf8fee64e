//! How ssh reaches a workspace on its engine: a workspace's SSH port is published
//! on ITS engine host's loopback. A local engine: straight to it. An `ssh://`
//! engine: a jump through the engine host (`ssh -W 127.0.0.1:PORT` there, with
//! the same strict options as the engine connection). A `tcp://` engine: the
//! port is not reachable from here, so ssh goes through the engine
//! (`berth --engine NAME ssh-proxy WS`, sshd in inetd mode over an exec).
//! Host key aliases stay `berth-NAME` on the `default` engine and become
//! `berth-NAME.ENGINE` elsewhere, so one name on two engines never clashes.
use super::Ctx;
use crate::domain::engines::{EngineDef, EngineHost, DEFAULT_ENGINE};
use crate::domain::naming::WorkspaceName;
use crate::engine::ssh_dial::{strict_options, SshHost};
use anyhow::Result;

/// Where ssh goes for a workspace's published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The port is on this machine.
    Here,
    /// The port is on an ssh engine's host: jump through it.
    Jump(SshHost),
    /// The port is on a tcp engine's host, which ssh cannot reach: through the engine.
    ThroughEngine,
}

/// The route for workspaces on engine `def` (`None`: an engine without a
/// definition, such as a test's, is here).
pub fn route(def: Option<&EngineDef>) -> Route {
    match def.map(|d| &d.host) {
        None | Some(EngineHost::Unix(_)) => Route::Here,
        Some(EngineHost::Ssh { user, host, port }) => Route::Jump(SshHost {
            user: user.clone(),
            host: host.clone(),
            port: *port,
        }),
        Some(EngineHost::Tcp { .. }) => Route::ThroughEngine,
    }
}

/// The route for workspaces on `ctx`'s engine.
pub fn route_of(ctx: &Ctx) -> Route {
    route(ctx.engines.def(&ctx.engine_name()))
}

/// The host key alias and ssh config `Host` of workspace `name` on `engine`.
pub fn alias(name: &WorkspaceName, engine: &str) -> String {
    if engine.is_empty() || engine == DEFAULT_ENGINE {
        name.ssh_alias()
    } else {
        format!("{}.{engine}", name.ssh_alias())
    }
}

/// [`alias`] on `ctx`'s engine.
pub fn alias_here(ctx: &Ctx, name: &WorkspaceName) -> String {
    alias(name, &ctx.engine_name())
}

/// `--engine NAME` for a berth command run later (a ProxyCommand), unless the
/// engine is `default`.
pub fn engine_args(engine: &str) -> Vec<String> {
    if engine.is_empty() || engine == DEFAULT_ENGINE {
        Vec::new()
    } else {
        vec!["--engine".into(), engine.into()]
    }
}

/// The ProxyCommand that reaches `target_host:port` on an ssh engine's host: quoted
/// for the shell ssh runs it with, `%` doubled.
pub fn jump_command(host: &SshHost, target_host: &str, port: u16) -> String {
    let mut argv: Vec<String> = vec!["ssh".into()];
    argv.extend(strict_options().iter().map(|s| s.to_string()));
    argv.extend(host.login_args());
    argv.extend(["-W".to_string(), format!("{target_host}:{port}")]);
    argv.extend(["--".to_string(), host.host.clone()]);
    crate::ssh_client::shell_join(&argv).replace('%', "%%")
}

/// How a workspace with SSH port `port` on engine `engine` is reached, as a
/// sentence (status, ssh-config comment).
pub fn how_reached(route: &Route, engine: &str, port: Option<u16>) -> String {
    let port = port.map_or("its sshd".into(), |p| format!("port {p}"));
    match route {
        Route::Here => format!("ssh reaches {port} on this machine's loopback"),
        Route::Jump(h) => format!(
            "ssh jumps through the engine host {} to {port} on its loopback",
            h.display()
        ),
        Route::ThroughEngine => format!(
            "{port} is on engine {engine}'s host, not reachable from here: ssh goes through the engine (`berth --engine {engine} ssh-proxy`)"
        ),
    }
}

/// Waits until the workspace's sshd answers: on its port when the port is on this
/// machine, else through the engine (never a port of this machine that the
/// remote workspace does not have).
pub async fn wait(ctx: &Ctx, name: &WorkspaceName, port: u16) -> Result<()> {
    match route_of(ctx) {
        Route::Here => super::sshd::wait_for_ssh(ctx, name, port).await,
        Route::Jump(_) | Route::ThroughEngine => super::ssh_exec::wait_for_sshd(ctx, name).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::engines::EngineSource;

    fn def(url: &str) -> EngineDef {
        EngineDef::plain("box", EngineHost::parse(url).unwrap(), EngineSource::Config)
    }

    #[test]
    fn each_kind_of_engine_has_its_route() {
        assert_eq!(route(None), Route::Here);
        assert_eq!(
            route(Some(&def("unix:///var/run/docker.sock"))),
            Route::Here
        );
        assert_eq!(
            route(Some(&def("tcp://10.0.0.1:2376"))),
            Route::ThroughEngine
        );
        let Route::Jump(h) = route(Some(&def("ssh://dev@box:2200"))) else {
            panic!("not a jump");
        };
        assert_eq!(
            jump_command(&h, "127.0.0.1", 2201),
            "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -l dev -p 2200 -W 127.0.0.1:2201 -- box"
        );
    }

    #[test]
    fn aliases_differ_per_engine_and_stay_on_default() {
        let n = WorkspaceName::parse("api").unwrap();
        assert_eq!(alias(&n, DEFAULT_ENGINE), "berth-api");
        assert_eq!(alias(&n, ""), "berth-api");
        assert_eq!(alias(&n, "box"), "berth-api.box");
        assert!(engine_args(DEFAULT_ENGINE).is_empty());
        assert_eq!(engine_args("box"), ["--engine", "box"]);
    }

    #[test]
    fn how_a_workspace_is_reached_is_said() {
        let s = how_reached(&Route::ThroughEngine, "tls", Some(2201));
        assert!(
            s.contains("not reachable from here") && s.contains("--engine tls"),
            "{s}"
        );
        let h = SshHost {
            user: None,
            host: "b".into(),
            port: None,
        };
        assert!(how_reached(&Route::Jump(h), "b", Some(1)).contains("jumps through"));
    }
}
