//! Keymap: defaults, user bindings merged over them, errors with lines.
use super::*;
use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};

fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
    KeyEvent {
        code,
        modifiers: m,
        kind: KeyEventKind::Press,
        state: crossterm::event::KeyEventState::NONE,
    }
}

#[test]
fn events_map_to_actions_with_global_fallback() {
    let km = Keymap::default();
    assert_eq!(
        km.action(Mode::Normal, &key(KeyCode::Char('j'), KeyModifiers::NONE)),
        Some(Action::Down)
    );
    assert_eq!(
        km.action(Mode::Normal, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        Some(Action::Bottom)
    );
    assert_eq!(
        km.action(
            Mode::Normal,
            &key(KeyCode::Char('c'), KeyModifiers::CONTROL)
        ),
        Some(Action::Quit)
    );
    assert_eq!(
        km.action(Mode::Logs, &key(KeyCode::Char('/'), KeyModifiers::NONE)),
        Some(Action::Search)
    );
    assert_eq!(
        km.action(Mode::Normal, &key(KeyCode::Char('/'), KeyModifiers::NONE)),
        Some(Action::Filter)
    );
    // Modal modes do not fall through to global keys.
    assert_eq!(
        km.action(Mode::Form, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
        None
    );
    assert_eq!(
        km.action(Mode::Confirm, &key(KeyCode::Char('y'), KeyModifiers::NONE)),
        Some(Action::Confirm)
    );
}

#[test]
fn defaults_have_no_conflicts() {
    let km = Keymap::default();
    for ((m1, a1), c1) in &km.bindings {
        for ((m2, a2), c2) in &km.bindings {
            if (m1, a1) < (m2, a2) && shares_keys(*m1, *m2) {
                // Normal/Logs may override a global key on purpose only for different keys.
                let same: Vec<_> = c1.iter().filter(|c| c2.contains(c)).collect();
                assert!(
                    same.is_empty(),
                    "{m1:?}.{a1:?} and {m2:?}.{a2:?} share {same:?}"
                );
            }
        }
    }
}

#[test]
fn user_bindings_merge_and_errors_keep_defaults() {
    let text = "[keys.normal]\nstart = \"S\"\nstop = [\"X\", \"ctrl-x\"]\nfly = \"f\"\nrestart = \"j\"\ndelete = \"hyper-d\"\n[keys.nowhere]\nquit = \"z\"\n";
    let user = user_bindings(text);
    let (km, errors) = Keymap::with_user(&user, "/c/config.toml");
    assert_eq!(
        km.action(Mode::Normal, &key(KeyCode::Char('S'), KeyModifiers::SHIFT)),
        Some(Action::Start)
    );
    assert_eq!(
        km.action(Mode::Normal, &key(KeyCode::Char('s'), KeyModifiers::NONE)),
        None
    );
    assert_eq!(
        km.action(
            Mode::Normal,
            &key(KeyCode::Char('x'), KeyModifiers::CONTROL)
        ),
        Some(Action::Stop)
    );
    // Refused entries leave the defaults in place.
    assert_eq!(
        km.action(Mode::Normal, &key(KeyCode::Char('r'), KeyModifiers::NONE)),
        Some(Action::Restart)
    );
    assert_eq!(
        km.action(Mode::Normal, &key(KeyCode::Char('d'), KeyModifiers::NONE)),
        Some(Action::Delete)
    );
    let msgs: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("line 4") && m.contains("unknown action `fly`")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("line 5") && m.contains("`j` is already bound to `down`")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("line 6") && m.contains("\"hyper-d\" is not a key")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("line 8") && m.contains("unknown key mode `nowhere`")),
        "{msgs:#?}"
    );
    assert!(msgs.iter().all(|m| m.starts_with("/c/config.toml: line")));
}

#[test]
fn printed_keys_read_back_to_the_same_keymap() {
    let (km, errors) = Keymap::with_user(
        &user_bindings("[keys.normal]\nstart = \"S\"\nstop = [\"X\", \"ctrl-x\"]\n"),
        "c",
    );
    assert!(errors.is_empty());
    let text = km.to_toml();
    let (again, errors) = Keymap::with_user(&user_bindings(&text), "shown");
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    assert_eq!(again, km);
}

#[test]
fn help_lists_active_keys() {
    let (km, _) = Keymap::with_user(&user_bindings("[keys.normal]\nstart = \"S\"\n"), "c");
    let e = km.entries(Mode::Normal);
    assert!(e.contains(&(Action::Start, "S".to_string())));
    assert_eq!(km.keys(Mode::Normal, Action::Down), "j/down");
}
