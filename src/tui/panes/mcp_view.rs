//! The MCP activity overlay: every `berth mcp` call as a table (time, client,
//! operation, workspace, result, duration), newest at the bottom; a running call
//! shows a spinner; failed ones in the error colour.
use super::agents_view::{area, frame, key_line};
use super::{dim, ellipsize};
use crate::tui::keymap::{Action, Mode};
use crate::tui::mcp_view::{time_of, took, McpView};
use crate::tui::state::State;
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(f: &mut Frame, full: Rect, s: &State, v: &McpView) {
    let th = s.theme();
    let inner = frame(f, area(full), s, " MCP activity ".into());
    let width = usize::from(inner.width);
    let line_at = |y: u16| Rect::new(inner.x, inner.y + y, inner.width, 1);
    // Fixed: time 10, operation 12, duration 9 and spaces; the rest is shared.
    let rest = width.saturating_sub(10 + 1 + 12 + 1 + 9 + 3);
    let client_w = (rest / 4).clamp(6, 24);
    let ws_w = (rest / 4).clamp(6, 24);
    let result_w = rest.saturating_sub(client_w + ws_w);
    let head = format!(
        "{:<10} {:<client_w$} {:<12} {:<ws_w$} {:>9} RESULT",
        "TIME (UTC)", "CLIENT", "OPERATION", "WORKSPACE", "TOOK"
    );
    f.render_widget(
        Paragraph::new(Line::styled(
            head,
            th.fg(Role::Accent).add_modifier(Modifier::BOLD),
        )),
        line_at(0),
    );
    let rows = usize::from(inner.height.saturating_sub(2));
    let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"][(s.tick % 10) as usize];
    let lines: Vec<Line> = match &v.calls {
        None => vec![Line::styled("reading the calls…", dim(s))],
        Some(c) if c.is_empty() => vec![Line::styled(
            "No MCP calls yet: every call an agent makes through `berth mcp` shows here.",
            dim(s),
        )],
        Some(calls) => {
            let end = calls.len().saturating_sub(v.back);
            let start = end.saturating_sub(rows);
            calls[start..end]
                .iter()
                .map(|c| {
                    let (result, duration, role) = match (&c.result, c.ok, c.took_ms) {
                        (None, _, _) => (
                            format!("{spinner} running"),
                            String::new(),
                            Role::Transitional,
                        ),
                        (Some(r), ok, t) => (
                            r.clone(),
                            t.map(took).unwrap_or_default(),
                            if ok == Some(false) {
                                Role::Error
                            } else {
                                Role::Fg
                            },
                        ),
                    };
                    let ws = if c.workspace.is_empty() {
                        "-"
                    } else {
                        &c.workspace
                    };
                    let text = format!(
                        "{:<10} {:<client_w$} {:<12} {:<ws_w$} {:>9} {}",
                        time_of(c.started_at_ms),
                        ellipsize(&c.client, client_w),
                        ellipsize(&c.operation, 12),
                        ellipsize(ws, ws_w),
                        duration,
                        ellipsize(&result, result_w),
                    );
                    Line::styled(text, th.fg(role))
                })
                .collect()
        }
    };
    f.render_widget(
        Paragraph::new(lines),
        Rect::new(
            inner.x,
            inner.y + 1,
            inner.width,
            inner.height.saturating_sub(2),
        ),
    );
    let following = if v.back == 0 {
        "following"
    } else {
        "scrolled back"
    };
    let mut keys = key_line(
        s,
        &[
            (Mode::Mcp, Action::Up, "back"),
            (Mode::Mcp, Action::Bottom, "follow"),
            (Mode::Mcp, Action::Close, "close"),
        ],
    );
    keys.spans
        .push(ratatui::text::Span::styled(following, dim(s)));
    f.render_widget(
        Paragraph::new(keys),
        line_at(inner.height.saturating_sub(1)),
    );
}
