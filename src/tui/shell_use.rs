//! Shell tabs keep their workspace's last use fresh: input or output on a tab is a
//! use, sent to the backend at most once every [`USE_EVERY`] seconds per tab (one
//! store write a minute at most, whatever the traffic).
use super::state::{Effect, State};
use crate::backend::service::Command;

pub const USE_EVERY: i64 = 60;

/// Input or output on tab `id` at `s.now`: a use to record, if the last one sent
/// is a minute old.
pub fn touched(s: &mut State, id: u64) -> Option<Effect> {
    let now = s.now;
    let t = s.shell_mut(id)?;
    if now - t.used_at < USE_EVERY {
        return None;
    }
    t.used_at = now;
    Some(Effect::Backend(Command::ShellUsed {
        name: t.workspace.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::{ShellStatus, ShellTab};

    #[test]
    fn a_busy_tab_sends_one_use_a_minute() {
        let mut s = crate::tui::state::State::new(
            vec![crate::tui::theme::Theme::default_theme()],
            0,
            crate::tui::keymap::Keymap::default(),
            10,
        );
        s.now = 1000;
        s.shells.push(ShellTab {
            id: 1,
            workspace: "api".into(),
            term: crate::terminal::term::Term::new(5, 20),
            status: ShellStatus::Running,
            used_at: 1000,
            remote: None,
        });
        assert_eq!(touched(&mut s, 1), None);
        s.now = 1059;
        assert_eq!(touched(&mut s, 1), None);
        s.now = 1060;
        assert_eq!(
            touched(&mut s, 1),
            Some(Effect::Backend(Command::ShellUsed { name: "api".into() }))
        );
        assert_eq!(touched(&mut s, 1), None);
        assert_eq!(touched(&mut s, 2), None);
    }
}
