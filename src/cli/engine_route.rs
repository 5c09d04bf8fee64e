//! The engine a command runs on: a command naming one workspace goes where that
//! workspace is (`backend::engine_pick`), a create where placement says
//! (`backend::placement`), everything else to the engine chosen or defaulted.
//! With one engine defined, or one the user chose, no engine is asked anything
//! more than before.
use super::Command;
use crate::backend::engine_pick::{leftovers_of, locate};
use crate::backend::placement::{place_in, Placed};
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::domain::naming::WorkspaceName;
use anyhow::Result;
use std::sync::Arc;

/// The one workspace a command names (not the new one a create makes).
pub fn target(cmd: &Command) -> Option<String> {
    use super::agent::AgentAction as A;
    use super::secret::SecretAction as S;
    use super::service::ServiceAction as V;
    use super::snapshot::SnapshotAction as N;
    let name = match cmd {
        Command::Status { name, .. }
        | Command::Ttl { name, .. }
        | Command::Start { name, .. }
        | Command::Stop { name, .. }
        | Command::Restart { name, .. }
        | Command::Exec { name, .. }
        | Command::Ssh { name, .. }
        | Command::SshProxy { name }
        | Command::Hint { name, .. }
        | Command::Logs { name, .. }
        | Command::Egress { name, .. }
        | Command::Fork { name, .. } => name,
        Command::Delete {
            name: Some(name),
            all: false,
            ..
        } => name,
        Command::Snapshot(a) => match &a.action {
            Some(N::Create { name, .. }) => name,
            None => a.name.as_ref()?,
            Some(_) => return None,
        },
        Command::Cp { src, dst, .. } => return cp_target(src).or_else(|| cp_target(dst)),
        Command::Service { action } => match action {
            V::Add { ws, .. } | V::Rm { ws, .. } | V::Ls { ws, .. } => ws,
        },
        Command::Secret { action } => match action {
            S::Set { workspace, .. } | S::Rm { workspace, .. } => workspace.as_ref()?,
            S::Ls { .. } => return None,
        },
        Command::Agent {
            action: A::Connect { name } | A::Rm { name, .. },
        } => name,
        Command::Image {
            action: super::ImageAction::Load { name, .. },
        } => name,
        _ => return None,
    };
    Some(name.clone())
}

/// `NAME:PATH` as `berth cp` reads it (`domain::copy`): a workspace name before
/// the first colon.
fn cp_target(side: &str) -> Option<String> {
    let (name, _) = side.split_once(':')?;
    WorkspaceName::parse(name).ok().map(|n| n.to_string())
}

/// The context `cmd` runs in, and for a create where it goes and why.
pub async fn connect_for(
    paths: Paths,
    config: Config,
    cmd: &Command,
) -> Result<(Ctx, Option<Placed>)> {
    let set = Arc::new(super::engine_set_async(&config).await?);
    let store = crate::store::Store::new(paths.store_file());
    let mut placed = None;
    let engine = match cmd {
        Command::Create(_) => {
            let p = place_in(&set, None, crate::backend::engine_pick::ASK_TIMEOUT).await?;
            let name = p.engine.clone();
            placed = Some(p);
            name
        }
        _ => match target(cmd).and_then(|n| WorkspaceName::parse(&n).ok()) {
            Some(n) => {
                let leftover_on = match set.several() && !set.explicit() {
                    true => leftovers_of(&store, &n).await,
                    false => Vec::new(),
                };
                let l = locate(&set, &n, &leftover_on).await?;
                for note in l.notes(n.as_str()) {
                    eprintln!("note: {note}");
                }
                l.engine
            }
            None => set.default_name().to_string(),
        },
    };
    let engine = set.get(&engine).await?;
    Ok((Ctx::with_all(set, engine, config, paths, store), placed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn t(args: &[&str]) -> Option<String> {
        let cli =
            super::super::Cli::try_parse_from(std::iter::once("berth").chain(args.iter().copied()))
                .unwrap();
        target(cli.command.as_ref().unwrap())
    }

    #[test]
    fn commands_naming_one_workspace_are_found() {
        for (args, want) in [
            (&["status", "web"][..], Some("web")),
            (&["stop", "web"], Some("web")),
            (&["delete", "web", "-y"], Some("web")),
            (&["delete", "--all"], None),
            (&["exec", "web", "--", "true"], Some("web")),
            (&["cp", "./a", "web:b"], Some("web")),
            (&["cp", "web:/etc/x", "-"], Some("web")),
            (&["cp", "./a", "./b"], None),
            (&["snapshot", "web"], Some("web")),
            (&["snapshot", "rm", "s1"], None),
            (&["service", "ls", "web"], Some("web")),
            (&["ssh-proxy", "web"], Some("web")),
            (&["image", "load", "web", "debian"], Some("web")),
            (&["fork", "web", "web2"], Some("web")),
            (&["list"], None),
            (&["create", "web"], None),
        ] {
            assert_eq!(t(args).as_deref(), want, "{args:?}");
        }
    }
}
