//! The egress audit overlay: the counters, then the proxy's records as a table
//! (time, method, host, status, bytes, allowed/denied, URL), newest at the bottom,
//! then the search being typed or the keys. Only the rows on screen are drawn.
use super::{dim, ellipsize};
use crate::domain::egress_audit::{format_time, status_text, verdict};
use crate::tui::egress_view::{self, EgressView};
use crate::tui::keymap::{Action, Mode};
use crate::tui::state::State;
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, s: &State, v: &EgressView) {
    let th = s.theme();
    let r = egress_view::area((area.width, area.height)).intersection(area);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.border(true))
        .title(format!(" Egress audit of {} ", v.workspace))
        .title_style(th.fg(Role::Title))
        .style(th.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let width = usize::from(inner.width);
    let line_at = |y: u16| Rect::new(inner.x, inner.y + y, inner.width, 1);
    if let Some(why) = &v.unavailable {
        f.render_widget(
            Paragraph::new(Line::styled(why.clone(), th.fg(Role::Warning)))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            Rect::new(
                inner.x,
                inner.y,
                inner.width,
                inner.height.saturating_sub(1),
            ),
        );
        keys(f, line_at(inner.height.saturating_sub(1)), s);
        return;
    }
    f.render_widget(Paragraph::new(counters(s, v)), line_at(0));
    // Fixed columns and their spaces take 47 cells; host and URL share the rest.
    let host_w = (width.saturating_sub(47) * 2 / 5).clamp(10, 40);
    let url_w = width.saturating_sub(47 + host_w);
    let head = format!(
        "{:<12} {:<7} {:<host_w$} {:>6} {:>9} {:<7} URL",
        "TIME (UTC)", "METHOD", "HOST", "STATUS", "BYTES", "VERDICT"
    );
    f.render_widget(
        Paragraph::new(Line::styled(
            head,
            th.fg(Role::Accent).add_modifier(Modifier::BOLD),
        )),
        line_at(1),
    );
    let rows = usize::from(inner.height.saturating_sub(3));
    let mut lines: Vec<Line> = v
        .ring
        .visible(rows)
        .map(|rec| {
            let text = format!(
                "{:<12} {:<7} {:<host_w$} {:>6} {:>9} {:<7} {}",
                format_time(rec.time_ms, false),
                ellipsize(&rec.method, 7),
                ellipsize(&rec.host, host_w),
                status_text(rec),
                rec.bytes,
                verdict(rec),
                ellipsize(&rec.url, url_w),
            );
            let role = if rec.allowed { Role::Fg } else { Role::Error };
            Line::styled(text, th.fg(role))
        })
        .collect();
    if lines.is_empty() {
        let msg = if !v.loaded {
            "reading the proxy's log…".to_string()
        } else if v.ring.is_empty() {
            format!(
                "No requests yet: every request {} makes through its proxy shows here.",
                v.workspace
            )
        } else {
            "Nothing matches (esc clears the search).".to_string()
        };
        lines.push(Line::styled(msg, dim(s)));
    }
    f.render_widget(
        Paragraph::new(lines),
        Rect::new(
            inner.x,
            inner.y + 2,
            inner.width,
            inner.height.saturating_sub(3),
        ),
    );
    let bottom = line_at(inner.height.saturating_sub(1));
    match &v.typing {
        Some(q) => f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("/", th.fg(Role::Key)),
                Span::styled(
                    format!("{q}▏"),
                    th.fg(Role::Accent).add_modifier(Modifier::BOLD),
                ),
                Span::styled(
                    "  host, URL, method, status · enter keep · esc clear",
                    dim(s),
                ),
            ])),
            bottom,
        ),
        None => keys(f, bottom, s),
    }
}

/// `1234 requests, 12 denied · 12 shown (denied only, "api") · following`.
fn counters<'a>(s: &State, v: &EgressView) -> Line<'a> {
    let th = s.theme();
    let c = v.ring.counts;
    let mut spans = vec![
        Span::styled(
            format!("{} requests", c.requests),
            th.fg(Role::Fg).add_modifier(Modifier::BOLD),
        ),
        Span::raw(", "),
        Span::styled(
            format!("{} denied", c.denied),
            th.fg(if c.denied > 0 { Role::Error } else { Role::Fg })
                .add_modifier(Modifier::BOLD),
        ),
    ];
    let f = v.ring.filter();
    if !f.is_empty() {
        let mut what = Vec::new();
        if f.denied_only {
            what.push("denied only".to_string());
        }
        if !f.query().is_empty() {
            what.push(format!("{:?}", f.query()));
        }
        spans.push(Span::styled(
            format!(" · {} shown ({})", v.ring.matched(), what.join(", ")),
            th.fg(Role::Accent),
        ));
    }
    if v.ring.len() < c.requests as usize {
        spans.push(Span::styled(
            format!(" · newest {} kept", v.ring.capacity()),
            dim(s),
        ));
    }
    spans.push(Span::styled(
        if v.ring.following() {
            " · following".to_string()
        } else {
            format!(" · {} rows back", v.ring.from_bottom())
        },
        dim(s),
    ));
    Line::from(spans)
}

fn keys(f: &mut Frame, r: Rect, s: &State) {
    let th = s.theme();
    let key = |a| Span::styled(s.keymap.keys(Mode::Egress, a), th.fg(Role::Key));
    let line = Line::from(vec![
        key(Action::Search),
        Span::raw(" search  "),
        key(Action::EgressDenied),
        Span::raw(" denied only  "),
        key(Action::Up),
        Span::raw(" scroll  "),
        key(Action::Bottom),
        Span::raw(" follow  "),
        key(Action::Close),
        Span::raw(" close"),
    ]);
    f.render_widget(Paragraph::new(line), r);
}
