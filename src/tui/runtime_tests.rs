//! Runtime health in the TUI: a report from the backend lands in the state, an
//! unhealthy runtime shows in a banner, the status bar and the status pane, and a
//! create refused for it says why.
use super::state::{Effect, State};
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::{Command, Event, JobUpdate};
use crate::domain::runtime::{self, Checked, Health, Report};
use crate::domain::workspace::WorkspaceState;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, Instant};

fn state() -> State {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = (110, 34);
    s.now = 10_000;
    let mut gv = ws("gvisor", WorkspaceState::Running, 2201);
    gv.runtime = Some("runsc".into());
    let mut plain = ws("plain", WorkspaceState::Running, 2200);
    plain.runtime = Some("runc".into());
    update(
        &mut s,
        Msg::Backend(Event::Connected {
            endpoint: "unix:///var/run/docker.sock".into(),
        }),
    );
    update(&mut s, Msg::Backend(Event::Workspaces(vec![gv, plain])));
    s
}

fn report(runsc: Health) -> Report {
    let at = Instant::now();
    let c = |name: &str, health: Health| Checked {
        runtime: name.into(),
        health,
        took: Duration::from_millis(350),
        at,
    };
    Report {
        default: "runc".into(),
        registered: vec!["runc".into(), "runsc".into()],
        checks: [
            ("runc".to_string(), c("runc", Health::Healthy)),
            ("runsc".to_string(), c("runsc", runsc)),
        ]
        .into(),
    }
}

fn sick() -> Health {
    runtime::judge(
        Some(1),
        false,
        "runsc: cannot create sandbox: permission denied\n",
    )
}

fn text(s: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    t.draw(|f| super::panes::draw(f, s)).unwrap();
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            let row: String = (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            row.trim_end().to_string() + "\n"
        })
        .collect()
}

fn select(s: &mut State, name: &str) {
    while s.selected.as_deref() != Some(name) {
        update(
            s,
            Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)),
        );
    }
}

#[test]
fn a_report_is_kept_and_an_unhealthy_runtime_raises_the_banner() {
    let mut s = state();
    assert!(s.runtimes.is_none() && !s.layout_flags().banner);
    assert!(update(
        &mut s,
        Msg::Backend(Event::Runtimes(report(Health::Healthy)))
    )
    .is_empty());
    assert!(!s.layout_flags().banner, "all healthy: no banner");
    update(&mut s, Msg::Backend(Event::Runtimes(report(sick()))));
    assert!(s.layout_flags().banner);
    assert!(s.runtime_banner().unwrap().contains("runsc is UNHEALTHY"));
    // Healthy again: the banner goes.
    update(
        &mut s,
        Msg::Backend(Event::Runtimes(report(Health::Healthy))),
    );
    assert!(!s.layout_flags().banner);
}

#[test]
fn healthy_runtimes_in_the_status_pane() {
    let mut s = state();
    update(
        &mut s,
        Msg::Backend(Event::Runtimes(report(Health::Healthy))),
    );
    select(&mut s, "plain");
    let t = text(&s);
    assert!(t.contains("runc (engine default) · healthy"), "{t}");
    insta::assert_snapshot!("runtime_plain_healthy", t);
}

#[test]
fn an_unhealthy_runtime_is_shown_plainly() {
    let mut s = state();
    update(&mut s, Msg::Backend(Event::Runtimes(report(sick()))));
    select(&mut s, "gvisor");
    let t = text(&s);
    assert!(t.contains("⚠ runtime runsc is UNHEALTHY"), "{t}");
    assert!(t.contains("runtime runsc unhealthy"), "status bar: {t}");
    insta::assert_snapshot!("runtime_unhealthy", t);
}

#[test]
fn a_create_refused_for_its_runtime_says_why() {
    let mut s = state();
    update(&mut s, Msg::Backend(Event::Runtimes(report(sick()))));
    let key = |s: &mut State, c: KeyCode| update(s, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    key(&mut s, KeyCode::Char('c'));
    for ch in "next".chars() {
        key(&mut s, KeyCode::Char(ch));
    }
    let fx = key(&mut s, KeyCode::Enter);
    let job = fx
        .iter()
        .find_map(|e| match e {
            Effect::Backend(Command::Create { job, .. }) => Some(*job),
            _ => None,
        })
        .expect("a create job");
    let why = runtime::refusal("runsc", &sick(), &["runc".into(), "runsc".into()]).unwrap();
    update(
        &mut s,
        Msg::Backend(Event::Job {
            job,
            update: JobUpdate::Failed(why),
        }),
    );
    let t = text(&s);
    assert!(
        t.contains("create next failed: runtime runsc is unhealthy"),
        "{t}"
    );
    insta::assert_snapshot!("runtime_create_refused", t);
}
