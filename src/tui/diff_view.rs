//! The diff of an agent session's branch against its base (inside the agents
//! view): scrollable, a key to jump to the next or previous file, a header saying
//! which file of how many, and a note when the backend cut the diff short.
//! Pure: keys and backend events in, state out.
use super::agents_view::view;
use super::keymap::Action;
use super::state::{Effect, State};
use crate::domain::diff::Diff;

#[derive(Debug, Clone, PartialEq)]
pub struct DiffView {
    pub name: String,
    /// `None` while loading; the error when it could not be read.
    pub diff: Option<Result<Diff, String>>,
    /// The first line shown.
    pub scroll: usize,
}

impl DiffView {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            diff: None,
            scroll: 0,
        }
    }

    fn loaded(&self) -> Option<&Diff> {
        self.diff.as_ref().and_then(|d| d.as_ref().ok())
    }

    /// The file at the top of the screen (index), and how many there are.
    pub fn position(&self) -> Option<(usize, usize)> {
        let d = self.loaded()?;
        Some((d.file_at(self.scroll)?, d.files.len()))
    }

    fn max_scroll(&self, rows: usize) -> usize {
        self.loaded()
            .map_or(0, |d| d.line_count().saturating_sub(rows))
    }
}

/// Lines of diff on screen for a terminal of `size`: the overlay (all but the
/// status bar) less its border, the file line and the key line.
pub fn text_rows(size: (u16, u16)) -> usize {
    usize::from(size.1.saturating_sub(1).saturating_sub(4)).max(1)
}

/// The backend's diff of `name`: shown if the view waits for it.
pub fn on_diff(s: &mut State, name: &str, diff: Result<Diff, String>) {
    if let Some(d) = view(s)
        .and_then(|v| v.diff.as_mut())
        .filter(|d| d.name == name)
    {
        d.diff = Some(diff);
        d.scroll = 0;
    }
}

/// A key's action while the diff is shown.
pub fn on_action(s: &mut State, action: Option<Action>) -> Vec<Effect> {
    let rows = text_rows(s.size);
    let Some(v) = view(s) else { return vec![] };
    if action == Some(Action::Close) {
        v.diff = None;
        return vec![];
    }
    let Some(d) = v.diff.as_mut() else {
        return vec![];
    };
    let max = d.max_scroll(rows);
    let starts = d.loaded().map(Diff::file_starts).unwrap_or_default();
    let next = match action {
        Some(Action::Up) => d.scroll.saturating_sub(1),
        Some(Action::Down) => d.scroll + 1,
        Some(Action::PageUp) => d.scroll.saturating_sub(rows),
        Some(Action::PageDown) => d.scroll + rows,
        Some(Action::Top) => 0,
        Some(Action::Bottom) => max,
        Some(Action::NextFile) => starts
            .iter()
            .copied()
            .find(|st| *st > d.scroll)
            .unwrap_or(d.scroll),
        Some(Action::PrevFile) => starts
            .iter()
            .copied()
            .rev()
            .find(|st| *st < d.scroll)
            .unwrap_or(0),
        _ => d.scroll,
    };
    // A jump puts a file's start at the top, even the last file's (past `max`);
    // scrolling down stops at `max` (or where a jump left it).
    let jump = matches!(action, Some(Action::NextFile | Action::PrevFile));
    d.scroll = if jump || next <= d.scroll {
        next
    } else {
        next.min(max.max(d.scroll))
    };
    vec![]
}
