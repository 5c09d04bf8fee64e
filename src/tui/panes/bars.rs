//! One-line bars: the engine banner, running jobs, the input line and the status bar.
use super::dim;
use crate::domain::workspace::WorkspaceState;
use crate::tui::keymap::{Action, Mode};
use crate::tui::state::{EngineLink, JobState, LineInput, Overlay, State};
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn banner(f: &mut Frame, r: Rect, s: &State) {
    let text = if let Some(line) = s.engines.banner() {
        format!(" ⚠ {line}")
    } else if let EngineLink::Down {
        reason,
        retry_in_secs,
        ..
    } = &s.link
    {
        format!(" ⚠ ENGINE DOWN, retrying in {retry_in_secs:.1}s; showing the last known state. {reason}")
    } else if let Some(line) = s.runtime_banner().or_else(|| s.alert_banner()) {
        format!(" ⚠ {line}")
    } else {
        return;
    };
    f.render_widget(
        Paragraph::new(text)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .style(s.theme().banner()),
        r,
    );
}

pub fn jobs(f: &mut Frame, r: Rect, s: &State) {
    let th = s.theme();
    let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"][(s.tick % 10) as usize];
    let lines: Vec<Line> = s
        .jobs
        .iter()
        .rev()
        .take(usize::from(r.height))
        .map(|j| match &j.state {
            JobState::Running => {
                let step = j
                    .step
                    .as_ref()
                    .map(|(i, n, d)| format!(" [{i}/{n}] {d}"))
                    .unwrap_or_default();
                let out = j
                    .last_output
                    .as_ref()
                    .map(|o| format!(" · {o}"))
                    .unwrap_or_default();
                Line::from(vec![
                    Span::styled(
                        format!(" {spinner} {} {}", j.action, j.name),
                        th.fg(Role::Transitional),
                    ),
                    Span::raw(step),
                    Span::styled(out, dim(s)),
                ])
            }
            JobState::Done(m) => Line::styled(format!(" ✔ {m}"), th.fg(Role::Ok)),
            JobState::Failed(m) => Line::styled(
                format!(" ✖ {} {} failed: {m}", j.action, j.name),
                th.fg(Role::Error),
            ),
        })
        .collect();
    f.render_widget(Paragraph::new(lines), r);
}

pub fn input(f: &mut Frame, r: Rect, s: &State) {
    let label = match s.input {
        Some(LineInput::Filter) => "filter",
        Some(LineInput::Search) => "search logs",
        None => return,
    };
    let th = s.theme();
    let line = Line::from(vec![
        Span::styled(format!(" {label}: "), th.fg(Role::Accent)),
        Span::raw(s.input_buf.clone()),
        Span::styled("█", th.fg(Role::Accent)),
        Span::styled("  (enter: apply · esc: cancel)", dim(s)),
    ]);
    f.render_widget(Paragraph::new(line), r);
}

fn hints(s: &State) -> Vec<(String, &'static str)> {
    let list: &[(Mode, Action, &str)] = match s.key_mode() {
        Mode::Confirm if matches!(s.overlay, Overlay::Quit { .. }) => &[
            (Mode::Confirm, Action::Confirm, "quit"),
            (Mode::Confirm, Action::Cancel, "keep working"),
        ],
        Mode::Form if matches!(s.overlay, Overlay::Copy(_)) => &[
            (Mode::Form, Action::Submit, "copy"),
            (Mode::Form, Action::NextField, "next"),
            (Mode::Form, Action::Cancel, "cancel"),
        ],
        Mode::Confirm if matches!(s.overlay, Overlay::Snapshots(_)) => &[
            (Mode::Confirm, Action::Confirm, "remove"),
            (Mode::Confirm, Action::Cancel, "keep"),
        ],
        Mode::Confirm if matches!(s.overlay, Overlay::Agents(_)) => &[
            (Mode::Confirm, Action::Confirm, "yes"),
            (Mode::Confirm, Action::Cancel, "no"),
        ],
        Mode::Agents => &[
            (Mode::Agents, Action::AgentAttach, "attach"),
            (Mode::Agents, Action::AgentDiff, "diff"),
            (Mode::Agents, Action::Close, "close"),
        ],
        Mode::Diff => &[
            (Mode::Diff, Action::NextFile, "next file"),
            (Mode::Diff, Action::PrevFile, "previous file"),
            (Mode::Diff, Action::Close, "back"),
        ],
        Mode::Engines => &[
            (Mode::Engines, Action::Confirm, "list these"),
            (Mode::Engines, Action::Close, "close"),
        ],
        Mode::Mcp => &[
            (Mode::Mcp, Action::Up, "back"),
            (Mode::Mcp, Action::Bottom, "follow"),
            (Mode::Mcp, Action::Close, "close"),
        ],
        Mode::Snapshots => &[
            (Mode::Snapshots, Action::SnapshotTake, "take"),
            (Mode::Snapshots, Action::SnapshotRestore, "restore"),
            (Mode::Snapshots, Action::SnapshotRemove, "remove"),
            (Mode::Snapshots, Action::Close, "close"),
        ],
        Mode::Egress => &[
            (Mode::Egress, Action::Search, "search"),
            (Mode::Egress, Action::EgressDenied, "denied only"),
            (Mode::Egress, Action::Top, "top"),
            (Mode::Egress, Action::Bottom, "follow"),
            (Mode::Egress, Action::Close, "close"),
        ],
        Mode::Form => &[
            (Mode::Form, Action::Submit, "create"),
            (Mode::Form, Action::NextField, "next"),
            (Mode::Form, Action::Cancel, "cancel"),
        ],
        Mode::Confirm => &[
            (Mode::Confirm, Action::Confirm, "delete"),
            (Mode::Confirm, Action::ToggleKeep, "keep volume"),
            (Mode::Confirm, Action::Cancel, "cancel"),
        ],
        Mode::Help => &[(Mode::Help, Action::Close, "close")],
        Mode::Shell => &[
            (Mode::Shell, Action::ShellLeave, "leave shell"),
            (Mode::Shell, Action::ShellFullscreen, "full screen"),
            (Mode::Shell, Action::ShellScrollUp, "scroll back"),
        ],
        Mode::Logs => &[
            (Mode::Logs, Action::Search, "search"),
            (Mode::Logs, Action::SearchNext, "next"),
            (Mode::Logs, Action::TogglePause, "pause"),
            (Mode::Logs, Action::ToggleTimestamps, "time"),
            (Mode::Logs, Action::SaveLogs, "save"),
            (Mode::Global, Action::FocusNext, "focus"),
            (Mode::Global, Action::Help, "help"),
        ],
        _ => &[
            (Mode::Global, Action::Create, "create"),
            (Mode::Normal, Action::OpenShell, "shell"),
            (Mode::Normal, Action::Start, "start"),
            (Mode::Normal, Action::Stop, "stop"),
            (Mode::Normal, Action::Restart, "restart"),
            (Mode::Normal, Action::Delete, "delete"),
            (Mode::Normal, Action::Filter, "filter"),
            (Mode::Global, Action::FocusNext, "focus"),
            (Mode::Global, Action::Help, "help"),
            (Mode::Global, Action::Quit, "quit"),
        ],
    };
    list.iter()
        .map(|(m, a, label)| (s.keymap.first_key(*m, *a), *label))
        .collect()
}

pub fn statusbar(f: &mut Frame, r: Rect, s: &State) {
    let th = s.theme();
    let mut spans = vec![];
    let (text, role) = match &s.link {
        _ if s.engines.several() => {
            let role = if s.engines.any_down() {
                Role::Warning
            } else {
                Role::Ok
            };
            (format!(" ● {} ", s.engines.summary()), role)
        }
        EngineLink::Up { endpoint } if r.width >= 140 => (format!(" ● {endpoint} "), Role::Ok),
        EngineLink::Up { .. } => (" ● engine ".to_string(), Role::Ok),
        EngineLink::Connecting => (" connecting… ".to_string(), Role::Transitional),
        EngineLink::Down { .. } => (" ✖ engine down ".to_string(), Role::Error),
    };
    spans.push(Span::styled(text, th.fg(role)));
    if let Some(j) = &s.jobs_runner {
        spans.push(Span::styled(format!("jobs: {j} · "), dim(s)));
    }
    if let Some(r) = &s.runtimes {
        let bad: Vec<&str> = r.unhealthy().iter().map(|c| c.runtime.as_str()).collect();
        if !bad.is_empty() {
            spans.push(Span::styled(
                format!("⚠ runtime {} unhealthy · ", bad.join(", ")),
                th.fg(Role::Error),
            ));
        }
    }
    if s.mcp_running > 0 {
        spans.push(Span::styled(
            format!(
                "MCP: {} running ({} shows) · ",
                s.mcp_running,
                s.keymap.first_key(Mode::Normal, Action::McpActivity)
            ),
            th.fg(Role::Transitional),
        ));
    }
    if s.config_ignored {
        spans.push(Span::styled(
            "⚠ config file not used (defaults) · ",
            th.fg(Role::Warning),
        ));
    }
    // What just happened comes first: the counts and key hints may be cut off.
    if let Some(n) = &s.notice {
        spans.push(Span::styled(format!("{n} · "), th.fg(Role::Accent)));
    } else if let Some(e) = &s.last_error {
        spans.push(Span::styled(format!("{e} · "), th.fg(Role::Error)));
    }
    let unfinished = s
        .workspaces
        .iter()
        .filter(|w| !w.provision.is_ready())
        .count();
    spans.push(Span::styled(
        format!(
            "{} running · {} stopped · ",
            s.count(WorkspaceState::Running),
            s.count(WorkspaceState::Stopped),
        ),
        dim(s),
    ));
    if unfinished > 0 {
        spans.push(Span::styled(
            format!("⚠ {unfinished} incomplete · "),
            th.fg(Role::Warning),
        ));
    }
    spans.push(Span::styled(
        format!("{} total ", s.workspaces.len()),
        dim(s),
    ));
    spans.push(Span::raw("│"));
    for (key, label) in hints(s) {
        spans.push(Span::styled(format!(" {key}"), th.fg(Role::Key)));
        spans.push(Span::styled(format!(" {label}"), dim(s)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), r);
}
