//! update() tests for dialogs: config problems, quitting with jobs, help scrolling.
use super::state::{Effect, Overlay};
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::{Command, Event, JobUpdate};
use crate::domain::workspace::WorkspaceState;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn state() -> super::state::State {
    let mut s = super::state::State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = (120, 40);
    update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![ws(
            "api",
            WorkspaceState::Running,
            2200,
        )])),
    );
    s
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn the_key_that_dismisses_the_problems_does_nothing_else() {
    let mut s = state();
    s.config_problems = vec!["config.toml: line 3: bad".into()];
    // x would stop the selected workspace.
    assert!(update(&mut s, key('x')).is_empty());
    assert!(s.config_problems.is_empty() && s.jobs.is_empty());
    let fx = update(&mut s, key('x'));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Backend(Command::Stop { .. })]
    ));
}

#[test]
fn a_cancel_the_backend_could_not_take_asks_again() {
    let mut s = state();
    update(&mut s, key('x'));
    update(&mut s, key('q'));
    assert!(matches!(s.overlay, Overlay::Quit { waiting: false }));
    let fx = update(&mut s, key('y'));
    assert_eq!(fx, vec![Effect::Backend(Command::CancelJobs)]);
    update(&mut s, Msg::CommandRefused(Command::CancelJobs));
    assert!(
        matches!(s.overlay, Overlay::Quit { waiting: false }),
        "not stuck waiting"
    );
    assert!(s.notice.as_deref().unwrap().contains("busy"));
    // n keeps working; the job ends; q now quits at once.
    update(&mut s, key('n'));
    update(
        &mut s,
        Msg::Backend(Event::Job {
            job: 1,
            update: JobUpdate::Done("stopped api".into()),
        }),
    );
    assert_eq!(update(&mut s, key('q')), vec![Effect::Quit]);
}

#[test]
fn ctrl_c_while_waiting_for_a_rollback_quits_at_once() {
    let mut s = state();
    update(&mut s, key('x'));
    update(&mut s, key('q'));
    update(&mut s, key('y'));
    assert!(update(&mut s, key('y')).is_empty(), "waiting");
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut s, ctrl_c), vec![Effect::Quit]);
}

#[test]
fn help_scroll_stays_in_range_when_scrolling_and_resizing() {
    let mut s = state();
    update(&mut s, key('?'));
    for _ in 0..500 {
        update(&mut s, key('j'));
    }
    let max = super::layout::help_max_scroll(s.keymap.help_len(), s.size);
    assert!(max > 0);
    assert!(matches!(s.overlay, Overlay::Help { scroll } if scroll == max));
    // A taller terminal shows more: the scroll shrinks with it.
    update(&mut s, Msg::Resize(120, 200));
    let max = super::layout::help_max_scroll(s.keymap.help_len(), s.size);
    assert!(matches!(s.overlay, Overlay::Help { scroll } if scroll == max));
}

#[test]
fn the_quit_question_goes_ahead_once_the_last_job_ends() {
    let mut s = state();
    update(&mut s, key('x'));
    update(&mut s, key('q'));
    assert!(matches!(s.overlay, Overlay::Quit { waiting: false }));
    // The job ends before the user answers: nothing is left to cancel, so the
    // quit they asked for happens (never a question about "0 jobs").
    let fx = update(
        &mut s,
        Msg::Backend(Event::Job {
            job: 1,
            update: JobUpdate::Done("stopped api".into()),
        }),
    );
    assert_eq!(fx, vec![Effect::Quit]);
}
