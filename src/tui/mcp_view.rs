//! The MCP activity view (an overlay): every `berth mcp` call, live (time,
//! client, operation, workspace, result, duration), newest at the bottom and
//! followed unless scrolled back; running calls show a spinner. The backend
//! polls the store only while the view is open. Pure: keys and events in.
use super::keymap::{Action, Mode};
use super::state::{Effect, Overlay, State};
use crate::backend::service::Command;
use crate::store::mcp_calls::McpCall;
use crossterm::event::KeyEvent;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct McpView {
    /// `None` until the backend has answered.
    pub calls: Option<Vec<McpCall>>,
    /// Rows scrolled back from the newest (0: following).
    pub back: usize,
}

fn view(s: &mut State) -> Option<&mut McpView> {
    match &mut s.overlay {
        Overlay::Mcp(v) => Some(v),
        _ => None,
    }
}

/// Table rows on a terminal of `size`: the overlay (all but the status bar) less
/// its border, the table's header and the key line.
pub fn table_rows(size: (u16, u16)) -> usize {
    usize::from(size.1.saturating_sub(1).saturating_sub(4)).max(1)
}

pub fn open(s: &mut State) -> Vec<Effect> {
    s.overlay = Overlay::Mcp(Box::default());
    vec![Effect::Backend(Command::McpView(true))]
}

/// The calls as the backend read them (ignored when the view is closed).
pub fn on_calls(s: &mut State, calls: Vec<McpCall>) {
    if let Some(v) = view(s) {
        let n = calls.len();
        v.calls = Some(calls);
        v.back = v.back.min(n.saturating_sub(1));
    }
}

pub fn on_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    let action = s.keymap.action(Mode::Mcp, &k);
    let rows = table_rows(s.size);
    let Some(v) = view(s) else { return vec![] };
    let n = v.calls.as_ref().map_or(0, Vec::len);
    let most = n.saturating_sub(rows);
    v.back = match action {
        Some(Action::Close) => {
            s.overlay = Overlay::None;
            return vec![Effect::Backend(Command::McpView(false))];
        }
        Some(Action::Up) => v.back + 1,
        Some(Action::Down) => v.back.saturating_sub(1),
        Some(Action::PageUp) => v.back + rows,
        Some(Action::PageDown) => v.back.saturating_sub(rows),
        Some(Action::Top) => most,
        Some(Action::Bottom) => 0,
        _ => v.back,
    }
    .min(most);
    vec![]
}

/// `HH:MM:SS` (UTC) of a call's start.
pub fn time_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| "?".into(), |t| t.format("%H:%M:%S").to_string())
}

/// A call's duration: "850 ms", "12.3 s".
pub fn took(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}
