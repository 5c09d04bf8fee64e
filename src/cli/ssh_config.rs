//! `berth ssh-config`: one `Host` block per workspace of every engine that
//! answers (aliases as `backend::ssh_route` names them: `berth-NAME` on
//! `default`, `berth-NAME.ENGINE` elsewhere, each with the jump or ProxyCommand
//! its engine needs). The files of an engine that cannot be reached are kept as
//! they are (said on stderr), never pruned as if its workspaces were gone.
use crate::backend::engine_list::list_all;
use crate::backend::ssh_route::{how_reached, route};
use crate::backend::{inventory, ssh_cmd, Ctx};
use crate::domain::engines::DEFAULT_ENGINE;
use crate::domain::naming::SSH_ALIAS_PREFIX;
use crate::domain::workspace::Workspace;
use crate::ssh_client;
use anyhow::Result;
use std::collections::BTreeSet;

/// The engine an ssh config file's alias belongs to: the part after the first
/// dot (workspace names have none), else `default`.
pub fn engine_of_alias(alias: &str) -> &str {
    alias
        .strip_prefix(SSH_ALIAS_PREFIX)
        .and_then(|rest| rest.split_once('.'))
        .map_or(DEFAULT_ENGINE, |(_, engine)| engine)
}

/// The workspaces to write blocks for, and the engines whose files stay as they
/// are (they could not be asked).
async fn workspaces(ctx: &Ctx) -> Result<(Vec<Workspace>, BTreeSet<String>)> {
    if !ctx.engines.several() {
        return Ok((inventory::list(ctx).await?, BTreeSet::new()));
    }
    let all = list_all(&ctx.engines, &ctx.store).await;
    if all.answered.is_empty() {
        let why: Vec<String> = all
            .unreachable
            .iter()
            .map(|(e, w)| format!("{e}: {w}"))
            .collect();
        anyhow::bail!(
            "no engine could be reached ({}); the ssh config files were left as they are",
            why.join("; ")
        );
    }
    for (engine, why) in &all.unreachable {
        eprintln!(
            "note: engine {engine} could not be reached ({why}); its workspaces' ssh config files are kept as they are"
        );
    }
    let keep = all.unreachable.into_iter().map(|(e, _)| e).collect();
    Ok((all.workspaces, keep))
}

pub async fn run(ctx: &Ctx, json: bool) -> Result<i32> {
    let (ws, keep) = workspaces(ctx).await?;
    let several = ctx.engines.several();
    let mut blocks = Vec::new();
    for w in ws.iter().filter(|w| ssh_cmd::reachable(w)) {
        let label = match several {
            true => format!("{} on engine {}", w.name, w.engine),
            false => w.name.clone(),
        };
        match ssh_cmd::target(ctx, w).await {
            Ok(t) => {
                let route = route(ctx.engines.def(&w.engine));
                let how = how_reached(&route, &w.engine, w.ssh_port);
                let block = format!("# {label}: {how}.\n{}", t.host_block(&ctx.paths));
                blocks.push((t.alias.clone(), block))
            }
            Err(e) => eprintln!("note: no ssh config for {label}: {e:#}"),
        }
    }
    let paths = ctx.paths.clone();
    let files = tokio::task::spawn_blocking(move || {
        ssh_client::write_ssh_config_keeping(&paths, &blocks, |alias| {
            keep.contains(engine_of_alias(alias))
        })
    })
    .await??;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "files": files,
                "directory": ssh_client::berth_d(&ctx.paths),
                "included_from": ctx.paths.home.join(".ssh/config"),
            }))?
        );
        return Ok(0);
    }
    let use_line = match several {
        true => "Use `ssh berth-NAME` (default engine) or `ssh berth-NAME.ENGINE`.",
        false => "Use `ssh berth-NAME`.",
    };
    println!(
        "Wrote {} file(s) in {} and included them from {}. {use_line}",
        files.len(),
        ssh_client::berth_d(&ctx.paths).display(),
        ctx.paths.home.join(".ssh/config").display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_names_its_engine() {
        assert_eq!(engine_of_alias("berth-web"), "default");
        assert_eq!(engine_of_alias("berth-web.box"), "box");
        assert_eq!(engine_of_alias("berth-web.lab.two"), "lab.two");
    }
}
