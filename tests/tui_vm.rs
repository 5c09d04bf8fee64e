//! The TUI with a VM workspace (`--provider vm`, real QEMU) in a real terminal
//! (tmux): listed with its PROVIDER, and Enter on its row opens a shell in the
//! guest (its own kernel's release, a command's output). Ports 4260-4269; the
//! VM goes with the sandbox (deleted through berth, any QEMU left killed by pid).
mod common;
#[path = "common/tmux.rs"]
mod tmux;
use common::vm;
use common::*;
use tmux::Tmux;

/// Whether a line of the screen, without the panes' borders, is exactly `want`.
fn has_line(screen: &str, want: &str) -> bool {
    screen
        .lines()
        .any(|l| l.trim_matches(|c: char| c == '│' || c.is_whitespace()) == want)
}

#[test]
fn the_tui_lists_a_vm_with_its_provider_and_opens_a_shell_in_it() {
    let _turn = vm::turn();
    let Some(sb) = Sandbox::new("tuivm", (4260, 4269)) else {
        return;
    };
    let name = sb.name("v");
    sb.create_ok(
        &name,
        &["--provider", "vm", "--net-profile", "open", "--disk", "1g"],
    );
    let guest_release = sb
        .ok(&["exec", &name, "--", "uname", "-r"])
        .trim()
        .to_string();
    assert!(!guest_release.is_empty());

    let t = Tmux::start("vm", 150, 40, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    t.keys(&["/"]);
    t.text(&name);
    t.keys(&["Enter"]);
    let s = t.wait_for("the VM's row with its provider", 60, |s| {
        s.contains("PROVIDER")
            && tmux::list_row(s, &name).is_some_and(|r| {
                r.contains("running") && r.split_whitespace().any(|c| c.starts_with("vm/"))
            })
    });
    assert!(s.contains("PROVIDER"), "{s}");

    // Enter on the row: a shell in the guest.
    t.keys(&["Enter"]);
    t.wait_for("the guest's prompt", 60, |s| {
        s.contains(&format!("workspace@{name}")) && s.contains("┌ shell:")
    });
    t.text("uname -r; echo marker-$((6*7))");
    t.keys(&["Enter"]);
    t.wait_for("the guest kernel's release and the marker", 30, |s| {
        has_line(s, &guest_release) && has_line(s, "marker-42")
    });

    // Leave the shell, quit: the terminal is restored.
    t.text("exit");
    t.keys(&["Enter"]);
    t.wait_for("back on the list", 30, |s| !s.contains("┌ shell:"));
    t.keys(&["q"]);
    t.wait_for("berth to exit", 20, |s| s.contains("berth-exit=0"));
}
