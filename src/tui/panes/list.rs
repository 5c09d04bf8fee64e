//! The workspace list: name, engine (several engines), state (symbol and
//! colour), SSH port, image, uptime, home volume size. The rows of an engine that
//! is away are greyed and their state "unknown" until it is back.
use super::{block, ellipsize, state_mark};
use crate::domain::limits::human_size;
use crate::domain::net_isolation::ssh_through_engine;
use crate::domain::workspace::human_duration;
use crate::tui::layout;
use crate::tui::state::{Focus, SortKey, State};
use crate::tui::theme::Role;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

pub fn draw(f: &mut Frame, area: Rect, s: &State) {
    let th = s.theme();
    let focused = s.focus == Focus::List;
    let title = if s.filter.is_empty() {
        format!(" Workspaces ({}) ", s.workspaces.len())
    } else {
        format!(
            " Workspaces ({} of {}, filter: {}) ",
            s.view.len(),
            s.workspaces.len(),
            s.filter
        )
    };
    let b = block(s, title, focused);
    if s.view.is_empty() {
        let msg = if s.workspaces.is_empty() {
            format!(
                "No workspaces yet. Press {} to create one.",
                s.keymap.keys(
                    crate::tui::keymap::Mode::Global,
                    crate::tui::keymap::Action::Create
                )
            )
        } else {
            "Nothing matches the filter (esc clears it).".to_string()
        };
        f.render_widget(
            Paragraph::new(Line::styled(msg, super::dim(s))).block(b),
            area,
        );
        return;
    }
    let inner_w = area.width.saturating_sub(2) as usize;
    let arrow = if s.sort_desc { "▼" } else { "▲" };
    let head = |label: &str, key: SortKey| {
        let text = if s.sort == key {
            format!("{label}{arrow}")
        } else {
            label.to_string()
        };
        Cell::from(text)
    };
    // Egress counters only while some proxy workspace has them.
    let egress = !s.egress_counts.is_empty();
    let egress_w = if egress { EGRESS_W + 1 } else { 0 };
    // The TTL countdown only while some workspace has a deadline.
    let ttl = s.deadlines.values().any(Option::is_some);
    // It narrows the image column, not the name.
    let ttl_w = if ttl { TTL_W + 1 } else { 0 };
    let name_w = inner_w
        .saturating_sub(13 + 6 + 9 + 12 + 8 + 5 + egress_w)
        .clamp(8, 40);
    // Home volume sizes where the list is wide enough; the column's room comes out
    // of the image's (the name keeps its width), which keeps at least 6 characters,
    // so not beside the status pane on a narrow terminal.
    let size = inner_w >= SIZE_MIN_LIST + egress_w
        && inner_w.saturating_sub(name_w + 13 + 6 + 9 + 8 + 5 + ttl_w + egress_w + SIZE_W + 1) >= 6;
    let size_w = if size { SIZE_W + 1 } else { 0 };
    // The engine column, when berth knows several (it narrows the image too).
    let several = s.engines.several();
    let engine_w = if several { ENGINE_W + 1 } else { 0 };
    // The provider column, when any workspace is a VM (it narrows the image too).
    let vms = crate::domain::vm_view::any_vm(&s.workspaces);
    let engine_w = engine_w + if vms { PROVIDER_W + 1 } else { 0 };
    let mut heads = vec![head("  NAME", SortKey::Name)];
    if several {
        heads.push(Cell::from("ENGINE"));
    }
    if vms {
        heads.push(Cell::from("PROVIDER"));
    }
    heads.extend([
        head("STATE", SortKey::State),
        head("SSH", SortKey::Port),
        Cell::from("NET"),
        head("IMAGE", SortKey::Image),
        head("UPTIME", SortKey::Uptime),
    ]);
    if size {
        heads.push(Cell::from("SIZE"));
    }
    if ttl {
        heads.push(Cell::from("TTL"));
    }
    if egress {
        heads.push(Cell::from("REQ/DENIED"));
    }
    let header = Row::new(heads).style(th.fg(Role::Accent).add_modifier(Modifier::BOLD));
    let image_w = inner_w
        .saturating_sub(name_w + 13 + 6 + 9 + 8 + 5 + size_w + ttl_w + egress_w + engine_w)
        .max(5);
    let rows_h = layout::list_rows(area);
    let selected = s.selected_index();
    let rows: Vec<Row> = s
        .view
        .iter()
        .enumerate()
        .skip(s.list_offset)
        .take(rows_h)
        .map(|(i, idx)| {
            let w = &s.workspaces[*idx];
            let away = s.engines.is_down(&w.engine);
            let (sym, role) = if away {
                ("?", Role::Dim)
            } else if w.provision.is_ready() {
                state_mark(w.state)
            } else {
                ("⚠", Role::Warning)
            };
            let style = if Some(i) == selected {
                th.selection()
            } else if away {
                super::dim(s)
            } else {
                th.base()
            };
            let state_style = if Some(i) == selected {
                style
            } else {
                th.fg(role)
            };
            let name = ellipsize(&w.name, name_w.saturating_sub(2));
            let status = if away { "unknown" } else { w.status_word() };
            let mut cells = vec![Cell::from(Line::from(vec![
                Span::styled(format!("{sym} "), state_style),
                Span::raw(name),
            ]))];
            if several {
                cells.push(Cell::from(ellipsize(&w.engine, ENGINE_W)));
            }
            if vms {
                cells.push(Cell::from(crate::domain::vm_view::cell(w)));
            }
            cells.extend([
                Cell::from(Span::styled(status, state_style)),
                Cell::from(match w.ssh_port {
                    Some(p) => p.to_string(),
                    // Offline: ssh goes through the engine.
                    None if ssh_through_engine(w.net_profile()) => "exec".into(),
                    None => "-".into(),
                }),
                Cell::from(w.net_profile().as_str()),
                Cell::from(ellipsize(
                    w.profile.as_deref().map_or(&w.image, |_| &w.image),
                    image_w,
                )),
                Cell::from(w.uptime_secs(s.now).map_or("-".into(), human_duration)),
            ]);
            if size {
                // Measured in the background: "?" until known.
                cells.push(Cell::from(
                    s.volume_sizes
                        .get(&w.name)
                        .map_or("?".into(), |b| human_size(*b)),
                ));
            }
            if ttl {
                let deadline = s.deadlines.get(&w.name).copied().flatten();
                let left = crate::domain::ttl::countdown(s.now, deadline);
                let expired = left.as_deref() == Some("expired") && Some(i) != selected;
                let cell = Span::styled(
                    left.unwrap_or_else(|| "-".into()),
                    if expired { th.fg(Role::Warning) } else { style },
                );
                cells.push(Cell::from(cell));
            }
            if egress {
                cells.push(egress_cell(s, &w.name, Some(i) == selected));
            }
            Row::new(cells).style(style)
        })
        .collect();
    let mut widths = vec![Constraint::Length(name_w as u16)];
    if several {
        widths.push(Constraint::Length(ENGINE_W as u16));
    }
    if vms {
        widths.push(Constraint::Length(PROVIDER_W as u16));
    }
    widths.extend([
        Constraint::Length(12),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(image_w as u16),
        Constraint::Length(8),
    ]);
    if size {
        widths.push(Constraint::Length(SIZE_W as u16));
    }
    if ttl {
        widths.push(Constraint::Length(TTL_W as u16));
    }
    if egress {
        widths.push(Constraint::Length(EGRESS_W as u16));
    }
    let t = Table::new(rows, widths)
        .header(header)
        .block(b)
        .column_spacing(1);
    f.render_widget(t, area);
}

/// Width of the engine column (longer names are cut with "…").
const ENGINE_W: usize = 9;
/// Width of the provider column ("container", "vm/tcg").
const PROVIDER_W: usize = 9;
/// Width of the TTL countdown column ("expired", "23h59m").
const TTL_W: usize = 7;
/// Width of the home volume size column ("1.2G", "340M").
const SIZE_W: usize = 5;
/// The list's inner width from which the size column shows (the image keeps at
/// least 6 characters).
const SIZE_MIN_LIST: usize = 70;

/// Width of the egress counters column.
const EGRESS_W: usize = 13;

/// A proxy workspace's live counters, `requests/denied` (denials in the error
/// colour, the header names them); `-` for a workspace without an audit.
fn egress_cell<'a>(s: &State, name: &str, selected: bool) -> Cell<'a> {
    let th = s.theme();
    let Some(c) = s.egress_counts.get(name) else {
        return Cell::from("-");
    };
    let denied = if c.denied > 0 && !selected {
        th.fg(Role::Error)
    } else {
        ratatui::style::Style::default()
    };
    Cell::from(Line::from(vec![
        Span::raw(format!("{}/", c.requests)),
        Span::styled(c.denied.to_string(), denied),
    ]))
}
