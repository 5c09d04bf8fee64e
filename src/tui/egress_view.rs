//! The egress audit view of a workspace (an overlay): its proxy's records as a
//! table, newest at the bottom and following, scrollable, searched as you type
//! (`/`: host, URL, method, status), denied only at a key, with the workspace's
//! live counters. Pure: keys and backend events in, state and effects out.
use super::egress_ring::EgressRing;
use super::keymap::Action;
use super::state::{Effect, Overlay, State};
use crate::backend::service::Command;
use crate::domain::egress::EgressRecord;
use crate::domain::egress_audit::{no_audit, profile_of, AuditFilter};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressView {
    pub workspace: String,
    /// Why the workspace has no audit (nothing is followed then).
    pub unavailable: Option<String>,
    pub ring: EgressRing,
    /// The search being typed (keys are text until enter or esc).
    pub typing: Option<String>,
    /// The backend has answered (a reset or records).
    pub loaded: bool,
}

impl EgressView {
    pub fn new(workspace: &str, capacity: usize) -> Self {
        Self {
            workspace: workspace.to_string(),
            unavailable: None,
            ring: EgressRing::new(capacity),
            typing: None,
            loaded: false,
        }
    }
}

/// Where the view goes on a terminal of `size`: all of it but the status bar.
pub fn area(size: (u16, u16)) -> ratatui::layout::Rect {
    ratatui::layout::Rect::new(0, 0, size.0, size.1.saturating_sub(1))
}

/// Table rows on a terminal of `size`: the view less its border, the counters
/// line, the table's header and the key line.
pub fn table_rows(size: (u16, u16)) -> usize {
    usize::from(area(size).height.saturating_sub(5)).max(1)
}

fn view(s: &mut State) -> Option<&mut EgressView> {
    match &mut s.overlay {
        Overlay::Egress(v) => Some(v),
        _ => None,
    }
}

/// Opens the view for the selected workspace and follows its audit (a workspace
/// that is not `proxy` shows why it has none).
pub fn open(s: &mut State) -> Vec<Effect> {
    let Some(w) = s.selected_workspace() else {
        s.notice = Some("no workspace selected".into());
        return vec![];
    };
    let name = w.name.clone();
    let why = no_audit(&name, profile_of(&w.labels));
    let mut v = EgressView::new(&name, s.egress_records);
    let fx = match why {
        Some(why) => {
            v.unavailable = Some(why);
            vec![]
        }
        None => vec![Effect::Backend(Command::Egress(Some(name)))],
    };
    s.overlay = Overlay::Egress(Box::new(v));
    fx
}

fn close(s: &mut State) -> Vec<Effect> {
    let followed = view(s).is_some_and(|v| v.unavailable.is_none());
    s.overlay = Overlay::None;
    if followed {
        vec![Effect::Backend(Command::Egress(None))]
    } else {
        vec![]
    }
}

/// The backend follows `name`'s audit from scratch.
pub fn on_reset(s: &mut State, name: &str) {
    if let Some(v) = view(s).filter(|v| v.workspace == name) {
        v.ring.clear();
        v.loaded = true;
    }
}

/// New records of `name`'s audit.
pub fn on_records(s: &mut State, name: &str, records: Vec<EgressRecord>) {
    if let Some(v) = view(s).filter(|v| v.workspace == name) {
        v.ring.push(records);
        v.loaded = true;
    }
}

/// A key while the view is open.
pub fn on_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    if view(s).is_some_and(|v| v.typing.is_some()) {
        on_search_key(s, k);
        return vec![];
    }
    let action = s.keymap.action(s.key_mode(), &k);
    let rows = table_rows(s.size);
    let Some(v) = view(s) else {
        return vec![];
    };
    let ring = &mut v.ring;
    match action {
        Some(Action::Close) => return close(s),
        Some(Action::ClearSearch) if ring.filter().query().is_empty() => return close(s),
        Some(Action::ClearSearch) => {
            let denied = ring.filter().denied_only;
            ring.set_filter(AuditFilter::new(denied, ""));
        }
        Some(Action::Up) => ring.scroll_up(1, rows),
        Some(Action::Down) => ring.scroll_down(1),
        Some(Action::PageUp) => ring.scroll_up(rows, rows),
        Some(Action::PageDown) => ring.scroll_down(rows),
        Some(Action::Top) => ring.top(rows),
        Some(Action::Bottom) => ring.follow(),
        Some(Action::Search) => v.typing = Some(ring.filter().query().to_string()),
        Some(Action::EgressDenied) => {
            let f = ring.filter();
            let next = AuditFilter::new(!f.denied_only, f.query());
            ring.set_filter(next);
        }
        _ => {}
    }
    vec![]
}

/// Typing a search: the table narrows with every key.
fn on_search_key(s: &mut State, k: KeyEvent) {
    let Some(v) = view(s) else { return };
    let Some(input) = v.typing.as_mut() else {
        return;
    };
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match k.code {
        KeyCode::Enter => {
            v.typing = None;
            return;
        }
        KeyCode::Esc => {
            input.clear();
            v.typing = None;
        }
        KeyCode::Char('c') if ctrl => {
            input.clear();
            v.typing = None;
        }
        KeyCode::Char('u') if ctrl => input.clear(),
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Char(c) if !ctrl => input.push(c),
        _ => return,
    }
    let query = v.typing.clone().unwrap_or_default();
    let denied = v.ring.filter().denied_only;
    v.ring.set_filter(AuditFilter::new(denied, &query));
}
