//! The agents overlay: the agent sessions as a table (agent, repository, branch,
//! state, commits ahead of base), the selected one highlighted, a confirmation
//! when an action waits for one, and the keys; or a session's diff.
use super::{dim, ellipsize, state_mark};
use crate::tui::agents_view::{self, AgentsView};
use crate::tui::keymap::{Action, Mode};
use crate::tui::state::State;
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// Where the overlays of this kind go: all of the screen but the status bar.
pub(super) fn area(area: Rect) -> Rect {
    Rect::new(area.x, area.y, area.width, area.height.saturating_sub(1))
}

/// A bordered, focused block titled `title`; its inner area.
pub(super) fn frame(f: &mut Frame, r: Rect, s: &State, title: String) -> Rect {
    let th = s.theme();
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.border(true))
        .title(title)
        .title_style(th.fg(Role::Title))
        .style(th.base());
    let inner = block.inner(r);
    f.render_widget(block, r);
    inner
}

/// `key label  key label ...` in the theme's key colour.
pub(super) fn key_line<'a>(s: &State, keys: &[(Mode, Action, &'a str)]) -> Line<'a> {
    let th = s.theme();
    let mut spans = Vec::new();
    for (m, a, label) in keys {
        spans.push(Span::styled(s.keymap.keys(*m, *a), th.fg(Role::Key)));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    Line::from(spans)
}

pub fn draw(f: &mut Frame, full: Rect, s: &State, v: &AgentsView) {
    if let Some(d) = &v.diff {
        return super::diff_view::draw(f, area(full), s, d);
    }
    let th = s.theme();
    let inner = frame(f, area(full), s, " Agent sessions ".into());
    let rows = agents_view::rows(s);
    let width = usize::from(inner.width);
    // Fixed: agent 10, state 9, ahead 5 and spaces; repo and branch share the rest.
    let rest = width.saturating_sub(10 + 1 + 11 + 1 + 5 + 3);
    let repo_w = (rest * 2 / 5).max(6);
    let branch_w = rest.saturating_sub(repo_w).max(6);
    let mut lines = vec![Line::styled(
        format!(
            "{:<10} {:<repo_w$} {:<branch_w$} {:<11} {:>5}",
            "AGENT", "REPO", "BRANCH", "STATE", "AHEAD"
        ),
        th.fg(Role::Accent).add_modifier(Modifier::BOLD),
    )];
    let room = usize::from(inner.height.saturating_sub(3)).max(1);
    if rows.is_empty() {
        lines.push(Line::styled(
            "No agent sessions. `berth agent launch AGENT REPO` starts one.",
            dim(s),
        ));
    }
    let first = v.selected.saturating_sub(room - 1);
    for (i, r) in rows.iter().enumerate().skip(first).take(room) {
        let (mark, role) = state_mark(r.state);
        let repo = r.session.repo.as_deref().unwrap_or("-");
        // The repository's last part is what tells sessions apart.
        let repo = repo.rsplit('/').find(|p| !p.is_empty()).unwrap_or(repo);
        let text = format!(
            "{:<10} {:<repo_w$} {:<branch_w$} ",
            ellipsize(&r.session.agent, 10),
            ellipsize(repo, repo_w),
            ellipsize(&r.session.branch, branch_w),
        );
        let state = format!("{mark} {:<9}", r.state.as_str());
        let ahead = format!(" {:>5}", agents_view::ahead_text(s, &r.session.name));
        let line = if i == v.selected {
            let sel = th.fg(Role::Accent).add_modifier(Modifier::REVERSED);
            Line::styled(format!("{text}{state}{ahead}"), sel)
        } else {
            Line::from(vec![
                Span::styled(text, th.fg(Role::Fg)),
                Span::styled(state, th.fg(role)),
                Span::styled(ahead, th.fg(Role::Fg)),
            ])
        };
        lines.push(line);
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
    let prompt = match &v.confirm {
        Some(p) => {
            let branch = rows
                .iter()
                .find(|r| r.session.name == p.name)
                .map_or(p.name.clone(), |r| r.session.branch.clone());
            let mut spans = vec![Span::styled(
                format!("{} ", agents_view::question(p, &branch)),
                th.fg(Role::Warning).add_modifier(Modifier::BOLD),
            )];
            let mut keys = vec![
                (Mode::Confirm, Action::Confirm, "yes"),
                (Mode::Confirm, Action::Cancel, "no"),
            ];
            if matches!(
                p.action,
                crate::backend::service::AgentAction::Remove { .. }
            ) {
                keys.push((Mode::Confirm, Action::TogglePush, "push or not"));
            }
            spans.extend(key_line(s, &keys).spans);
            Line::from(spans)
        }
        None => Line::raw(""),
    };
    f.render_widget(Paragraph::new(prompt), bottom(2));
    let keys = key_line(
        s,
        &[
            (Mode::Agents, Action::AgentAttach, "attach"),
            (Mode::Agents, Action::AgentDiff, "diff"),
            (Mode::Agents, Action::AgentBringBack, "bring back"),
            (Mode::Agents, Action::AgentMerge, "merge"),
            (Mode::Agents, Action::AgentRemove, "remove"),
            (Mode::Agents, Action::Close, "close"),
        ],
    );
    f.render_widget(Paragraph::new(keys), bottom(1));
}
