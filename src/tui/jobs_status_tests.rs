//! Who runs the background jobs shows in the status bar; a run that acted shows
//! as a notice, a failed one as the error line.
use super::state::State;
use super::update::{update, Msg};
use crate::backend::jobs::record::JobsNews;
use crate::backend::service::Event;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn state() -> State {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = (110, 12);
    update(
        &mut s,
        Msg::Backend(Event::Connected {
            endpoint: "unix:///var/run/docker.sock".into(),
        }),
    );
    s
}

fn news(s: &mut State, n: JobsNews) {
    update(s, Msg::Backend(Event::Jobs(n)));
}

fn screen(s: &State) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    t.draw(|f| super::panes::draw(f, s)).unwrap();
    t
}

#[test]
fn the_status_bar_says_who_runs_the_jobs() {
    let mut s = state();
    assert!(!format!("{:?}", screen(&s).backend()).contains("jobs:"));
    news(&mut s, JobsNews::Runner("daemon pid 4121".into()));
    insta::assert_snapshot!("jobs_daemon_runs_them", screen(&s).backend());
    news(&mut s, JobsNews::Runner("this TUI".into()));
    assert_eq!(s.jobs_runner.as_deref(), Some("this TUI"));
}

#[test]
fn runs_that_acted_or_failed_are_told() {
    let mut s = state();
    news(
        &mut s,
        JobsNews::Ran {
            job: "cleanup".into(),
            ok: true,
            summary: "stopped web (idle 2h)".into(),
        },
    );
    assert_eq!(s.notice.as_deref(), Some("cleanup: stopped web (idle 2h)"));
    news(
        &mut s,
        JobsNews::Ran {
            job: "pool".into(),
            ok: false,
            summary: "failed: engine gone".into(),
        },
    );
    assert_eq!(
        s.last_error.as_deref(),
        Some("job pool failed: engine gone")
    );
}
