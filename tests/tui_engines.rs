//! The TUI over three engines in a real terminal (tmux): the default dockerd and
//! two more started by the test (`common::dockerd`). A workspace on each shows
//! with its engine; one extra dockerd killed by its PID while the TUI shows all
//! three: its workspace turns unknown under its banner, while a workspace created
//! on another engine (from the CLI) still appears live. Everything is stopped by
//! PID and removed when the test ends (the extra engines with their data-root).
mod common;
#[path = "common/tmux.rs"]
mod tmux;
use common::dockerd::ExtraDockerd;
use common::*;
use tmux::Tmux;

fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    tmux::list_row(screen, name)
}

fn row_has(screen: &str, name: &str, words: &[&str]) -> bool {
    row(screen, name).is_some_and(|r| words.iter().all(|w| r.contains(w)))
}

#[test]
fn three_engines_one_killed_the_others_stay_live() {
    // (Each binary its own subnets, 241-242; SSH ports from 4120-4159.)
    let Some(mut build) = ExtraDockerd::start("tbld", 241, None) else {
        return;
    };
    let Some(gpu) = ExtraDockerd::start("tgpu", 242, None) else {
        return;
    };
    for e in [&build, &gpu] {
        e.load_images(&["berth/workspace:latest"]);
    }
    let engines = format!("{}\n{}", build.config("build"), gpu.config("gpu"));
    let Some(sb) = Sandbox::with_config("tuieng", (4120, 4159), &engines) else {
        return;
    };
    let (on_default, on_build, on_gpu, later) =
        (sb.name("d"), sb.name("b"), sb.name("g"), sb.name("late"));
    sb.create_ok(&on_default, &[]);
    sb.create_ok(&on_build, &["--engine", "build"]);
    sb.create_ok(&on_gpu, &["--engine", "gpu"]);
    assert!(build
        .docker(&["inspect", &format!("workspace-{on_build}")])
        .status
        .success());

    let t = Tmux::start("engines", 150, 36, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    // Only this test's workspaces (the default engine is shared).
    t.keys(&["/"]);
    t.text(&sb.name(""));
    t.keys(&["Enter"]);
    let s = t.wait_for("a workspace on each engine, with its engine", 60, |s| {
        s.contains("ENGINE")
            && row_has(s, &on_default, &["default", "running"])
            && row_has(s, &on_build, &["build", "running"])
            && row_has(s, &on_gpu, &["gpu", "running"])
    });
    assert!(s.contains("3/3 engines up"), "{s}");

    // The build engine dies (SIGKILL by PID): its workspace goes unknown under
    // its banner, the others stay live.
    build.kill();
    t.wait_for("build's banner and its workspace unknown", 60, |s| {
        s.contains("engine build: unreachable")
            && row_has(s, &on_build, &["build", "unknown"])
            && row_has(s, &on_default, &["default", "running"])
            && row_has(s, &on_gpu, &["gpu", "running"])
    });
    // A workspace created on gpu from the CLI meanwhile appears live.
    sb.create_ok(&later, &["--engine", "gpu"]);
    let s = t.wait_for("the new workspace on gpu, live", 60, |s| {
        row_has(s, &later, &["gpu", "running"])
    });
    assert!(row_has(&s, &on_build, &["unknown"]), "{s}");
    assert!(s.contains("2/3 engines up"), "{s}");

    // The picker shows each engine's state and narrows the list to one.
    t.keys(&["e"]);
    t.wait_for("the picker", 10, |s| {
        s.contains(" Engines ") && s.contains("✖ unreachable")
    });
    t.keys(&["Down", "Down", "Down", "Enter"]);
    let s = t.wait_for("only gpu's workspaces", 10, |s| {
        row(s, &on_gpu).is_some() && row(s, &on_default).is_none()
    });
    assert!(row(&s, &on_build).is_none(), "{s}");

    t.keys(&["q"]);
    t.wait_for("berth to exit", 20, |s| s.contains("berth-exit=0"));
    // A workspace on gpu is deleted through berth; the rest go with the engines.
    sb.ok(&["delete", &later, "--yes", "--engine", "gpu"]);
    assert!(!gpu
        .docker(&["inspect", &format!("workspace-{later}")])
        .status
        .success());
    // Neither the killed engine nor the stopped one leaves anything on the host.
    assert_eq!(build.shut_down(), Vec::<String>::new());
    assert_eq!(gpu.shut_down(), Vec::<String>::new());
}
