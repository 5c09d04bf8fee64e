//! Keys: what the user types, turned into state changes and effects (mouse and
//! paste: `update_pointer`).
use super::copy_form::CopyForm;
use super::form::CreateForm;
use super::keymap::{Action, Mode};
use super::layout;
use super::state::{Bottom, Effect, Focus, LineInput, Overlay, State};
use super::update::{
    current_areas, keep_visible, log_height, move_selection, new_job, refresh_view,
};
use super::update_shell as shells;
use crate::backend::service::Command;
use crate::domain::provision::Provision;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub(super) fn on_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    if !s.config_problems.is_empty() && matches!(s.overlay, Overlay::None) {
        // "Press any key": the key dismisses the problems and does nothing else.
        s.config_problems.clear();
        return vec![];
    }
    s.notice = None;
    if let Some(input) = s.input {
        return on_input_key(s, input, k);
    }
    if let Overlay::Quit { waiting } = s.overlay {
        return on_quit_key(s, waiting, k);
    }
    if s.focus == Focus::Shell && matches!(s.overlay, Overlay::None) {
        return shells::on_key(s, k);
    }
    if matches!(s.overlay, Overlay::Snapshots(_)) {
        return super::snapshot_view::on_key(s, k);
    }
    if matches!(s.overlay, Overlay::Egress(_)) {
        return super::egress_view::on_key(s, k);
    }
    if matches!(s.overlay, Overlay::Agents(_)) {
        return super::agents_view::on_key(s, k);
    }
    if matches!(s.overlay, Overlay::Mcp(_)) {
        return super::mcp_view::on_key(s, k);
    }
    if matches!(s.overlay, Overlay::Engines { .. }) {
        return super::engines::on_picker_key(s, k);
    }
    let mode = s.key_mode();
    let action = s.keymap.action(mode, &k);
    match mode {
        Mode::Form => on_form_key(s, action, k),
        Mode::Confirm => on_confirm(s, action),
        Mode::Help => {
            let max = layout::help_max_scroll(s.keymap.help_len(), s.size);
            if let Overlay::Help { scroll } = &mut s.overlay {
                match action {
                    Some(Action::Close) => s.overlay = Overlay::None,
                    Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                    Some(Action::Down) => *scroll = (*scroll + 1).min(max),
                    _ => {}
                }
            }
            vec![]
        }
        _ => match action {
            Some(a) => on_action(s, mode, a),
            None => vec![],
        },
    }
}

fn on_action(s: &mut State, mode: Mode, a: Action) -> Vec<Effect> {
    let page = layout::list_rows(current_areas(s).list).max(1) as isize;
    let logs_h = log_height(s);
    let in_logs = mode == Mode::Logs;
    match a {
        Action::Quit if s.running_jobs() > 0 => {
            s.overlay = Overlay::Quit { waiting: false };
            vec![]
        }
        Action::Quit => {
            s.quit = true;
            vec![Effect::Quit]
        }
        Action::Help => {
            s.overlay = Overlay::Help { scroll: 0 };
            vec![]
        }
        Action::OpenShell => shells::open(s),
        Action::Snapshots => super::snapshot_view::open(s),
        Action::Egress => super::egress_view::open(s),
        Action::Agents => super::agents_view::open(s),
        Action::McpActivity => super::mcp_view::open(s),
        Action::Engines => super::engines::open_picker(s),
        Action::NextTab | Action::PrevTab => {
            shells::cycle_tab(s, if a == Action::NextTab { 1 } else { -1 });
            vec![]
        }
        Action::FocusNext | Action::FocusPrev => {
            let bottom = if s.bottom == Bottom::Logs {
                Focus::Logs
            } else {
                Focus::Shell
            };
            let order = [Focus::List, Focus::Status, bottom];
            if s.focus == Focus::Logs {
                s.focus = bottom;
            }
            let i = order.iter().position(|f| *f == s.focus).unwrap_or(0);
            let step = if a == Action::FocusNext { 1 } else { 2 };
            s.focus = order[(i + step) % 3];
            keep_visible(s);
            vec![]
        }
        Action::ThemeNext => {
            s.theme = (s.theme + 1) % s.themes.len().max(1);
            s.notice = Some(format!("theme: {}", s.theme().name));
            vec![]
        }
        Action::Create => {
            // An incomplete workspace's name may be created again (it starts over).
            let existing = s
                .workspaces
                .iter()
                .filter(|w| !matches!(w.provision, Provision::Incomplete { .. }));
            let taken = existing.clone().map(|w| w.name.clone()).collect();
            let mut form = CreateForm::new(taken, &s.default_image, &s.form_choices);
            if s.engines.several() {
                let on = existing.map(|w| (w.engine.clone(), w.name.clone()));
                form = form.with_engines(super::engines::form_choices(s), on.collect());
            }
            s.overlay = Overlay::Form(Box::new(form));
            vec![]
        }
        Action::Up if in_logs => {
            s.logs.scroll_up(1, logs_h);
            vec![]
        }
        Action::Down if in_logs => {
            s.logs.scroll_down(1);
            vec![]
        }
        Action::PageUp if in_logs => {
            s.logs.scroll_up(logs_h, logs_h);
            vec![]
        }
        Action::PageDown if in_logs => {
            s.logs.scroll_down(logs_h);
            vec![]
        }
        Action::Top if in_logs => {
            s.logs.to_top(logs_h);
            vec![]
        }
        Action::Bottom if in_logs => {
            s.logs.follow();
            vec![]
        }
        Action::Up => move_selection(s, -1),
        Action::Down => move_selection(s, 1),
        Action::PageUp => move_selection(s, -page),
        Action::PageDown => move_selection(s, page),
        Action::Top => move_selection(s, isize::MIN / 2),
        Action::Bottom => move_selection(s, isize::MAX / 2),
        Action::Filter => {
            s.input = Some(LineInput::Filter);
            s.input_buf = s.filter.clone();
            vec![]
        }
        Action::ClearFilter => {
            s.filter.clear();
            refresh_view(s)
        }
        Action::SortNext => {
            s.sort = s.sort.next();
            refresh_view(s)
        }
        Action::SortReverse => {
            s.sort_desc = !s.sort_desc;
            refresh_view(s)
        }
        Action::CopyFiles => {
            match s.selected_workspace() {
                Some(w) => {
                    s.overlay = Overlay::Copy(Box::new(CopyForm::new(&w.name)));
                }
                None => s.notice = Some("no workspace selected".into()),
            }
            vec![]
        }
        Action::Start | Action::Stop | Action::Restart | Action::Delete | Action::CopySsh => {
            let Some(w) = s.selected_workspace().cloned() else {
                s.notice = Some("no workspace selected".into());
                return vec![];
            };
            let name = w.name.clone();
            match a {
                Action::Start => {
                    let job = new_job(s, "start", &name);
                    vec![Effect::Backend(Command::Start { job, name })]
                }
                Action::Stop => {
                    let job = new_job(s, "stop", &name);
                    vec![Effect::Backend(Command::Stop { job, name })]
                }
                Action::Restart => {
                    let job = new_job(s, "restart", &name);
                    vec![Effect::Backend(Command::Restart { job, name })]
                }
                Action::Delete => {
                    s.overlay = Overlay::Confirm {
                        name: name.clone(),
                        keep_volume: false,
                        owned: None,
                    };
                    vec![Effect::Backend(Command::PlanDelete { name })]
                }
                _ => vec![Effect::Backend(Command::SshCommand { name })],
            }
        }
        Action::Search => {
            s.input = Some(LineInput::Search);
            s.input_buf = s.logs.query.clone().unwrap_or_default();
            vec![]
        }
        Action::SearchNext | Action::SearchPrev => {
            if !s.logs.step_match(a == Action::SearchPrev, logs_h) {
                s.notice = Some("no more matches".into());
            }
            vec![]
        }
        Action::ClearSearch => {
            s.logs.clear_search();
            s.logs.follow();
            vec![]
        }
        Action::ToggleTimestamps => {
            s.show_timestamps = !s.show_timestamps;
            vec![]
        }
        Action::TogglePause => {
            s.logs.toggle_pause();
            vec![]
        }
        Action::SaveLogs => match &s.logs_for {
            Some(name) => vec![Effect::SaveLogs {
                name: name.clone(),
                content: s.logs.export(true),
            }],
            None => vec![],
        },
        _ => vec![],
    }
}

fn on_input_key(s: &mut State, input: LineInput, k: KeyEvent) -> Vec<Effect> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    // ctrl-j is a newline: terminals in cooked mode turn Enter into it, so a key
    // typed before berth took the terminal still confirms.
    let code = if ctrl && k.code == KeyCode::Char('j') {
        KeyCode::Enter
    } else {
        k.code
    };
    match code {
        KeyCode::Esc => {
            s.input = None;
            if input == LineInput::Filter {
                s.filter.clear();
                return refresh_view(s);
            }
            vec![]
        }
        KeyCode::Enter => {
            s.input = None;
            if input == LineInput::Search {
                let q = s.input_buf.clone();
                let h = log_height(s);
                if q.is_empty() {
                    s.logs.clear_search();
                } else if !s.logs.search(&q, h) {
                    s.notice = Some(format!("no match for {q:?}"));
                }
            }
            vec![]
        }
        KeyCode::Backspace => {
            s.input_buf.pop();
            live_filter(s, input)
        }
        KeyCode::Char('u') if ctrl => {
            s.input_buf.clear();
            live_filter(s, input)
        }
        KeyCode::Char('c') if ctrl => {
            s.input = None;
            vec![]
        }
        KeyCode::Char(c) if !ctrl => {
            s.input_buf.push(c);
            live_filter(s, input)
        }
        _ => vec![],
    }
}

pub(super) fn live_filter(s: &mut State, input: LineInput) -> Vec<Effect> {
    if input == LineInput::Filter {
        s.filter = s.input_buf.clone();
        return refresh_view(s);
    }
    vec![]
}

fn on_form_key(s: &mut State, action: Option<Action>, k: KeyEvent) -> Vec<Effect> {
    if matches!(s.overlay, Overlay::Copy(_)) {
        return super::update_copy::on_key(s, action, k);
    }
    let Overlay::Form(form) = &mut s.overlay else {
        return vec![];
    };
    match action {
        Some(Action::Cancel) => {
            s.overlay = Overlay::None;
            vec![]
        }
        Some(Action::NextField) => {
            form.next();
            vec![]
        }
        Some(Action::PrevField) => {
            form.prev();
            vec![]
        }
        Some(Action::Submit) => match form.spec() {
            Some(spec) => {
                let name = match spec.name.as_str() {
                    "" => "(new)".to_string(),
                    n => n.to_string(),
                };
                let choices = form.choices();
                let engine = form.engine();
                s.overlay = Overlay::None;
                let job = new_job(s, "create", &name);
                let remember = (choices != s.form_choices).then(|| {
                    s.form_choices = choices.clone();
                    Effect::RememberForm(choices)
                });
                let create = Command::Create {
                    job,
                    spec: Box::new(spec),
                };
                // The engine the form chose (several engines).
                let create = match engine {
                    Some(engine) => Command::On {
                        engine,
                        cmd: Box::new(create),
                    },
                    None => create,
                };
                let mut fx = vec![Effect::Backend(create)];
                fx.extend(remember);
                fx
            }
            None => {
                form.submitted = true;
                vec![]
            }
        },
        _ if form.focused().is_choice() => {
            match k.code {
                KeyCode::Left => form.cycle(-1),
                KeyCode::Right | KeyCode::Char(' ') => form.cycle(1),
                _ => {}
            }
            vec![]
        }
        _ => {
            form.focused_mut().input(k);
            vec![]
        }
    }
}

/// The quit question, and then the wait for cancelled jobs to end. While waiting,
/// ctrl-c quits at once (what is still being created is left incomplete, shown as
/// such, and `berth create` starts it over).
fn on_quit_key(s: &mut State, waiting: bool, k: KeyEvent) -> Vec<Effect> {
    let force = k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
    if waiting {
        if force {
            s.quit = true;
            return vec![Effect::Quit];
        }
        return vec![];
    }
    match s.keymap.action(Mode::Confirm, &k) {
        Some(Action::Confirm) => {
            if s.running_jobs() == 0 {
                s.quit = true;
                return vec![Effect::Quit];
            }
            s.overlay = Overlay::Quit { waiting: true };
            vec![Effect::Backend(Command::CancelJobs)]
        }
        Some(Action::Cancel) => {
            s.overlay = Overlay::None;
            vec![]
        }
        _ => vec![],
    }
}

fn on_confirm(s: &mut State, action: Option<Action>) -> Vec<Effect> {
    let Overlay::Confirm {
        name,
        keep_volume,
        owned,
    } = &mut s.overlay
    else {
        return vec![];
    };
    match action {
        Some(Action::ToggleKeep) => {
            *keep_volume = !*keep_volume;
            vec![]
        }
        Some(Action::Cancel) => {
            s.overlay = Overlay::None;
            vec![]
        }
        // Not before the person has seen what goes with it.
        Some(Action::Confirm) if owned.is_none() => {
            s.notice = Some("still finding out what goes with it; a moment".into());
            vec![]
        }
        Some(Action::Confirm) => {
            let (name, keep_volume) = (name.clone(), *keep_volume);
            s.overlay = Overlay::None;
            let job = new_job(s, "delete", &name);
            vec![Effect::Backend(Command::Delete {
                job,
                name,
                keep_volume,
            })]
        }
        _ => vec![],
    }
}
