//! Modal overlays: help (generated from the active keymap), delete confirmation,
//! the create form, and config problems.
use super::{centered, dim};
use crate::backend::sidecars::Owned;
use crate::domain::naming::OBJECT_PREFIX;
use crate::domain::workspace::{WorkspaceState, WORKSPACE_HOME};
use crate::tui::form::CreateForm;
use crate::tui::keymap::Mode;
use crate::tui::state::State;
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

fn frame_block<'a>(s: &State, title: &str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(s.theme().border(true))
        .title(format!(" {title} "))
        .title_style(s.theme().fg(Role::Title))
        .style(s.theme().base())
}

pub fn help(f: &mut Frame, area: Rect, s: &State, scroll: usize) {
    let th = s.theme();
    let mut lines = Vec::new();
    for mode in Mode::ALL {
        lines.push(Line::styled(
            format!("{} keys", mode.name()),
            th.fg(Role::Title).add_modifier(Modifier::BOLD),
        ));
        for (action, keys) in s.keymap.entries(mode) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<20}"), th.fg(Role::Key)),
                Span::raw(action.describe()),
            ]));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "Keys are set in the config file's [keys.<mode>] tables.",
        dim(s),
    ));
    let r = crate::tui::layout::help_area((area.width, area.height));
    // `update` keeps the scroll in range; this only guards a frame drawn mid-resize.
    let scroll = scroll.min(crate::tui::layout::help_max_scroll(
        lines.len(),
        (area.width, area.height),
    )) as u16;
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(frame_block(s, "Help")),
        r,
    );
}

pub fn quit(f: &mut Frame, area: Rect, s: &State, waiting: bool) {
    let th = s.theme();
    let n = s.running_jobs();
    let k = |a| s.keymap.keys(Mode::Confirm, a);
    use crate::tui::keymap::Action;
    let lines = if waiting {
        vec![
            Line::raw(format!(
                "Cancelling {n} job(s) and waiting for them to roll back…"
            )),
            Line::raw("berth quits when they have ended."),
            Line::raw(""),
            Line::styled(
                "ctrl-c quits now: a workspace still being created is left incomplete (shown as such; `berth create` starts it over).",
                dim(s),
            ),
        ]
    } else {
        let names: Vec<String> = s
            .jobs
            .iter()
            .filter(|j| j.state == crate::tui::state::JobState::Running)
            .map(|j| format!("{} {}", j.action, j.name))
            .collect();
        vec![
            Line::raw(format!("{n} job(s) still running: {}.", names.join(", "))),
            Line::raw("Quit anyway? Running jobs are cancelled; creates roll back first."),
            Line::raw(""),
            Line::from(vec![
                Span::styled(k(Action::Confirm), th.fg(Role::Key)),
                Span::raw(" cancel them and quit   "),
                Span::styled(k(Action::Cancel), th.fg(Role::Key)),
                Span::raw(" keep working"),
            ]),
        ]
    };
    let r = centered(area, 78, 8);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(frame_block(s, "Quit")),
        r,
    );
}

/// The line that says what goes with a workspace (its sidecars and services, and
/// their volumes unless kept), as far as the backend has answered.
fn goes_with(s: &State, owned: Option<&Result<Owned, String>>, keep_volume: bool) -> Line<'static> {
    let th = s.theme();
    match owned {
        None => Line::styled(
            "Finding out which services and sidecars go with it...",
            th.fg(Role::Dim),
        ),
        Some(Err(why)) => Line::styled(
            format!("Cannot tell which services and sidecars go with it: {why}"),
            th.fg(Role::Warning),
        ),
        Some(Ok(o)) => {
            let mut o = o.clone();
            if keep_volume {
                o.volumes.clear();
            }
            match o.describe() {
                Some(d) => Line::styled(format!("With it go its {d}."), th.fg(Role::Warning)),
                None => Line::raw("It has no services or sidecars."),
            }
        }
    }
}

pub fn confirm(
    f: &mut Frame,
    area: Rect,
    s: &State,
    name: &str,
    keep_volume: bool,
    owned: Option<&Result<Owned, String>>,
) {
    let th = s.theme();
    let w = s.workspaces.iter().find(|w| w.name == name);
    let volume = w.map_or_else(|| format!("{OBJECT_PREFIX}{name}"), |w| w.volume.clone());
    let lost = if keep_volume {
        Line::styled(
            format!("The volume {volume} is KEPT; a later create with this name reuses it."),
            th.fg(Role::Ok),
        )
    } else {
        Line::styled(
            format!("The volume {volume} is DELETED: everything in {WORKSPACE_HOME} is lost."),
            th.fg(Role::Error).add_modifier(Modifier::BOLD),
        )
    };
    let removes = match w {
        Some(w) if w.state != WorkspaceState::Absent => {
            format!(
                "This removes container {} and frees its SSH port.",
                w.container
            )
        }
        _ => "It has no container (an interrupted create left only its volume).".to_string(),
    };
    let k = |a| s.keymap.keys(Mode::Confirm, a);
    use crate::tui::keymap::Action;
    let lines = vec![
        Line::raw(format!("Delete workspace {name}?")),
        Line::raw(removes),
        lost,
        goes_with(s, owned, keep_volume),
        Line::raw(""),
        Line::from(vec![
            Span::styled(k(Action::Confirm), th.fg(Role::Key)),
            Span::raw(" delete   "),
            Span::styled(k(Action::ToggleKeep), th.fg(Role::Key)),
            Span::raw(if keep_volume {
                " drop the volume too   "
            } else {
                " keep the volume   "
            }),
            Span::styled(k(Action::Cancel), th.fg(Role::Key)),
            Span::raw(" cancel"),
        ]),
    ];
    let r = centered(area, 78, 10);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(frame_block(s, "Delete")),
        r,
    );
}

pub fn form(f: &mut Frame, area: Rect, s: &State, form: &CreateForm) {
    let th = s.theme();
    let r = centered(area, 84, 20);
    f.render_widget(Clear, r);
    f.render_widget(frame_block(s, "Create workspace"), r);
    let inner = Rect::new(
        r.x + 2,
        r.y + 1,
        r.width.saturating_sub(4),
        r.height.saturating_sub(2),
    );
    let mut y = inner.y;
    for (i, (field, ta)) in form.fields.iter().enumerate() {
        // Two rows a field (the input, then its problem or hint); the last row is the footer's.
        if y + 2 > inner.y + inner.height.saturating_sub(1) {
            break;
        }
        let focused = i == form.focus;
        let err = form
            .error(*field)
            .filter(|_| form.submitted || (focused && !form.value(*field).is_empty()));
        let label_style = if focused {
            th.fg(Role::Accent).add_modifier(Modifier::BOLD)
        } else {
            th.fg(Role::Fg)
        };
        f.render_widget(
            Paragraph::new(Line::styled(field.label(), label_style)),
            Rect::new(inner.x, y, 12, 1),
        );
        let input = Rect::new(inner.x + 12, y, inner.width.saturating_sub(12), 1);
        if field.is_choice() {
            let style = if focused {
                th.fg(Role::Accent).add_modifier(Modifier::BOLD)
            } else {
                th.fg(Role::Fg)
            };
            let line = Line::from(vec![
                Span::styled("◂ ", dim(s)),
                Span::styled(form.value(*field), style),
                Span::styled(" ▸", dim(s)),
            ]);
            f.render_widget(Paragraph::new(line), input);
        } else {
            let mut ta = ta.clone();
            ta.set_cursor_line_style(th.base());
            ta.set_style(if focused {
                th.fg(Role::Fg).add_modifier(Modifier::UNDERLINED)
            } else {
                th.base()
            });
            ta.set_placeholder_style(dim(s));
            if !focused {
                ta.set_cursor_style(th.base());
            }
            f.render_widget(&ta, input);
        }
        let note = match err {
            Some(e) => Line::styled(format!("  {e}"), th.fg(Role::Error)),
            None if focused && field.is_choice() => {
                Line::styled(format!("  {}", field.hint()), dim(s))
            }
            None => Line::raw(""),
        };
        f.render_widget(
            Paragraph::new(note),
            Rect::new(inner.x + 12, y + 1, inner.width.saturating_sub(12), 1),
        );
        y += 2;
    }
    let k = |a| s.keymap.keys(Mode::Form, a);
    use crate::tui::keymap::Action;
    let footer = if s.config_ignored {
        // Settings such as the runtime or limits would silently not apply.
        Line::styled(
            "⚠ your config file has an error: this create uses berth's defaults",
            th.fg(Role::Warning),
        )
    } else {
        Line::from(vec![
            Span::styled(k(Action::Submit), th.fg(Role::Key)),
            Span::raw(" create  "),
            Span::styled(k(Action::NextField), th.fg(Role::Key)),
            Span::raw(" next field  "),
            Span::styled("←/→", th.fg(Role::Key)),
            Span::raw(" choose  "),
            Span::styled(k(Action::Cancel), th.fg(Role::Key)),
            Span::raw(" cancel"),
        ])
    };
    if r.height > 2 {
        f.render_widget(
            Paragraph::new(footer),
            Rect::new(inner.x, r.y + r.height - 2, inner.width, 1),
        );
    }
}

pub fn problems(f: &mut Frame, area: Rect, s: &State) {
    let th = s.theme();
    let mut lines: Vec<Line> = vec![Line::styled(
        "Your settings have problems; berth uses its defaults where they are:",
        th.fg(Role::Warning),
    )];
    lines.extend(
        s.config_problems
            .iter()
            .map(|p| Line::raw(format!("• {p}"))),
    );
    lines.push(Line::styled("Press any key to continue.", dim(s)));
    let h = (lines.len() as u16 + 4).min(area.height);
    let r = centered(area, 90, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(frame_block(s, "Configuration")),
        r,
    );
}
