//! `berth net create|rm|ls`: named networks on which workspaces reach each other
//! by their names.
use crate::backend::{networks, Ctx};
use crate::domain::networks::NetworkName;
use anyhow::{anyhow, Result};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum NetAction {
    /// Create a named network (`berth-NAME` in the engine); `berth create --network
    /// NAME` puts a workspace on it, where the others reach it by its name.
    Create {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a named network; refused while workspaces or services are on it
    /// (it says which) unless --force, which detaches them first.
    Rm {
        name: String,
        /// Detach the workspaces and services on it first (they keep running).
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the named networks, with the workspaces and services on each.
    Ls {
        /// [{"name", "network", "driver", "workspaces", "services", "others"}].
        #[arg(long)]
        json: bool,
    },
}

fn parse(raw: &str) -> Result<NetworkName> {
    NetworkName::parse(raw).map_err(|e| anyhow!(e))
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn or_dash(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
    }
}

pub async fn run(ctx: &Ctx, action: NetAction) -> Result<i32> {
    super::engine_note::say(ctx, "the networks");
    match action {
        NetAction::Create { name, json } => {
            let v = networks::create(ctx, &parse(&name)?).await?;
            if json {
                print_json(&v)?;
            } else {
                println!(
                    "Network {} created ({}). Put workspaces on it with `berth create NAME --network {}`; there they reach each other by their names.",
                    v.name, v.network, v.name
                );
            }
        }
        NetAction::Rm { name, force, json } => {
            let r = networks::remove(ctx, &parse(&name)?, force).await?;
            if json {
                print_json(&r)?;
            } else if r.detached.is_empty() {
                println!("Network {} removed.", r.name);
            } else {
                println!(
                    "Network {} removed (detached first: {}).",
                    r.name,
                    r.detached.join(", ")
                );
            }
        }
        NetAction::Ls { json } => {
            let l = networks::list(ctx).await?;
            if json {
                print_json(&l)?;
            } else if l.is_empty() {
                println!("No networks. Create one with `berth net create NAME`.");
            } else {
                let rows: Vec<[String; 4]> = l
                    .iter()
                    .map(|v| {
                        [
                            v.name.clone(),
                            v.driver.clone(),
                            or_dash(&v.workspaces),
                            or_dash(&v.services),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    super::service::table(["NAME", "DRIVER", "WORKSPACES", "SERVICES"], &rows)
                );
            }
        }
    }
    Ok(0)
}
