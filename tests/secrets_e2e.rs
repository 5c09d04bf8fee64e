//! What a user types or passes never lands in berth's log, even at debug level:
//! shell input in the TUI, `exec -e K=V` values, post-start scripts.
mod common;
#[path = "common/tmux.rs"]
mod tmux;
use common::*;
use tmux::Tmux;

const TYPED: &str = "typed-secret-7f3a9c";
const ENV_VALUE: &str = "env-secret-51bd02";
const SCRIPT: &str = "script-secret-c0ffee";

fn log_text(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.state_dir().join("berth.log")).unwrap_or_default()
}

#[test]
fn debug_logs_hold_no_typed_input_env_values_or_scripts() {
    let Some(sb) = Sandbox::new("secrets", (2940, 2944)) else {
        return;
    };
    let name = sb.name("a");
    let mut c = sb.cmd(&[
        "create",
        &name,
        "--ssh-key",
        &format!("{}.pub", sb.key().display()),
        "--post-start",
        &format!("echo {SCRIPT} > /dev/null"),
        "--json",
    ]);
    c.env("BERTH_LOG", "debug");
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut c = sb.cmd(&[
        "exec",
        &name,
        "-e",
        &format!("TOKEN={ENV_VALUE}"),
        "--",
        "true",
    ]);
    c.env("BERTH_LOG", "debug");
    assert!(c.output().unwrap().status.success());

    // Type into a shell tab with debug logging on.
    let cmd = format!("BERTH_LOG=debug {}", sb.tui_command());
    let t = Tmux::start("secrets", 120, 36, &cmd);
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    t.keys(&["/"]);
    t.text(&name);
    t.keys(&["Enter"]);
    t.wait_for("the workspace listed", 20, |s| s.contains("running"));
    t.keys(&["Enter"]);
    t.wait_for("the prompt", 30, |s| {
        s.contains(&format!("workspace@{name}"))
    });
    t.text(&format!("echo {TYPED} | tr a-z A-Z"));
    t.keys(&["Enter"]);
    t.wait_for("the shell's answer", 10, |s| {
        s.contains(&TYPED.to_uppercase())
    });
    t.keys(&["C-]"]);
    t.keys(&["q"]);
    t.wait_for("berth to exit", 10, |s| s.contains("berth-exit="));

    let log = log_text(&sb);
    assert!(log.contains("DEBUG"), "debug logging was on: {log}");
    for secret in [TYPED, ENV_VALUE, SCRIPT] {
        assert!(!log.contains(secret), "{secret} is in berth.log:\n{log}");
    }
}
