//! What the agent-session tests share: a scripted agent (a shell script standing in
//! for an agent CLI) as a config entry, and host-side git.
use std::path::Path;
use std::process::{Command, Stdio};

fn base64(text: &str) -> String {
    let mut c = Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut c.stdin.take().unwrap(), text.as_bytes()).unwrap();
    String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap()
}

/// A config with `[agents.fake]`: `script` installed as /usr/local/bin/fake-agent in
/// its layer (over the clean profile), run as `fake-agent` and `fake-agent -p TEXT`.
pub fn agent_config(script: &str) -> String {
    format!(
        "[agents.fake]\nprofile = \"clean\"\ninstall = [\"echo {} | base64 -d > /usr/local/bin/fake-agent && chmod 755 /usr/local/bin/fake-agent\"]\ncommand = [\"fake-agent\"]\nprompt = [\"fake-agent\", \"-p\"]\n",
        base64(script)
    )
}

/// `git -C dir ARGS` on the host; panics with git's stderr when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}
