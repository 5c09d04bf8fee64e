//! `berth hint NAME`: how to connect, as commands to paste.
use crate::backend::{hint, Ctx};
use crate::domain::naming::WorkspaceName;
use anyhow::Result;

pub async fn run(ctx: &Ctx, name: &WorkspaceName, json: bool) -> Result<i32> {
    let h = hint::hint(ctx, name).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&h)?);
        return Ok(0);
    }
    print!("{}", text(&h));
    Ok(0)
}

fn text(h: &hint::Hint) -> String {
    let mut s = String::from("Connect with:\n");
    s.push_str(&format!(
        "  {:<44} # after `berth ssh-config` wrote the alias\n",
        h.command
    ));
    s.push_str(&format!(
        "  {:<44} # berth's own ssh (pinned host key)\n",
        h.berth
    ));
    if let Some(d) = &h.docker {
        s.push_str(&format!("  {d:<44} # through the engine\n"));
    }
    s.push_str(&format!("Login shell: {}\n", h.shell));
    if let Some(w) = &h.workdir {
        s.push_str(&format!("Default directory: {w}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_lists_every_command() {
        let n = crate::domain::naming::WorkspaceName::parse("api").unwrap();
        let t = super::text(&crate::backend::hint::hint_for(&n, "/bin/bash", None));
        for want in [
            "ssh berth-api",
            "berth ssh api",
            "docker exec -it -u workspace workspace-api bash -l",
            "Login shell: /bin/bash",
        ] {
            assert!(t.contains(want), "{want} missing:\n{t}");
        }
    }
}
