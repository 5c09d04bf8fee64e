//! Shell tabs: the tab bar under the list and the terminal pane itself.
use super::dim;
use crate::tui::state::{Bottom, Focus, ShellStatus, State};
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

pub fn tabs(f: &mut Frame, r: Rect, s: &State) {
    let th = s.theme();
    let tab = |label: String, active: bool| {
        if active {
            Span::styled(format!(" {label} "), th.selection())
        } else {
            Span::styled(format!(" {label} "), th.fg(Role::Fg))
        }
    };
    let mut spans = vec![tab("logs".into(), s.bottom == Bottom::Logs)];
    for (i, t) in s.shells.iter().enumerate() {
        let mark = match t.status {
            ShellStatus::Running => "",
            ShellStatus::Connecting => " …",
            ShellStatus::Disconnected(_) => " ✖",
        };
        spans.push(Span::styled("│", dim(s)));
        spans.push(tab(
            format!("{} {}{mark}", i + 1, t.workspace),
            s.bottom == Bottom::Shell(t.id),
        ));
    }
    spans.push(Span::styled(
        format!(
            "  {} / {} switch tabs",
            s.keymap.keys(
                crate::tui::keymap::Mode::Global,
                crate::tui::keymap::Action::PrevTab
            ),
            s.keymap.keys(
                crate::tui::keymap::Mode::Global,
                crate::tui::keymap::Action::NextTab
            )
        ),
        dim(s),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), r);
}

pub fn draw(f: &mut Frame, r: Rect, s: &State) {
    let Some(t) = s.active_shell() else { return };
    let th = s.theme();
    let focused = s.focus == Focus::Shell;
    let key = |a| s.keymap.keys(crate::tui::keymap::Mode::Shell, a);
    use crate::tui::keymap::Action;
    let state = match &t.status {
        ShellStatus::Running if t.term.scrollback() > 0 => {
            format!("scrolled back {} lines", t.term.scrollback())
        }
        ShellStatus::Running if focused => format!(
            "{} leaves · {} full screen",
            key(Action::ShellLeave),
            key(Action::ShellFullscreen)
        ),
        ShellStatus::Running => "enter the tab to type".to_string(),
        ShellStatus::Connecting => "connecting…".to_string(),
        ShellStatus::Disconnected(why) => {
            format!(
                "disconnected: {why} · {} reconnect · {} close",
                key(Action::ShellReconnect),
                key(Action::ShellClose)
            )
        }
    };
    let title_text = match t.term.title() {
        Some(title) if !title.is_empty() => format!(" shell: {} — {title} ({state}) ", t.workspace),
        _ => format!(" shell: {} ({state}) ", t.workspace),
    };
    let title_style = match t.status {
        ShellStatus::Disconnected(_) => th.fg(Role::Error).add_modifier(Modifier::BOLD),
        _ => th.fg(Role::Title),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.border(focused))
        .title(title_text)
        .title_style(title_style);
    let inner = block.inner(r);
    f.render_widget(block, r);
    // The outer terminal's own cursor, only while typing goes to this shell.
    let show_cursor = focused && t.status == ShellStatus::Running;
    super::term_view::draw(
        f,
        inner,
        &t.term,
        th.color(Role::Fg),
        th.color(Role::Bg),
        show_cursor,
    );
}
