//! The copy form's overlay: the direction and the two paths, each with its
//! problem (or hint) below it.
use super::{centered, dim};
use crate::tui::copy_form::{CopyField, CopyForm};
use crate::tui::keymap::{Action, Mode};
use crate::tui::state::State;
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

const LABEL: u16 = 16;

pub fn draw(f: &mut Frame, area: Rect, s: &State, form: &CopyForm) {
    let th = s.theme();
    let r = centered(area, 84, 10);
    f.render_widget(Clear, r);
    f.render_widget(
        Block::default()
            .borders(Borders::ALL)
            .border_style(th.border(true))
            .title(format!(" Copy files · {} ", form.name))
            .title_style(th.fg(Role::Title))
            .style(th.base()),
        r,
    );
    let inner = Rect::new(
        r.x + 2,
        r.y + 1,
        r.width.saturating_sub(4),
        r.height.saturating_sub(2),
    );
    let width = inner.width.saturating_sub(LABEL);
    for (i, field) in CopyField::ALL.iter().enumerate() {
        let y = inner.y + 2 * i as u16;
        if y + 2 > inner.y + inner.height.saturating_sub(1) {
            break;
        }
        let focused = form.focused() == *field;
        let strong = th.fg(Role::Accent).add_modifier(Modifier::BOLD);
        let label_style = if focused { strong } else { th.fg(Role::Fg) };
        f.render_widget(
            Paragraph::new(Line::styled(form.label(*field), label_style)),
            Rect::new(inner.x, y, LABEL, 1),
        );
        let input = Rect::new(inner.x + LABEL, y, width, 1);
        let ta = match field {
            CopyField::Direction => {
                let line = Line::from(vec![
                    Span::styled("◂ ", dim(s)),
                    Span::styled(
                        form.direction(),
                        if focused { strong } else { th.fg(Role::Fg) },
                    ),
                    Span::styled(" ▸", dim(s)),
                ]);
                f.render_widget(Paragraph::new(line), input);
                None
            }
            CopyField::From => Some(&form.from),
            CopyField::To => Some(&form.to),
        };
        if let Some(ta) = ta {
            let mut ta = ta.clone();
            ta.set_cursor_line_style(th.base());
            ta.set_style(if focused {
                th.fg(Role::Fg).add_modifier(Modifier::UNDERLINED)
            } else {
                th.base()
            });
            ta.set_placeholder_style(dim(s));
            if !focused {
                ta.set_cursor_style(th.base());
            }
            f.render_widget(&ta, input);
        }
        let err = form
            .error(*field)
            .filter(|_| form.submitted || (focused && !form.value(*field).is_empty()));
        let note = match err {
            Some(e) => Line::styled(format!("  {e}"), th.fg(Role::Error)),
            None if focused && *field == CopyField::Direction => {
                Line::styled("  ←/→ turns it round", dim(s))
            }
            None => Line::raw(""),
        };
        f.render_widget(
            Paragraph::new(note),
            Rect::new(inner.x + LABEL, y + 1, width, 1),
        );
    }
    let k = |a| s.keymap.keys(Mode::Form, a);
    let footer = Line::from(vec![
        Span::styled(k(Action::Submit), th.fg(Role::Key)),
        Span::raw(" copy  "),
        Span::styled(k(Action::NextField), th.fg(Role::Key)),
        Span::raw(" next field  "),
        Span::styled(k(Action::Cancel), th.fg(Role::Key)),
        Span::raw(" cancel"),
    ]);
    if r.height > 2 {
        f.render_widget(
            Paragraph::new(footer),
            Rect::new(inner.x, r.y + r.height - 2, inner.width, 1),
        );
    }
}
