//! Mouse and paste: what the user points at or pastes, turned into state changes
//! and effects (keys: `update_input`).
use super::layout;
use super::state::{Effect, Focus, Overlay, State};
use super::update::{current_areas, log_height, move_selection};
use super::update_input::live_filter;
use super::update_shell as shells;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

pub(super) fn on_paste(s: &mut State, text: &str) -> Vec<Effect> {
    if s.focus == Focus::Shell && s.input.is_none() && matches!(s.overlay, Overlay::None) {
        return shells::on_paste(s, text);
    }
    let one_line: String = text.lines().collect::<Vec<_>>().join(" ");
    if let Some(input) = s.input {
        s.input_buf.push_str(&one_line);
        return live_filter(s, input);
    }
    if let Overlay::Copy(form) = &mut s.overlay {
        if let Some(t) = form.focused_mut() {
            t.insert_str(&one_line);
        }
    }
    if let Overlay::Form(form) = &mut s.overlay {
        if form.focused().is_choice() {
            return vec![];
        }
        form.focused_mut().insert_str(&one_line);
    }
    vec![]
}

pub(super) fn on_mouse(s: &mut State, m: MouseEvent) -> Vec<Effect> {
    if !s.mouse || !matches!(s.overlay, Overlay::None) {
        return vec![];
    }
    let a = current_areas(s);
    let (col, row) = (m.column, m.row);
    if a.shell.is_some_and(|r| layout::contains(r, col, row)) {
        return shells::on_mouse(s, m);
    }
    let in_list = layout::contains(a.list, col, row);
    let in_logs = a.logs.is_some_and(|r| layout::contains(r, col, row));
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) if in_list => {
            s.focus = Focus::List;
            let first_row = a.list.y + 2;
            if row >= first_row {
                let i = s.list_offset + usize::from(row - first_row);
                if let Some(idx) = s.view.get(i).copied() {
                    return super::update::select_ws(s, Some(idx));
                }
            }
            vec![]
        }
        MouseEventKind::Down(MouseButton::Left) if in_logs => {
            s.focus = Focus::Logs;
            vec![]
        }
        MouseEventKind::Down(MouseButton::Left)
            if a.status.is_some_and(|r| layout::contains(r, col, row)) =>
        {
            s.focus = Focus::Status;
            vec![]
        }
        MouseEventKind::ScrollUp if in_logs => {
            let h = log_height(s);
            s.logs.scroll_up(3, h);
            vec![]
        }
        MouseEventKind::ScrollDown if in_logs => {
            s.logs.scroll_down(3);
            vec![]
        }
        MouseEventKind::ScrollUp if in_list => move_selection(s, -1),
        MouseEventKind::ScrollDown if in_list => move_selection(s, 1),
        _ => vec![],
    }
}
