//! The real binary in a real terminal (tmux) against the real engine.
mod common;
#[path = "common/tmux.rs"]
mod tmux;
use common::*;
use tmux::Tmux;

fn row_with<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    tmux::list_row(screen, name)
}

fn filter_to(t: &Tmux, name: &str) {
    t.keys(&["/"]);
    t.text(name);
    t.keys(&["Enter"]);
}

#[test]
fn create_stop_delete_through_the_tui() {
    let Some(sb) = Sandbox::new("tui", (2780, 2789)) else {
        return;
    };
    let name = sb.name("a");
    let t = Tmux::start("crud", 120, 36, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));

    // Create through the form, with inline validation first.
    t.keys(&["c"]);
    t.wait_for("the form", 5, |s| s.contains("Create workspace"));
    t.text("Bad_Name");
    t.keys(&["Enter"]);
    t.wait_for("the inline error", 5, |s| {
        s.contains("must start with a lowercase letter")
    });
    for _ in 0..8 {
        t.keys(&["BSpace"]);
    }
    t.text(&name);
    // Back from the name wraps to the last field, post-start.
    t.keys(&["BTab"]);
    t.text("echo provisioned-by-tui > ~/tui.txt");
    t.keys(&["Enter"]);
    filter_to(&t, &name);
    // Progress shows while it runs; the row turns running; the job reports success.
    t.wait_for("the create job's progress or result", 30, |s| {
        s.contains(&format!("create {name}")) || s.contains("✔ created")
    });
    t.wait_for("the workspace provisioned and running", 90, |s| {
        s.contains(&format!("✔ created {name}"))
            && row_with(s, &name).is_some_and(|r| r.contains("running"))
    });
    assert_eq!(
        sb.ok(&["exec", &name, "--", "cat", "/home/workspace/tui.txt"]),
        "provisioned-by-tui\n"
    );

    // Stop it.
    t.keys(&["x"]);
    t.wait_for("the workspace stopped", 60, |s| {
        row_with(s, &name).is_some_and(|r| r.contains("stopped"))
    });
    assert_eq!(sb.json(&["status", &name, "--json"])["state"], "stopped");

    // Delete through the confirmation, which names what is lost.
    t.keys(&["d"]);
    // `y` counts only once the dialog knows what goes with it (the TUI says "a
    // moment" before); the TUI's own jobs may keep the engine busy at first.
    t.wait_for("the confirmation", 30, |s| {
        s.contains("is DELETED: everything in")
            && s.contains("is lost")
            && !s.contains("Finding out which services")
    });
    t.keys(&["y"]);
    t.wait_for("the workspace gone", 60, |s| {
        row_with(s, &name).is_none() && s.contains("deleted")
    });
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));

    // Quit restores the terminal.
    t.keys(&["q"]);
    let s = t.wait_for("berth to exit", 10, |s| {
        s.contains("berth-exit=") && s.contains("icanon")
    });
    assert!(s.contains("berth-exit=0"), "{s}");
    assert!(
        s.lines().any(|l| l.trim() == "icanon"),
        "terminal left in raw mode:\n{s}"
    );
}

#[test]
fn logs_pane_shows_workspace_and_sidecar_lines() {
    let Some(sb) = Sandbox::new("tuilogs", (2790, 2794)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    // A sidecar of this workspace (as the sidecar issue will create them).
    let side = format!("workspace-{name}-proxy");
    let o = docker(&[
        "run",
        "-d",
        "--name",
        &side,
        "--label",
        &format!("berth.test-case={}", sb.case),
        "--label",
        "dev.berth.role=sidecar",
        "--label",
        &format!("dev.berth.name={name}"),
        "--label",
        "dev.berth.sidecar=proxy",
        "--entrypoint",
        "sh",
        "berth/workspace:latest",
        "-c",
        "while true; do echo proxy-says-hi; sleep 1; done",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let t = Tmux::start("logs", 140, 40, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    filter_to(&t, &name);
    t.wait_for("the logs pane following it", 20, |s| {
        s.contains(&format!("Logs: {name}"))
    });
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo hello-from-the-workspace > /proc/1/fd/1",
    ]);
    t.wait_for("the workspace's line", 20, |s| {
        s.contains("[workspace] hello-from-the-workspace")
    });
    t.wait_for("the sidecar's line, tagged", 20, |s| {
        s.contains("[proxy] proxy-says-hi")
    });
    // Search, then timestamps.
    t.keys(&["Tab", "Tab"]);
    t.keys(&["/"]);
    t.text("hello-from");
    t.keys(&["Enter"]);
    t.wait_for("search in the title", 5, |s| {
        s.contains("search: hello-from")
    });
    t.keys(&["t"]);
    t.wait_for("timestamps", 5, |s| {
        s.lines()
            .any(|l| l.contains("[workspace] hello-from") && l.contains(":"))
    });
    // A 100k-character line and a flood of lines do not freeze the UI.
    t.keys(&["Escape"]);
    sb.ok(&["exec", &name, "--", "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x > /proc/1/fd/1; echo > /proc/1/fd/1; seq 1 200000 > /proc/1/fd/1; echo flood-done > /proc/1/fd/1"]);
    t.wait_for("the end of the flood", 60, |s| {
        s.contains("[workspace] flood-done")
    });
    let started = std::time::Instant::now();
    t.keys(&["?"]);
    t.wait_for("help right after the flood", 10, |s| {
        s.contains("global keys")
    });
    assert!(started.elapsed().as_secs() < 10);
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait_for("exit", 10, |s| s.contains("berth-exit=0"));
}

#[test]
fn a_bad_config_is_shown_on_screen_and_the_defaults_run() {
    let Some(sb) = Sandbox::new("tuicfg", (2950, 2951)) else {
        return;
    };
    let good = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(
        sb.config_file(),
        format!("{good}\n[resources]\nmemory = \"lots\"\n"),
    )
    .unwrap();
    let t = Tmux::start("tuicfg", 120, 36, &sb.tui_command());
    let s = t.wait_for("the problem on screen", 20, |s| s.contains("Configuration"));
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("config.toml: line") && flat.contains("resources.memory"),
        "{s}"
    );
    assert!(flat.contains("defaults"), "{s}");
    // The key that dismisses it does nothing else (q would quit).
    t.keys(&["q"]);
    t.wait_for("the problem dismissed", 10, |s| {
        !s.contains("Configuration")
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(t.screen().contains("Workspaces ("), "still running");
    t.keys(&["q"]);
    let s = t.wait_for("berth to exit", 10, |s| s.contains("berth-exit="));
    assert!(s.contains("berth-exit=0"), "{s}");
}

#[test]
fn quitting_during_a_create_asks_then_waits_for_its_rollback() {
    let Some(sb) = Sandbox::new("tuiquit", (2952, 2954)) else {
        return;
    };
    let name = sb.name("a");
    let t = Tmux::start("tuiquit", 120, 36, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    t.keys(&["c"]);
    t.wait_for("the form", 5, |s| s.contains("Create workspace"));
    t.text(&name);
    // Back from the name wraps to the last field, post-start.
    t.keys(&["BTab"]);
    t.text("echo slow-post-start; sleep 120");
    t.keys(&["Enter"]);
    // The job's output line (not the form's text, which says the same words).
    t.wait_for("the post-start running", 60, |s| {
        !s.contains("Create workspace") && s.contains("· slow-post-start")
    });
    assert!(sb.container_exists(&name));
    t.keys(&["q"]);
    t.wait_for("the question", 5, |s| {
        s.contains("still running") && s.contains("create")
    });
    // n keeps working.
    t.keys(&["n"]);
    t.wait_for("the question gone", 5, |s| !s.contains("still running"));
    t.keys(&["q"]);
    t.wait_for("the question again", 5, |s| s.contains("still running"));
    t.keys(&["y"]);
    let s = t.wait_for("berth to exit after the rollback", 60, |s| {
        s.contains("berth-exit=")
    });
    assert!(s.contains("berth-exit=0"), "{s}");
    // The create was cancelled and rolled back: nothing is left, nothing incomplete.
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
    let list = sb.json(&["list", "--json"]);
    assert!(
        list.as_array().unwrap().iter().all(|w| w["name"] != name),
        "{list}"
    );
}
