//! The agents view and the diff view: keys and actions (pure update), and how
//! they look (insta snapshots on TestBackend).
use super::agents_view::attach_command;
use super::state::{Effect, Overlay, State};
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::{AgentAction, Command, Event};
use crate::domain::agents::AgentSession;
use crate::domain::diff::parse;
use crate::domain::workspace::{Workspace, WorkspaceState};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::collections::BTreeMap;

pub fn agent_ws(name: &str, agent: &str, branch: &str, st: WorkspaceState) -> Workspace {
    let mut w = ws(name, st, 2200);
    w.labels = AgentSession {
        name: name.into(),
        agent: agent.into(),
        repo: Some("/home/me/src/shop".into()),
        branch: branch.into(),
        base: "main".into(),
        base_commit: "0123456789abcdef0123456789abcdef01234567".into(),
        clone: "/home/workspace/shop".into(),
        ephemeral: false,
        no_push: false,
    }
    .labels();
    w
}

pub fn state_with(list: Vec<Workspace>, size: (u16, u16)) -> State {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = size;
    update(&mut s, Msg::Backend(Event::Workspaces(list)));
    s
}

fn sessions() -> Vec<Workspace> {
    vec![
        ws("plain", WorkspaceState::Running, 2201),
        agent_ws(
            "claude-shop-fix-login",
            "claude",
            "agent/fix-login",
            WorkspaceState::Running,
        ),
        agent_ws(
            "codex-shop-tests",
            "codex",
            "agent/tests",
            WorkspaceState::Stopped,
        ),
    ]
}

pub fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn text(s: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(s.size.0, s.size.1)).expect("terminal");
    t.draw(|f| super::panes::draw(f, s)).expect("draw");
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

fn ahead(s: &mut State) {
    let mut counts = BTreeMap::new();
    counts.insert("claude-shop-fix-login".to_string(), Ok(3));
    update(s, Msg::Backend(Event::AgentAhead(counts)));
}

#[test]
fn a_opens_the_view_and_polls_until_it_closes() {
    let mut s = state_with(sessions(), (100, 20));
    assert_eq!(
        press(&mut s, KeyCode::Char('A')),
        vec![Effect::Backend(Command::AgentsView(true))]
    );
    assert!(matches!(s.overlay, Overlay::Agents(_)));
    assert_eq!(
        press(&mut s, KeyCode::Esc),
        vec![Effect::Backend(Command::AgentsView(false))]
    );
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn ahead_counts_keep_the_last_known_value() {
    let mut s = state_with(sessions(), (100, 20));
    ahead(&mut s);
    let mut failed = BTreeMap::new();
    failed.insert(
        "claude-shop-fix-login".to_string(),
        Err("exec failed".into()),
    );
    failed.insert("codex-shop-tests".to_string(), Err("exec failed".into()));
    update(&mut s, Msg::Backend(Event::AgentAhead(failed)));
    assert_eq!(
        super::agents_view::ahead_text(&s, "claude-shop-fix-login"),
        "3"
    );
    assert_eq!(super::agents_view::ahead_text(&s, "codex-shop-tests"), "?");
    assert_eq!(super::agents_view::ahead_text(&s, "nobody"), "-");
}

#[test]
fn enter_attaches_in_a_new_tab_running_tmux() {
    let mut s = state_with(sessions(), (100, 20));
    press(&mut s, KeyCode::Char('A'));
    let fx = press(&mut s, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![
            Effect::Backend(Command::AgentsView(false)),
            Effect::Backend(Command::PrepareShell {
                id: 1,
                name: "claude-shop-fix-login".into(),
                remote: Some(attach_command()),
            })
        ]
    );
    assert_eq!(attach_command(), "tmux attach -t agent");
    assert!(matches!(s.overlay, Overlay::None));
    assert_eq!(s.shells[0].remote.as_deref(), Some("tmux attach -t agent"));
}

#[test]
fn a_stopped_session_is_not_attached_or_diffed() {
    let mut s = state_with(sessions(), (100, 20));
    press(&mut s, KeyCode::Char('A'));
    press(&mut s, KeyCode::Down);
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(s
        .notice
        .as_deref()
        .is_some_and(|n| n.contains("start it first")));
    assert!(press(&mut s, KeyCode::Char('d')).is_empty());
}

fn confirmed(s: &mut State, key: char) -> Vec<Effect> {
    press(s, KeyCode::Char(key));
    assert_eq!(s.key_mode(), super::keymap::Mode::Confirm);
    press(s, KeyCode::Char('y'))
}

#[test]
fn actions_ask_first_then_run_as_jobs() {
    let mut s = state_with(sessions(), (100, 20));
    press(&mut s, KeyCode::Char('A'));
    let name = "claude-shop-fix-login".to_string();
    let job = |id, action| {
        vec![Effect::Backend(Command::Agent {
            job: id,
            name: name.clone(),
            action,
        })]
    };
    assert_eq!(confirmed(&mut s, 'b'), job(1, AgentAction::BringBack));
    assert_eq!(confirmed(&mut s, 'm'), job(2, AgentAction::Merge));
    assert_eq!(
        confirmed(&mut s, 'x'),
        job(3, AgentAction::Remove { push: true })
    );
    // p: not pushed.
    press(&mut s, KeyCode::Char('x'));
    press(&mut s, KeyCode::Char('p'));
    assert_eq!(
        press(&mut s, KeyCode::Char('y')),
        job(4, AgentAction::Remove { push: false })
    );
    // n: nothing.
    press(&mut s, KeyCode::Char('m'));
    assert!(press(&mut s, KeyCode::Char('n')).is_empty());
    assert_eq!(s.key_mode(), super::keymap::Mode::Agents);
    assert_eq!(s.jobs.len(), 4);
}

#[test]
fn agents_view_looks() {
    let mut s = state_with(vec![ws("plain", WorkspaceState::Running, 2201)], (100, 12));
    press(&mut s, KeyCode::Char('A'));
    insta::assert_snapshot!("agents_empty", text(&s));
    let mut s = state_with(sessions(), (100, 12));
    press(&mut s, KeyCode::Char('A'));
    ahead(&mut s);
    insta::assert_snapshot!("agents_rows", text(&s));
    press(&mut s, KeyCode::Char('x'));
    insta::assert_snapshot!("agents_confirm_remove", text(&s));
    let mut s = state_with(sessions(), (60, 12));
    press(&mut s, KeyCode::Char('A'));
    ahead(&mut s);
    insta::assert_snapshot!("agents_narrow", text(&s));
}

const DIFF: &str = "diff --git a/src/login.rs b/src/login.rs
index 1111111..2222222 100644
--- a/src/login.rs
+++ b/src/login.rs
@@ -1,4 +1,4 @@
 fn login(user: &str) -> bool {
-    user == \"admin\"
+    !user.is_empty()
 }

diff --git a/README.md b/README.md
index 3333333..4444444 100644
--- a/README.md
+++ b/README.md
@@ -10,2 +10,3 @@ Usage
 Run it.
+Log in with any name.
diff --git a/tests/login.rs b/tests/login.rs
new file mode 100644
--- /dev/null
+++ b/tests/login.rs
@@ -0,0 +1,3 @@
+#[test]
+fn anyone() { assert!(login(\"x\")); }
+
";

fn diffed(size: (u16, u16), cut: bool) -> State {
    let mut s = state_with(sessions(), size);
    press(&mut s, KeyCode::Char('A'));
    let fx = press(&mut s, KeyCode::Char('d'));
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::AgentDiff {
            name: "claude-shop-fix-login".into()
        })]
    );
    assert_eq!(s.key_mode(), super::keymap::Mode::Diff);
    update(
        &mut s,
        Msg::Backend(Event::AgentDiff {
            name: "claude-shop-fix-login".into(),
            diff: Ok(parse(DIFF, cut)),
        }),
    );
    s
}

fn scroll(s: &State) -> usize {
    match &s.overlay {
        Overlay::Agents(v) => v.diff.as_ref().map_or(usize::MAX, |d| d.scroll),
        _ => usize::MAX,
    }
}

#[test]
fn the_diff_scrolls_and_jumps_between_files() {
    let mut s = diffed((100, 12), false);
    press(&mut s, KeyCode::Char('n'));
    assert_eq!(scroll(&s), 10);
    press(&mut s, KeyCode::Char('n'));
    assert_eq!(scroll(&s), 17);
    // The last file: no further.
    press(&mut s, KeyCode::Char('n'));
    assert_eq!(scroll(&s), 17);
    press(&mut s, KeyCode::Char('N'));
    assert_eq!(scroll(&s), 10);
    press(&mut s, KeyCode::Char('g'));
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Down);
    assert_eq!(scroll(&s), 2);
    // Scrolling stops at the end (25 lines, 7 on screen).
    for _ in 0..5 {
        press(&mut s, KeyCode::PageDown);
    }
    assert_eq!(scroll(&s), 25 - 7);
    press(&mut s, KeyCode::Char('g'));
    press(&mut s, KeyCode::Char('G'));
    assert_eq!(scroll(&s), 18);
    // Back to the list, then closed.
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.key_mode(), super::keymap::Mode::Agents);
}

#[test]
fn a_diff_for_another_session_is_ignored() {
    let mut s = state_with(sessions(), (100, 12));
    press(&mut s, KeyCode::Char('A'));
    press(&mut s, KeyCode::Char('d'));
    update(
        &mut s,
        Msg::Backend(Event::AgentDiff {
            name: "other".into(),
            diff: Ok(parse(DIFF, false)),
        }),
    );
    let Overlay::Agents(v) = &s.overlay else {
        panic!("closed")
    };
    assert_eq!(v.diff.as_ref().map(|d| d.diff.is_none()), Some(true));
    assert!(v.confirm.is_none());
}

#[test]
fn diff_view_looks() {
    let mut s = diffed((100, 14), false);
    insta::assert_snapshot!("diff_files", text(&s));
    press(&mut s, KeyCode::Char('n'));
    insta::assert_snapshot!("diff_scrolled", text(&s));
    let s = diffed((70, 14), true);
    insta::assert_snapshot!("diff_cut_narrow", text(&s));
    let mut s = state_with(sessions(), (100, 10));
    press(&mut s, KeyCode::Char('A'));
    press(&mut s, KeyCode::Char('d'));
    insta::assert_snapshot!("diff_loading", text(&s));
}
