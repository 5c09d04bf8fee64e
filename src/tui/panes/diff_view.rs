//! The diff of an agent session's branch: which file of how many (and a note when
//! the diff was cut short), the lines on screen coloured by the theme's roles
//! (file headers as titles, hunk headers as accents, added as ok, removed as
//! errors), and the keys.
use super::agents_view::{frame, key_line};
use super::{dim, ellipsize};
use crate::domain::diff::LineKind;
use crate::tui::diff_view::DiffView;
use crate::tui::keymap::{Action, Mode};
use crate::tui::state::State;
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

fn role(k: LineKind) -> Role {
    match k {
        LineKind::FileHeader => Role::Title,
        LineKind::Hunk => Role::Accent,
        LineKind::Added => Role::Ok,
        LineKind::Removed => Role::Error,
        LineKind::Context => Role::Fg,
    }
}

pub fn draw(f: &mut Frame, r: Rect, s: &State, v: &DiffView) {
    let th = s.theme();
    let inner = frame(f, r, s, format!(" Diff of {} against its base ", v.name));
    let width = usize::from(inner.width);
    let line_at = |y: u16| Rect::new(inner.x, inner.y + y, inner.width, 1);
    let text_area = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(2),
    );
    let head = match &v.diff {
        None => Line::styled("reading the diff…", dim(s)),
        Some(Err(e)) => Line::styled(format!("cannot read the diff: {e}"), th.fg(Role::Error)),
        Some(Ok(d)) if d.files.is_empty() => {
            Line::styled("No changes: the branch is where its base was.", dim(s))
        }
        Some(Ok(d)) => {
            let (i, n) = v.position().unwrap_or((0, d.files.len()));
            let file = &d.files[i.min(d.files.len() - 1)];
            let cut = if d.cut {
                " · CUT SHORT: the diff is too big to show whole"
            } else {
                ""
            };
            let text = format!(
                "file {}/{n}: {} (+{} -{}){cut}",
                i + 1,
                file.path,
                file.added,
                file.removed
            );
            let style = if d.cut {
                th.fg(Role::Warning)
            } else {
                th.fg(Role::Accent)
            };
            Line::styled(ellipsize(&text, width), style.add_modifier(Modifier::BOLD))
        }
    };
    f.render_widget(Paragraph::new(head), line_at(0));
    if let Some(Ok(d)) = &v.diff {
        let rows = usize::from(text_area.height);
        let lines: Vec<Line> = d
            .lines()
            .skip(v.scroll)
            .take(rows)
            .map(|(_, l)| {
                let st = th.fg(role(l.kind));
                let st = if l.kind == LineKind::FileHeader {
                    st.add_modifier(Modifier::BOLD)
                } else {
                    st
                };
                Line::styled(ellipsize(&l.text, width), st)
            })
            .collect();
        f.render_widget(Paragraph::new(lines), text_area);
    }
    let keys = key_line(
        s,
        &[
            (Mode::Diff, Action::NextFile, "next file"),
            (Mode::Diff, Action::PrevFile, "previous file"),
            (Mode::Diff, Action::PageDown, "page"),
            (Mode::Diff, Action::Close, "back"),
        ],
    );
    f.render_widget(
        Paragraph::new(keys),
        line_at(inner.height.saturating_sub(1)),
    );
}
