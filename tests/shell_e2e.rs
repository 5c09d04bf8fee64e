//! A real shell inside the TUI, in a real terminal (tmux), on a real workspace.
mod common;
#[path = "common/tmux.rs"]
mod tmux;
use common::*;
use tmux::Tmux;

/// The filter is applied and the list shows a running row.
fn listed_running(screen: &str, name: &str) -> bool {
    screen.contains(&format!("filter: {name})"))
        && !screen.contains("(enter: apply")
        && screen
            .lines()
            .any(|l| l.starts_with("│● ") && l.contains("running"))
}

/// Starts berth in tmux and filters the list down to `name` (after the first frame,
/// so the keys reach a terminal already in raw mode).
fn open_on(sb: &Sandbox, tag: &str, name: &str) -> Tmux {
    let t = Tmux::start(tag, 120, 36, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    t.keys(&["/"]);
    t.text(name);
    t.keys(&["Enter"]);
    t.wait_for("the workspace listed", 20, |s| listed_running(s, name));
    t
}

/// Lines inside the shell pane (between its side borders).
fn shell_lines(screen: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for l in screen.lines() {
        if l.starts_with("┌ shell:") {
            inside = true;
            continue;
        }
        if inside {
            if l.starts_with('└') {
                break;
            }
            out.push(
                l.trim_start_matches('│')
                    .trim_end()
                    .trim_end_matches('│')
                    .trim_end()
                    .to_string(),
            );
        }
    }
    out
}

#[test]
fn shell_in_a_pane_runs_commands_vi_resizes_and_exits() {
    let Some(sb) = Sandbox::new("shell", (2800, 2804)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    let t = open_on(&sb, "shell", &name);

    // Enter opens a shell tab; the list and logs stay live above it.
    t.keys(&["Enter"]);
    let prompt = format!("workspace@{name}");
    t.wait_for("the prompt", 30, |s| {
        s.contains(&prompt) && s.contains("┌ shell:")
    });
    t.text("echo $((6*7))");
    t.keys(&["Enter"]);
    t.wait_for("the command's output", 10, |s| {
        shell_lines(s).iter().any(|l| l == "42")
    });
    assert!(
        t.screen().contains("Workspaces ("),
        "the panes stay on screen"
    );

    // Keys that the panes would take go to the shell: q, Tab, ctrl-c.
    t.text("echo q-went-through");
    t.keys(&["Enter"]);
    t.wait_for("q typed into the shell", 10, |s| {
        shell_lines(s).iter().any(|l| l == "q-went-through")
    });
    t.text("sleep 100");
    t.keys(&["Enter"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    t.keys(&["C-c"]);
    t.text("echo after-ctrl-c");
    t.keys(&["Enter"]);
    t.wait_for("ctrl-c interrupted sleep", 10, |s| {
        shell_lines(s).iter().any(|l| l == "after-ctrl-c")
    });

    // A full-screen program: vi, in the alternate screen, and back.
    t.text("vi /tmp/e2e.txt");
    t.keys(&["Enter"]);
    t.wait_for("vi's empty buffer", 10, |s| {
        shell_lines(s).iter().filter(|l| l.as_str() == "~").count() > 3
    });
    t.keys(&["i"]);
    t.text("written-in-vi");
    t.keys(&["Escape"]);
    t.text(":wq");
    t.keys(&["Enter"]);
    t.wait_for("vi gone", 10, |s| !shell_lines(s).iter().any(|l| l == "~"));
    t.text("cat /tmp/e2e.txt");
    t.keys(&["Enter"]);
    t.wait_for("the file vi wrote", 10, |s| {
        shell_lines(s).iter().any(|l| l == "written-in-vi")
    });

    // Binary and control-heavy output does not stall the pane: every byte but
    // ESC (so nothing opens a sequence that swallows the reset), over and over,
    // with wide, combining and invalid UTF-8 among it (~265 kB). Fixed bytes, not
    // random ones: random bytes can hold code points whose width tmux's table and
    // berth's disagree on, which leaves a stray cell on tmux's screen.
    t.text(
        r#"b=$(printf "%b" "$(printf '\\0%03o' $(seq 1 26) $(seq 28 255))"); for i in $(seq 1000); do printf '%s\346\274\242e\314\201\360\237\230\200\377' "$b"; done; printf '\017\033c'; echo after-binary"#,
    );
    t.keys(&["Enter"]);
    t.wait_for("text after binary output", 30, |s| {
        shell_lines(s).iter().any(|l| l.starts_with("after-binary"))
    });

    // Resizing the outer terminal resizes the remote PTY.
    t.text("clear; stty size");
    t.keys(&["Enter"]);
    let s = t.wait_for("stty size", 10, |s| {
        shell_lines(s).iter().any(|l| l.ends_with(" 118"))
    });
    let before = shell_lines(&s)
        .into_iter()
        .find(|l| l.ends_with(" 118"))
        .unwrap();
    t.resize(100, 30);
    std::thread::sleep(std::time::Duration::from_millis(500));
    t.text("clear; stty size");
    t.keys(&["Enter"]);
    let s = t.wait_for("stty size after resize", 10, |s| {
        shell_lines(s).iter().any(|l| l.ends_with(" 98"))
    });
    let after = shell_lines(&s)
        .into_iter()
        .find(|l| l.ends_with(" 98"))
        .unwrap();
    assert_ne!(before, after);

    // Full screen and back changes the size too.
    t.keys(&["M-Enter"]);
    t.text("clear; stty size");
    t.keys(&["Enter"]);
    t.wait_for("full-screen size", 10, |s| {
        shell_lines(s).iter().any(|l| l == "27 98")
    });
    t.keys(&["M-Enter"]);

    // Exit closes the tab and shows the status.
    t.text("exit 3");
    t.keys(&["Enter"]);
    let s = t.wait_for("the tab closed", 15, |s| !s.contains("┌ shell:"));
    assert!(s.contains("exited with status 3"), "{s}");
    t.keys(&["q"]);
    t.wait_for("berth exits", 10, |s| s.contains("berth-exit=0"));
}

#[test]
fn stopping_the_workspace_disconnects_and_r_reconnects() {
    let Some(sb) = Sandbox::new("shelldc", (2805, 2809)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    let t = open_on(&sb, "shelldc", &name);
    t.keys(&["Enter"]);
    t.wait_for("the prompt", 30, |s| {
        s.contains(&format!("workspace@{name}"))
    });
    t.text("echo one > ~/state.txt");
    t.keys(&["Enter"]);
    sb.ok(&["stop", &name]);
    t.wait_for("disconnected", 30, |s| {
        s.contains("disconnected: the workspace stopped")
    });
    sb.ok(&["start", &name]);
    t.keys(&["r"]);
    t.wait_for("a new prompt", 30, |s| {
        s.contains(&format!("workspace@{name}")) && !s.contains("disconnected")
    });
    t.text("cat ~/state.txt");
    t.keys(&["Enter"]);
    t.wait_for("the file from before the stop", 10, |s| {
        shell_lines(s).iter().any(|l| l == "one")
    });
    // ctrl-] leaves the shell; q then quits berth (it would have gone to the shell).
    t.keys(&["C-]"]);
    t.keys(&["q"]);
    t.wait_for("berth exits", 10, |s| s.contains("berth-exit=0"));
}
