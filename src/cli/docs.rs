//! Commands about berth itself: `config path|show`, `completions`, `man`.
use super::args::{Cli, CompletionShell, ConfigAction};
use crate::config::{Config, Paths};
use crate::tui::keymap::Keymap;
use anyhow::{bail, Result};
use clap::CommandFactory;
use std::io::Write;

pub fn config(paths: &Paths, config: &Config, action: ConfigAction) -> Result<i32> {
    match action {
        ConfigAction::Path { json } => {
            if json {
                let v = serde_json::json!({
                    "path": paths.config_file,
                    "exists": paths.config_file.exists(),
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("{}", paths.config_file.display());
            }
        }
        ConfigAction::Show { json } => {
            let file = paths.config_file.display().to_string();
            let (keymap, errors) = Keymap::with_user(&config.keys, &file);
            if let Some(e) = errors.first() {
                bail!("{e}");
            }
            if json {
                let mut v = config.to_json();
                v["keys"] = keymap.to_json();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}{}", config.to_toml(), keymap.to_toml());
            }
        }
    }
    Ok(0)
}

pub fn completions(shell: CompletionShell) -> Result<i32> {
    let shell = match shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "berth", &mut out);
    out.flush()?;
    Ok(0)
}

/// roff for berth(1), or for one command (`berth-create(1)`).
pub fn man_page(command: Option<&str>) -> Result<Vec<u8>> {
    let root = Cli::command();
    let cmd = match command {
        None => root,
        Some(name) => {
            let Some(sub) = root.find_subcommand(name).cloned() else {
                let names: Vec<String> = root
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .collect();
                bail!(
                    "berth has no command {name:?}; the commands are {}",
                    names.join(", ")
                );
            };
            sub.name(format!("berth-{name}"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    Ok(out)
}

pub fn man(command: Option<&str>) -> Result<i32> {
    let page = man_page(command)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_man_page_documents_every_command() {
        let page = String::from_utf8(man_page(None).unwrap()).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH berth 1"),
            "{page}"
        );
        for c in [
            "create",
            "list",
            "delete",
            "exec",
            "hint",
            "completions",
            "man",
        ] {
            assert!(page.contains(c), "{c} missing");
        }
        let create = String::from_utf8(man_page(Some("create")).unwrap()).unwrap();
        assert!(
            create.contains("berth\\-create") && create.contains("post\\-start"),
            "{create}"
        );
        let err = man_page(Some("fly")).unwrap_err().to_string();
        assert!(
            err.contains("no command \"fly\"") && err.contains("create"),
            "{err}"
        );
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
