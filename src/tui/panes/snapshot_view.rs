//! The snapshots overlay: a workspace's snapshots (name, when, size), the selected
//! one highlighted, the restore prompt or the removal question, and the keys.
use super::{centered, dim, ellipsize};
use crate::domain::snapshot::human_bytes;
use crate::tui::keymap::{Action, Mode};
use crate::tui::snapshot_view::{Prompt, SnapshotView};
use crate::tui::state::State;
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, s: &State, v: &SnapshotView) {
    let th = s.theme();
    let r = centered(area, 84, 16);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.border(true))
        .title(format!(" Snapshots of {} ", v.workspace))
        .title_style(th.fg(Role::Title))
        .style(th.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    let width = usize::from(inner.width);
    let name_w = width.saturating_sub(48).max(10);
    let mut lines = vec![Line::styled(
        format!(
            "{:<name_w$}  {:<20}  {:>8}  STATE",
            "SNAPSHOT", "CREATED", "SIZE"
        ),
        th.fg(Role::Title).add_modifier(Modifier::BOLD),
    )];
    // Rows for the list: the box less the header, the prompt and the key line.
    let rows = usize::from(inner.height).saturating_sub(4).max(1);
    match &v.list {
        None => lines.push(Line::styled("loading…", dim(s))),
        Some(Err(e)) => lines.push(Line::styled(
            format!("cannot list: {e}"),
            th.fg(Role::Error),
        )),
        Some(Ok(l)) if l.is_empty() => lines.push(Line::styled(
            format!(
                "No snapshots of {} yet: {} takes one.",
                v.workspace,
                s.keymap.first_key(Mode::Snapshots, Action::SnapshotTake)
            ),
            dim(s),
        )),
        Some(Ok(l)) => {
            let first = v.selected.saturating_sub(rows - 1);
            for (i, snap) in l.iter().enumerate().skip(first).take(rows) {
                let text = format!(
                    "{:<name_w$}  {:<20}  {:>8}  {}",
                    ellipsize(&snap.name, name_w),
                    snap.created.replace('T', " "),
                    snap.size().map_or("-".into(), human_bytes),
                    if snap.complete { "ready" } else { "incomplete" }
                );
                let style = if i == v.selected {
                    th.fg(Role::Accent).add_modifier(Modifier::REVERSED)
                } else if snap.complete {
                    th.fg(Role::Fg)
                } else {
                    th.fg(Role::Warning)
                };
                lines.push(Line::styled(text, style));
            }
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
    let bottom = |y: u16| {
        Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(y),
            inner.width,
            1,
        )
    };
    let key = |m, a| Span::styled(s.keymap.keys(m, a), th.fg(Role::Key));
    let prompt = match &v.prompt {
        Prompt::None => Line::raw(""),
        Prompt::RestoreName {
            snapshot,
            input,
            error,
        } => Line::from(vec![
            Span::raw(format!("Restore {snapshot} as: ")),
            Span::styled(
                format!("{input}▏"),
                th.fg(Role::Accent).add_modifier(Modifier::BOLD),
            ),
            match error {
                Some(e) => Span::styled(format!("  {e}"), th.fg(Role::Error)),
                None => Span::styled("  enter create  esc cancel", dim(s)),
            },
        ]),
        Prompt::Remove(snap) => Line::from(vec![
            Span::styled(
                format!("Remove snapshot {snap}? "),
                th.fg(Role::Error).add_modifier(Modifier::BOLD),
            ),
            key(Mode::Confirm, Action::Confirm),
            Span::raw(" remove  "),
            key(Mode::Confirm, Action::Cancel),
            Span::raw(" keep"),
        ]),
    };
    f.render_widget(Paragraph::new(prompt), bottom(2));
    let keys = Line::from(vec![
        key(Mode::Snapshots, Action::SnapshotTake),
        Span::raw(" take  "),
        key(Mode::Snapshots, Action::SnapshotRestore),
        Span::raw(" restore as…  "),
        key(Mode::Snapshots, Action::SnapshotRemove),
        Span::raw(" remove  "),
        key(Mode::Snapshots, Action::Close),
        Span::raw(" close"),
    ]);
    f.render_widget(Paragraph::new(keys), bottom(1));
}
