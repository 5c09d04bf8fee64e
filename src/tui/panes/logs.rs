//! The logs pane: the selected workspace's and its sidecars' lines, tagged by source.
use super::{block, dim};
use crate::tui::layout;
use crate::tui::logbuf::Stream;
use crate::tui::state::{Focus, State};
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, s: &State) {
    let th = s.theme();
    let focused = s.focus == Focus::Logs;
    let mode = if s.logs.paused { "paused" } else { "following" };
    let search = s
        .logs
        .query
        .as_ref()
        .map(|q| format!(" · search: {q}"))
        .unwrap_or_default();
    let title = match &s.logs_for {
        Some(n) => format!(" Logs: {n} ({mode}{search}) "),
        None => " Logs ".to_string(),
    };
    let b = block(s, title, focused);
    let height = layout::log_rows(area);
    if s.logs.is_empty() {
        let msg = if s.logs_for.is_some() {
            "No output yet."
        } else {
            "Select a workspace to follow its logs."
        };
        f.render_widget(Paragraph::new(Line::styled(msg, dim(s))).block(b), area);
        return;
    }
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = s
        .logs
        .visible(height)
        .map(|l| {
            let mut spans = Vec::with_capacity(4);
            if s.show_timestamps {
                if let Some(ts) = &l.ts {
                    let short = ts.get(..19).unwrap_or(ts).replace('T', " ");
                    spans.push(Span::styled(format!("{short} "), dim(s)));
                }
            }
            spans.push(Span::styled(
                format!("[{}] ", l.source),
                th.fg(Role::Accent),
            ));
            // Only the visible part of a long line is laid out.
            let text: String = l.text.chars().take(width).collect();
            let style = if s.logs.current == Some(l.seq) {
                th.matched()
            } else if s.logs.is_match(l) {
                th.fg(Role::Warning)
            } else if l.stream == Stream::Err {
                th.fg(Role::Fg)
            } else {
                th.base()
            };
            spans.push(Span::styled(text, style));
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(b), area);
}
