//! The engine picker: "all", then each engine with its state (up with its
//! endpoint, connecting, or unreachable with why) and its workspace count.
use super::{centered, dim};
use crate::tui::engines::picker_rows;
use crate::tui::keymap::{Action, Mode};
use crate::tui::state::{EngineLink, State};
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, s: &State, cursor: usize) {
    let th = s.theme();
    let rows = picker_rows(s);
    let mut lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mark = if s.engines.filter == *row { "✔" } else { " " };
            let (label, state, role) = match row {
                None => (
                    "all".to_string(),
                    format!("{} workspaces", s.workspaces.len()),
                    Role::Dim,
                ),
                Some(name) => {
                    let n = s.workspaces.iter().filter(|w| w.engine == *name).count();
                    let (state, role) = match s.engines.link(name) {
                        Some(EngineLink::Up { endpoint }) => {
                            (format!("● up · {endpoint} · {n} workspaces"), Role::Ok)
                        }
                        Some(EngineLink::Down { reason, .. }) => {
                            (format!("✖ unreachable ({reason})"), Role::Error)
                        }
                        _ => ("… connecting".to_string(), Role::Transitional),
                    };
                    (name.clone(), state, role)
                }
            };
            let style = if i == cursor {
                th.selection()
            } else {
                th.base()
            };
            Line::from(vec![
                Span::styled(format!(" {mark} {label:<14} "), style),
                Span::styled(state, if i == cursor { style } else { th.fg(role) }),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    let k = |a| s.keymap.first_key(Mode::Engines, a);
    lines.push(Line::from(vec![
        Span::styled(k(Action::Confirm), th.fg(Role::Key)),
        Span::styled(" list these   ", dim(s)),
        Span::styled(k(Action::Close), th.fg(Role::Key)),
        Span::styled(" close", dim(s)),
    ]));
    let h = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let r = centered(area, 72, h);
    f.render_widget(Clear, r);
    let b = Block::default()
        .borders(Borders::ALL)
        .border_style(th.border(true))
        .title(" Engines ")
        .title_style(th.fg(Role::Title));
    f.render_widget(Paragraph::new(lines).block(b), r);
}
