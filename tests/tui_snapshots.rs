//! Snapshot tests of every pane and the whole screen on ratatui's TestBackend:
//! 80x24 and 160x48, several themes, long names and empty states.
use berth::backend::service::{Event, JobUpdate};
use berth::backend::Progress;
use berth::domain::workspace::WorkspaceState;
use berth::tui::update::{update, Msg};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[path = "tui_snapshots/screen.rs"]
mod screen;

use screen::{chars, draw, key, populated, state, styled, text, ws};

#[test]
fn whole_screen_80x24_default() {
    insta::assert_snapshot!(styled(&populated("default", 80, 24)));
}

#[test]
fn whole_screen_80x24_light() {
    insta::assert_snapshot!(styled(&populated("light", 80, 24)));
}

#[test]
fn whole_screen_160x48_default() {
    insta::assert_snapshot!(text(&populated("default", 160, 48)));
}

#[test]
fn whole_screen_160x48_high_contrast() {
    insta::assert_snapshot!(styled(&populated("high-contrast", 160, 48)));
}

#[test]
fn no_color_keeps_emphasis_without_colours() {
    let mut s = populated("default", 80, 24);
    for t in &mut s.themes {
        t.no_color = true;
    }
    let out = styled(&s);
    assert!(!out.contains("Rgb("), "NO_COLOR drew a colour");
    insta::assert_snapshot!(out);
}

#[test]
fn empty_states() {
    let mut s = state("default");
    update(&mut s, Msg::Resize(80, 24));
    update(&mut s, Msg::Backend(Event::Workspaces(vec![])));
    insta::assert_snapshot!("empty_80x24", text(&s));
    update(&mut s, Msg::Resize(160, 48));
    insta::assert_snapshot!("empty_160x48", text(&s));
}

#[test]
fn long_names_are_cut_not_wrapped() {
    let mut s = state("default");
    update(&mut s, Msg::Resize(80, 24));
    let long = "a-very-long-workspace-name-that-goes-on-and-on-to-sixty-three-c";
    assert_eq!(long.len(), 63);
    update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![
            ws(long, WorkspaceState::Running, 2200),
            ws("b", WorkspaceState::Stopped, 2201),
        ])),
    );
    insta::assert_snapshot!("long_names_80x24", text(&s));
    update(&mut s, Msg::Resize(160, 48));
    insta::assert_snapshot!("long_names_160x48", text(&s));
}

#[test]
fn status_pane_when_focused_on_a_narrow_terminal() {
    let mut s = populated("default", 80, 24);
    key(&mut s, KeyCode::Tab);
    insta::assert_snapshot!(text(&s));
}

#[test]
fn logs_pane_with_search_and_timestamps() {
    let mut s = populated("default", 120, 30);
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Char('/'));
    chars(&mut s, "error");
    insta::assert_snapshot!("logs_search_typing", text(&s));
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('t'));
    insta::assert_snapshot!("logs_search_found", styled(&s));
}

#[test]
fn create_form_empty_and_with_errors() {
    let mut s = populated("default", 100, 30);
    key(&mut s, KeyCode::Char('c'));
    insta::assert_snapshot!("form_empty", text(&s));
    chars(&mut s, "Bad_Name");
    key(&mut s, KeyCode::Enter);
    insta::assert_snapshot!("form_errors", text(&s));
}

#[test]
fn create_form_choices_profile_passthrough_and_dotfiles() {
    let mut s = populated("default", 100, 30);
    key(&mut s, KeyCode::Char('c'));
    chars(&mut s, "api");
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Right);
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Left);
    key(&mut s, KeyCode::Tab);
    chars(&mut s, "https://example.com/me/dots.git");
    key(&mut s, KeyCode::BackTab);
    insta::assert_snapshot!("form_choices", text(&s));
}

#[test]
fn copy_form_empty_then_filled_out_of_the_workspace() {
    let mut s = populated("default", 100, 30);
    key(&mut s, KeyCode::Char('C'));
    key(&mut s, KeyCode::Enter);
    insta::assert_snapshot!("copy_form_empty", text(&s));
    chars(&mut s, "/tmp/backup");
    key(&mut s, KeyCode::Tab);
    chars(&mut s, "repo/.");
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Right);
    insta::assert_snapshot!("copy_form_out", text(&s));
}

#[test]
fn delete_confirmation_names_what_is_lost() {
    let mut s = populated("default", 100, 30);
    key(&mut s, KeyCode::Char('d'));
    insta::assert_snapshot!("confirm_asking", text(&s));
    // The backend's answer: its services and sidecars, and their volumes.
    update(
        &mut s,
        Msg::Backend(Event::DeletePlan {
            name: "api".into(),
            owned: Ok(berth::backend::sidecars::Owned {
                sidecars: vec![
                    ("db".into(), "workspace-api.db".into()),
                    ("egress".into(), "workspace-api.egress".into()),
                ],
                volumes: vec!["workspace-api.docker".into()],
                networks: vec!["workspace-api".into()],
            }),
        }),
    );
    insta::assert_snapshot!("confirm_drop_volume", text(&s));
    key(&mut s, KeyCode::Char('k'));
    insta::assert_snapshot!("confirm_keep_volume", text(&s));
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut s = populated("default", 100, 40);
    key(&mut s, KeyCode::Char('?'));
    insta::assert_snapshot!(text(&s));
    // Every mode is listed, the shell's reserved chords included (scroll to the end).
    let mut shell_keys = false;
    for _ in 0..200 {
        key(&mut s, KeyCode::Char('j'));
        let t = text(&s);
        shell_keys |= t.contains("shell keys") && t.contains("ctrl-]") && t.contains("alt-enter");
    }
    assert!(shell_keys, "the shell's keys were never on screen");
    let end = text(&s);
    assert!(end.contains("mcp keys") && end.contains("esc/q/M"), "{end}");
}

#[test]
fn engine_down_banner_and_jobs() {
    let mut s = populated("default", 100, 30);
    key(&mut s, KeyCode::Char('j'));
    key(&mut s, KeyCode::Char('x'));
    let step = Progress::StepStarted {
        index: 3,
        total: 7,
        label: "container".into(),
        description: "create the container".into(),
    };
    update(
        &mut s,
        Msg::Backend(Event::Job {
            job: 1,
            update: JobUpdate::Progress(step),
        }),
    );
    key(&mut s, KeyCode::Char('r'));
    update(
        &mut s,
        Msg::Backend(Event::Job {
            job: 2,
            update: JobUpdate::Failed("the engine said no".into()),
        }),
    );
    update(
        &mut s,
        Msg::Backend(Event::Disconnected {
            endpoint: "unix:///var/run/docker.sock".into(),
            reason: "cannot reach the container engine at unix:///var/run/docker.sock (connection refused)".into(),
            retry_in: std::time::Duration::from_secs(2),
        }),
    );
    insta::assert_snapshot!(styled(&s));
}

#[test]
fn shell_tab_replaying_vim_then_disconnected() {
    use berth::terminal::session::SessionEvent;
    let mut s = populated("default", 100, 36);
    key(&mut s, KeyCode::Enter);
    update(
        &mut s,
        Msg::Backend(Event::ShellReady {
            id: 1,
            argv: vec!["ssh".into()],
            env: vec![],
        }),
    );
    let vim = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vim.bin.typed"
    ))
    .unwrap();
    update(
        &mut s,
        Msg::Shell {
            id: 1,
            event: SessionEvent::Output(vim),
        },
    );
    insta::assert_snapshot!("shell_vim", text(&s));
    // No glyph marks the cursor: the outer terminal's own cursor sits after "typed in vim".
    draw(&s).backend_mut().assert_cursor_position((13, 20));
    update(
        &mut s,
        Msg::Shell {
            id: 1,
            event: SessionEvent::Exited(Some(255)),
        },
    );
    insta::assert_snapshot!("shell_disconnected", text(&s));
}

#[test]
fn unfinished_workspaces_are_never_shown_healthy() {
    use berth::domain::provision::Provision;
    let mut s = populated("default", 120, 30);
    let mut killed = ws("half-made", WorkspaceState::Running, 2205);
    killed.provision = Provision::Incomplete {
        step: Some("post-start".into()),
        index: 9,
        total: 10,
    };
    let mut busy = ws("in-progress", WorkspaceState::Running, 2206);
    busy.provision = Provision::Provisioning {
        step: "clone".into(),
        index: 8,
        total: 10,
        pid: 4242,
    };
    let mut list = s.workspaces.clone();
    list.extend([killed, busy]);
    update(&mut s, Msg::Backend(Event::Workspaces(list)));
    while s.selected.as_deref() != Some("half-made") {
        key(&mut s, KeyCode::Char('j'));
    }
    let screen = text(&s);
    insta::assert_snapshot!(screen);
    let row = |n: &str| screen.lines().find(|l| l.contains(n)).unwrap().to_string();
    assert!(row("│⚠ half-made").contains("incomplete"), "{screen}");
    assert!(!row("│⚠ half-made").contains("running"), "{screen}");
    assert!(row("│⚠ in-progress").contains("provisioning"), "{screen}");
    assert!(
        screen.contains("post-start (9/10)"),
        "the status pane names the step: {screen}"
    );
}

#[test]
fn quit_with_running_jobs_asks_then_waits_for_them() {
    use berth::backend::service::Command;
    use berth::tui::state::Effect;
    let mut s = populated("default", 100, 30);
    key(&mut s, KeyCode::Char('x'));
    key(&mut s, KeyCode::Char('q'));
    assert!(!s.quit, "q with a running job asks first");
    insta::assert_snapshot!("quit_asks", text(&s));
    let fx = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)),
    );
    assert_eq!(fx, vec![Effect::Backend(Command::CancelJobs)]);
    assert!(text(&s).contains("waiting for them to roll back"));
    // Other keys wait; the job's end lets berth quit.
    let fx = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
    );
    assert!(fx.is_empty() && !s.quit);
    let fx = update(
        &mut s,
        Msg::Backend(Event::Job {
            job: 1,
            update: JobUpdate::Failed("cancelled".into()),
        }),
    );
    assert_eq!(fx, vec![Effect::Quit]);
    assert!(s.quit);
}

#[test]
fn the_status_pane_names_a_workspaces_platform() {
    let mut s = state("default");
    update(&mut s, Msg::Resize(160, 48));
    let mut arm = ws("arm", WorkspaceState::Running, 2200);
    arm.platform = Some("linux/arm64".into());
    arm.image = "berth/workspace:latest-arm64".into();
    update(&mut s, Msg::Backend(Event::Workspaces(vec![arm])));
    let screen = text(&s);
    assert!(
        screen.contains("image      berth/workspace:latest-arm64 (linux/arm64)"),
        "{screen}"
    );
}

#[test]
fn status_pane_names_a_privileged_docker_sidecar() {
    let mut s = state("default");
    update(&mut s, Msg::Resize(120, 30));
    let mut w = ws("builder", WorkspaceState::Running, 2201);
    w.labels.insert(
        berth::domain::dind::LABEL.into(),
        "workspace-builder.docker".into(),
    );
    update(&mut s, Msg::Backend(Event::Workspaces(vec![w])));
    key(&mut s, KeyCode::Tab);
    let screen = text(&s);
    assert!(
        screen.contains("PRIVILEGED") && screen.contains("workspace-builder.docker"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn the_list_and_status_pane_show_each_workspaces_network_profile() {
    let mut s = state("default");
    update(&mut s, Msg::Resize(120, 30));
    let profiled = |name: &str, port: Option<u16>, profile: &str| {
        let mut w = ws(name, WorkspaceState::Running, 2201);
        w.ssh_port = port;
        w.labels.insert(
            berth::domain::net_profile::LABEL.into(),
            profile.to_string(),
        );
        w
    };
    update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![
            profiled("airgap", None, "offline"),
            profiled("sandboxed", Some(2201), "isolated"),
            profiled("shared", Some(2202), "open"),
        ])),
    );
    let screen = text(&s);
    let row = |n: &str| screen.lines().find(|l| l.contains(n)).unwrap().to_string();
    assert!(
        row("● airgap").contains("exec") && row("● airgap").contains("offline"),
        "{screen}"
    );
    assert!(row("● sandboxed").contains("isolated"), "{screen}");
    assert!(row("● shared").contains("open"), "{screen}");
    assert!(
        screen.contains("through the engine") && screen.contains("no network (only lo)"),
        "the status pane of the offline one says how ssh gets in: {screen}"
    );
}

#[test]
fn status_pane_says_where_the_logs_go() {
    let mut s = state("default");
    update(&mut s, Msg::Resize(120, 30));
    let mut w = ws("shipper", WorkspaceState::Running, 2202);
    w.labels.insert(
        berth::domain::log_forward::LABEL.into(),
        "syslog+udp://127.0.0.1:514".into(),
    );
    update(&mut s, Msg::Backend(Event::Workspaces(vec![w])));
    let screen = text(&s);
    assert!(
        screen.contains("logs       → syslog+udp://127.0.0.1:514")
            && screen.contains("(sidecar workspace-shipper.logs)"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn status_pane_says_how_a_proxy_workspace_gets_out() {
    let mut s = state("default");
    update(&mut s, Msg::Resize(160, 40));
    let mut w = ws("agent", WorkspaceState::Running, 2202);
    w.labels
        .insert(berth::domain::net_profile::LABEL.into(), "proxy".into());
    w.labels.insert(
        berth::domain::proxy::ALLOW_LABEL.into(),
        "deb.debian.org,.pypi.org".into(),
    );
    update(&mut s, Msg::Backend(Event::Workspaces(vec![w])));
    key(&mut s, KeyCode::Tab);
    let screen = text(&s);
    assert!(
        screen.contains("egress     via workspace-agent.proxy")
            && screen.contains("deb.debian.org, .pypi.org"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}
