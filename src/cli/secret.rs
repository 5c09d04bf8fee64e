//! `berth secret set/ls/rm`: where a secret comes from is recorded; its value is
//! read when it is delivered, as the file /run/berth/secrets/NAME inside.
use crate::backend::secrets::{self, Delivery, SetRequest};
use crate::backend::{secret_files, Ctx};
use crate::domain::secrets::Source;
use anyhow::{bail, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum SecretAction {
    /// Set a secret (or set it again: running workspaces that use it get the new
    /// value at once, stopped ones when they start). With no --from-* flag the value
    /// is read from standard input, and kept only in this berth's memory.
    Set {
        /// The secret's name: its file is /run/berth/secrets/NAME.
        name: String,
        /// Only for this workspace (it gets it without asking). Without: a global
        /// secret, for workspaces created with `--secret NAME`.
        #[arg(long, value_name = "WS")]
        workspace: Option<String>,
        /// Read from this variable of the environment of the berth that delivers it.
        #[arg(long, value_name = "VAR", group = "source")]
        from_env: Option<String>,
        /// Read from this host file whenever it is delivered.
        #[arg(long, value_name = "PATH", group = "source")]
        from_file: Option<PathBuf>,
        /// Run `sh -c CMD` on the host whenever it is delivered (30 s at most); its
        /// output, one trailing newline trimmed.
        #[arg(long, value_name = "CMD", group = "source")]
        from_cmd: Option<String>,
        /// {secret, new, updated, waiting, failed, notes}.
        #[arg(long)]
        json: bool,
    },
    /// List secrets: name, scope, source (never a value) and who uses them.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Forget a secret; its file is removed from running workspaces.
    Rm {
        name: String,
        /// The secret set for this workspace (else the global one).
        #[arg(long, value_name = "WS")]
        workspace: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Ctx, action: SecretAction) -> Result<i32> {
    match action {
        SecretAction::Set {
            name,
            workspace,
            from_env,
            from_file,
            from_cmd,
            json,
        } => {
            let source = match (from_env, from_file, from_cmd) {
                (Some(v), _, _) => Source::Env(v),
                (_, Some(p), _) => Source::File(std::path::absolute(&p)?.display().to_string()),
                (_, _, Some(c)) => Source::Cmd(c),
                _ => Source::Stdin,
            };
            let value = match source {
                Source::Stdin => {
                    use std::io::IsTerminal;
                    if std::io::stdin().is_terminal() {
                        bail!("give the value on standard input (e.g. `printf %s \"$VALUE\" | berth secret set {name}`), or a source berth reads again: --from-env VAR, --from-file PATH or --from-cmd CMD");
                    }
                    Some(secret_files::read_stdin(&name).await?)
                }
                _ => None,
            };
            let req = SetRequest {
                name,
                workspace,
                source,
                value,
            };
            let d = secrets::set(ctx, req).await?;
            report(&d, json, "set")
        }
        SecretAction::Ls { json } => {
            // The secrets are this berth's; which workspaces use them is asked
            // of one engine.
            super::engine_note::say(ctx, "the workspaces using them");
            let list = secrets::list(ctx).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("No secrets. Set one with `berth secret set NAME --from-env VAR` (or --from-file, --from-cmd, or the value on standard input).");
            } else {
                let rows: Vec<[String; 5]> = list
                    .iter()
                    .map(|l| {
                        [
                            l.secret.name.clone(),
                            l.secret
                                .workspace
                                .clone()
                                .unwrap_or_else(|| "(global)".into()),
                            l.secret.source.to_string(),
                            when(l.secret.updated),
                            if l.used_by.is_empty() {
                                "-".into()
                            } else {
                                l.used_by.join(",")
                            },
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table(&["NAME", "WORKSPACE", "SOURCE", "SET", "USED BY"], &rows)
                );
            }
            Ok(0)
        }
        SecretAction::Rm {
            name,
            workspace,
            json,
        } => {
            let d = secrets::remove(ctx, &name, workspace.as_deref()).await?;
            report(&d, json, "rm")
        }
    }
}

fn when(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn table(head: &[&str; 5], rows: &[[String; 5]]) -> String {
    let mut w = head.map(str::len);
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  ", width = w[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(head.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// Prints what a set or a remove did; exit 1 when a running workspace missed it.
fn report(d: &Delivery, json: bool, verb: &str) -> Result<i32> {
    let code = i32::from(!d.failed.is_empty());
    if json {
        println!("{}", serde_json::to_string_pretty(d)?);
        return Ok(code);
    }
    let s = &d.secret;
    if verb == "set" {
        let how = if d.new { "set" } else { "set again" };
        println!("Secret {} {how} (from {}).", s.title(), s.source);
        if !d.updated.is_empty() {
            println!(
                "Delivered now to running workspace(s): {} (/run/berth/secrets/{}).",
                d.updated.join(", "),
                s.name
            );
        }
        if !d.waiting.is_empty() {
            println!(
                "Stopped workspace(s) that get it when they start: {}.",
                d.waiting.join(", ")
            );
        }
        if s.workspace.is_none() && d.updated.is_empty() && d.waiting.is_empty() {
            println!(
                "No workspace uses it yet: `berth create NAME --secret {}` makes one that does.",
                s.name
            );
        }
    } else {
        println!("Secret {} removed.", s.title());
        if !d.updated.is_empty() {
            println!(
                "Its file was removed from running workspace(s): {}.",
                d.updated.join(", ")
            );
        }
    }
    for n in &d.notes {
        eprintln!("note: {n}");
    }
    for f in &d.failed {
        eprintln!("berth: workspace {}: {}", f.workspace, f.reason);
    }
    Ok(code)
}
