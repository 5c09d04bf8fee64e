//! Drawing. Reads state, never changes it.
mod activity;
mod agents_view;
mod bars;
mod copy_form;
mod diff_view;
mod egress_view;
mod engines;
mod list;
mod logs;
mod mcp_view;
mod overlays;
mod shell;
mod snapshot_view;
mod status;
pub mod term_view;

use super::layout;
use super::state::{Overlay, State};
use super::theme::Role;
use crate::domain::workspace::WorkspaceState;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders};
use ratatui::Frame;

/// Draws the whole screen.
pub fn draw(f: &mut Frame, s: &State) {
    let area = f.area();
    let th = s.theme();
    f.buffer_mut().set_style(area, th.base());
    let a = layout::areas(area, &s.layout_flags());
    if let Some(r) = a.banner {
        bars::banner(f, r, s);
    }
    list::draw(f, a.list, s);
    if let Some(r) = a.status {
        status::draw(f, r, s);
    }
    if let Some(r) = a.logs {
        logs::draw(f, r, s);
    }
    if let Some(r) = a.tabs {
        shell::tabs(f, r, s);
    }
    if let Some(r) = a.shell {
        shell::draw(f, r, s);
    }
    if let Some(r) = a.jobs {
        bars::jobs(f, r, s);
    }
    if let Some(r) = a.input {
        bars::input(f, r, s);
    }
    bars::statusbar(f, a.statusbar, s);
    match &s.overlay {
        Overlay::None => {
            if !s.config_problems.is_empty() {
                overlays::problems(f, area, s);
            }
        }
        Overlay::Help { scroll } => overlays::help(f, area, s, *scroll),
        Overlay::Confirm {
            name,
            keep_volume,
            owned,
        } => overlays::confirm(f, area, s, name, *keep_volume, owned.as_ref()),
        Overlay::Form(form) => overlays::form(f, area, s, form),
        Overlay::Copy(form) => copy_form::draw(f, area, s, form),
        Overlay::Quit { waiting } => overlays::quit(f, area, s, *waiting),
        Overlay::Snapshots(v) => snapshot_view::draw(f, area, s, v),
        Overlay::Egress(v) => egress_view::draw(f, area, s, v),
        Overlay::Agents(v) => agents_view::draw(f, area, s, v),
        Overlay::Mcp(v) => mcp_view::draw(f, area, s, v),
        Overlay::Engines { cursor } => engines::draw(f, area, s, *cursor),
    }
}

/// A bordered block whose border shows focus.
pub(super) fn block<'a>(s: &State, title: String, focused: bool) -> Block<'a> {
    let th = s.theme();
    Block::default()
        .borders(Borders::ALL)
        .border_style(th.border(focused))
        .title(title)
        .title_style(th.fg(Role::Title))
}

/// Symbol and colour role for a state: never colour alone.
pub(super) fn state_mark(st: WorkspaceState) -> (&'static str, Role) {
    match st {
        WorkspaceState::Running => ("●", Role::Running),
        WorkspaceState::Stopped => ("○", Role::Stopped),
        WorkspaceState::Created => ("◌", Role::Transitional),
        WorkspaceState::Paused => ("‖", Role::Transitional),
        WorkspaceState::Restarting => ("↻", Role::Transitional),
        WorkspaceState::Removing => ("…", Role::Transitional),
        WorkspaceState::Dead => ("✖", Role::Error),
        WorkspaceState::Absent => ("⚠", Role::Warning),
        WorkspaceState::Unknown => ("?", Role::Warning),
    }
}

pub(super) use super::layout::centered;

/// Cuts text to `max` display cells, ending in "…" when cut.
pub(super) fn ellipsize(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

pub(super) fn dim(s: &State) -> Style {
    s.theme().fg(Role::Dim)
}
