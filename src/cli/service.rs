//! `berth service add|rm|ls`: containers beside a workspace (a database, a cache),
//! reachable from it by their names; and what `berth status` says about them.
use crate::backend::services::{self, ServiceView};
use crate::backend::{networks, Ctx};
use crate::domain::naming::WorkspaceName;
use crate::domain::services::ServiceRequest;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ServiceAction {
    /// Run a service container beside workspace WS, reachable from it as SERVICE
    /// (and from nothing else, unless --network). It starts, stops and goes with
    /// the workspace; its logs are in `berth logs WS`, tagged [SERVICE]. berth never
    /// pulls: the image must be in the engine.
    Add {
        ws: String,
        service: String,
        /// The image (already in the engine), e.g. postgres:16.
        #[arg(long, value_name = "IMG")]
        image: String,
        /// Variable in its config (repeatable; public: `docker inspect` shows it, so
        /// no secrets).
        #[arg(long = "env", short = 'e', value_name = "K=V")]
        env: Vec<String>,
        /// Port published on the bind address (127.0.0.1 by default; repeatable).
        #[arg(long = "port", value_name = "HOST:CONTAINER")]
        ports: Vec<String>,
        /// Named network it joins too, as SERVICE.WS (repeatable).
        #[arg(long = "network", value_name = "NAME")]
        networks: Vec<String>,
        #[arg(long)]
        json: bool,
        /// Its command (default: the image's).
        #[arg(last = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Remove a service: its container and what it stored go.
    Rm {
        ws: String,
        service: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// List a workspace's services.
    Ls {
        ws: String,
        /// [{"name", "container", "image", "state", "ports", "networks"}].
        #[arg(long)]
        json: bool,
    },
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// A plain table: a header and rows, columns as wide as their widest cell.
pub(super) fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let c: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        c.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

fn service_rows(l: &[ServiceView]) -> Vec<[String; 5]> {
    l.iter()
        .map(|s| {
            [
                s.name.clone(),
                s.state.clone(),
                s.image.clone(),
                if s.ports.is_empty() {
                    "-".into()
                } else {
                    s.ports.join(",")
                },
                s.networks.join(","),
            ]
        })
        .collect()
}

pub async fn run(ctx: &Ctx, action: ServiceAction) -> Result<i32> {
    match action {
        ServiceAction::Add {
            ws,
            service,
            image,
            env,
            ports,
            networks,
            json,
            cmd,
        } => {
            let ws = WorkspaceName::parse(&ws)?;
            let req = ServiceRequest {
                name: service,
                image,
                env,
                ports,
                networks,
                cmd,
            };
            let a = services::add(ctx, &ws, &req).await?;
            if json {
                print_json(&a)?;
                return Ok(0);
            }
            let ports = if a.service.ports.is_empty() {
                String::new()
            } else {
                format!(
                    "; published on {} as {}",
                    ctx.config.bind_address,
                    a.service.ports.join(", ")
                )
            };
            let when = if a.started {
                "running"
            } else {
                "created; it starts with the workspace"
            };
            println!(
                "Service {} ({}) added to workspace {ws}: {when}. From {ws} it is reachable as {}{ports}. Its logs: `berth logs {ws}`.",
                a.service.name,
                a.service.image,
                a.reachable_as.join(", "),
            );
        }
        ServiceAction::Rm {
            ws,
            service,
            yes,
            json,
        } => {
            let ws = WorkspaceName::parse(&ws)?;
            if !yes
                && !super::confirm::ask(format!(
                    "Remove service {service} of workspace {ws}? Its container {} and what it stored are lost.",
                    ws.sidecar(&service)
                ), "removed")
                .await?
            {
                eprintln!("Nothing was removed.");
                return Ok(1);
            }
            let r = services::remove(ctx, &ws, &service).await?;
            if json {
                print_json(&r)?;
            } else {
                let net = r
                    .network
                    .map(|n| format!(" and network {n} (its last service)"))
                    .unwrap_or_default();
                println!(
                    "Removed service {} of workspace {ws}: container {}{net}.",
                    r.service, r.container
                );
            }
        }
        ServiceAction::Ls { ws, json } => {
            let ws = WorkspaceName::parse(&ws)?;
            crate::backend::lifecycle::find(ctx, &ws).await?;
            let l = services::list(ctx, &ws).await?;
            if json {
                print_json(&l)?;
            } else if l.is_empty() {
                println!("Workspace {ws} has no services. Add one with `berth service add {ws} NAME --image IMG`.");
            } else {
                print!(
                    "{}",
                    table(
                        ["NAME", "STATE", "IMAGE", "PORTS", "NETWORKS"],
                        &service_rows(&l)
                    )
                );
            }
        }
    }
    Ok(0)
}

/// What `berth status` adds: the workspace's services and named networks.
pub struct StatusExtra {
    pub services: Vec<ServiceView>,
    pub networks: Vec<String>,
}

impl StatusExtra {
    pub async fn of(ctx: &Ctx, ws: &WorkspaceName) -> Result<Self> {
        Ok(Self {
            services: services::list(ctx, ws).await?,
            networks: networks::of_workspace(ctx, ws).await?,
        })
    }

    /// Adds "services" and "networks" to `berth status --json`'s object.
    pub fn add_json(&self, v: &mut serde_json::Value) -> Result<()> {
        v["services"] = serde_json::to_value(&self.services)?;
        v["networks"] = serde_json::to_value(&self.networks)?;
        Ok(())
    }

    /// Lines for `berth status`, in its `key value` layout.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let services: Vec<String> = self
            .services
            .iter()
            .map(|v| {
                let ports = if v.ports.is_empty() {
                    String::new()
                } else {
                    format!(", ports {}", v.ports.join(","))
                };
                format!("{} ({}, {}{ports})", v.name, v.state, v.image)
            })
            .collect();
        if !services.is_empty() {
            s.push_str(&format!("{:<10} {}\n", "services", services.join("; ")));
        }
        if !self.networks.is_empty() {
            s.push_str(&format!(
                "{:<10} {}\n",
                "networks",
                self.networks.join(", ")
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_status_lines_name_each_service() {
        let t = table(["A", "LONGER"], &[["xyz".into(), "1".into()]]);
        assert_eq!(t, "A    LONGER\nxyz  1\n");
        let extra = StatusExtra {
            services: vec![ServiceView {
                name: "db".into(),
                container: "workspace-w.db".into(),
                image: "postgres:16".into(),
                state: "running".into(),
                ports: vec!["5433:5432".into()],
                networks: vec!["workspace-w".into()],
            }],
            networks: vec!["team".into()],
        };
        assert_eq!(
            extra.text(),
            "services   db (running, postgres:16, ports 5433:5432)\nnetworks   team\n"
        );
        let mut v = serde_json::json!({});
        extra.add_json(&mut v).unwrap();
        assert_eq!(v["services"][0]["name"], "db");
        assert_eq!(v["networks"][0], "team");
    }
}
