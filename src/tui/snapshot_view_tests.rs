//! The snapshots view: keys to take, restore (with a name prompt) and remove (after
//! a confirmation), the list refreshed when a job ends, and how it looks.
use super::snapshot_view::{free_name, Prompt};
use super::state::{Effect, Overlay, State};
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::{Command, Event, JobUpdate};
use crate::domain::snapshot::SnapshotInfo;
use crate::domain::workspace::WorkspaceState;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn state() -> State {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = (90, 24);
    let list = vec![
        ws("api", WorkspaceState::Running, 2200),
        ws("api-copy", WorkspaceState::Running, 2201),
    ];
    update(&mut s, Msg::Backend(Event::Workspaces(list)));
    s
}

fn snap(name: &str, complete: bool) -> SnapshotInfo {
    SnapshotInfo {
        name: name.into(),
        workspace: "api".into(),
        created: "2026-03-04T05:06:07Z".into(),
        image: Some(format!("berth/snapshot:{name}")),
        volume: complete.then(|| format!("berth-snapshot-{name}")),
        home_bytes: Some(52_000_000),
        image_bytes: Some(4_096),
        complete,
    }
}

fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        press(s, KeyCode::Char(c));
    }
}

fn listed(s: &mut State) {
    let list = Ok(vec![snap("api-20260304-050607", true), snap("half", false)]);
    update(
        s,
        Msg::Backend(Event::Snapshots {
            workspace: "api".into(),
            list,
        }),
    );
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

#[test]
fn b_opens_the_view_and_asks_for_the_workspaces_snapshots() {
    let mut s = state();
    let fx = press(&mut s, KeyCode::Char('b'));
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::ListSnapshots {
            workspace: "api".into()
        })]
    );
    insta::assert_snapshot!("snapshots_loading", text(&s));
    // Another workspace's list does not land here.
    update(
        &mut s,
        Msg::Backend(Event::Snapshots {
            workspace: "other".into(),
            list: Ok(vec![snap("x", true)]),
        }),
    );
    insta::assert_snapshot!("snapshots_loading", text(&s));
    update(
        &mut s,
        Msg::Backend(Event::Snapshots {
            workspace: "api".into(),
            list: Ok(vec![]),
        }),
    );
    insta::assert_snapshot!("snapshots_empty", text(&s));
    press(&mut s, KeyCode::Esc);
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn s_takes_one_and_the_list_refreshes_when_the_job_ends() {
    let mut s = state();
    press(&mut s, KeyCode::Char('b'));
    listed(&mut s);
    insta::assert_snapshot!("snapshots_listed", text(&s));
    let fx = press(&mut s, KeyCode::Char('s'));
    let Some(Effect::Backend(Command::Snapshot { job, name })) = fx.first().cloned() else {
        panic!("{fx:?}");
    };
    assert_eq!(name, "api");
    let fx = update(
        &mut s,
        Msg::Backend(Event::Job {
            job,
            update: JobUpdate::Done("took snapshot api-1".into()),
        }),
    );
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::ListSnapshots {
            workspace: "api".into()
        })]
    );
}

#[test]
fn restore_asks_for_a_free_valid_name_then_runs_a_job() {
    let mut s = state();
    press(&mut s, KeyCode::Char('b'));
    listed(&mut s);
    press(&mut s, KeyCode::Enter);
    // api-copy is taken: the suggestion is the next free name.
    let Overlay::Snapshots(v) = &s.overlay else {
        panic!()
    };
    assert!(
        matches!(&v.prompt, Prompt::RestoreName { input, .. } if input == "api-copy-2"),
        "{:?}",
        v.prompt
    );
    for _ in 0.."api-copy-2".len() {
        press(&mut s, KeyCode::Backspace);
    }
    typed(&mut s, "api-copy");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    insta::assert_snapshot!("snapshots_restore_name_taken", text(&s));
    // Keys are text while typing: `q` and `s` neither close nor take.
    for _ in 0.."api-copy".len() {
        press(&mut s, KeyCode::Backspace);
    }
    typed(&mut s, "qs");
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::Restore {
            job: 1,
            snapshot: "api-20260304-050607".into(),
            name: "qs".into(),
        })]
    );
    assert_eq!(s.jobs[0].action, "restore");
    // An incomplete snapshot is not restored.
    press(&mut s, KeyCode::Down);
    assert!(press(&mut s, KeyCode::Char('r')).is_empty());
    assert!(s.notice.as_deref().unwrap().contains("incomplete"));
}

#[test]
fn remove_asks_first() {
    let mut s = state();
    press(&mut s, KeyCode::Char('b'));
    listed(&mut s);
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Char('d'));
    insta::assert_snapshot!("snapshots_remove_asks", text(&s));
    assert!(press(&mut s, KeyCode::Char('n')).is_empty());
    press(&mut s, KeyCode::Char('d'));
    let fx = press(&mut s, KeyCode::Char('y'));
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::RemoveSnapshot {
            job: 1,
            snapshot: "half".into()
        })]
    );
    // A refused command ends its job as failed (never stuck running).
    update(
        &mut s,
        Msg::CommandRefused(Command::RemoveSnapshot {
            job: 1,
            snapshot: "half".into(),
        }),
    );
    assert_eq!(s.running_jobs(), 0);
}

#[test]
fn suggested_names_are_free_and_valid() {
    assert_eq!(free_name("api", &[]), "api-copy");
    let taken = vec!["api-copy".to_string(), "api-copy-2".to_string()];
    assert_eq!(free_name("api", &taken), "api-copy-3");
    let long = "a".repeat(63);
    assert!(crate::domain::naming::WorkspaceName::parse(&free_name(&long, &[])).is_ok());
}
