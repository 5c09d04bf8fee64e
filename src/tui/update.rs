//! `update(state, msg) -> effects`: every change to UI state happens here, with no
//! I/O, so it is tested directly.
use super::form::CreateForm;
use super::keymap::{Action, Mode};
use super::layout;
use super::logbuf::Stream;
use super::state::{Effect, EngineLink, Focus, Job, JobState, LineInput, Overlay, SortKey, State};
use crate::backend::service::{Command, Event, JobUpdate};
use crate::domain::workspace::Workspace;
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    /// Once a second, with the wall clock (seconds since the epoch).
    Tick {
        now: i64,
    },
    Backend(Event),
}

/// Finished jobs stay visible this many ticks.
const JOB_LINGER: u64 = 6;
const EVENTS_KEPT: usize = 20;

pub fn update(s: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(k) if k.kind == KeyEventKind::Press || k.kind == KeyEventKind::Repeat => {
            on_key(s, k)
        }
        Msg::Key(_) => vec![],
        Msg::Mouse(m) => on_mouse(s, m),
        Msg::Paste(text) => on_paste(s, &text),
        Msg::Resize(w, h) => {
            s.size = (w, h);
            keep_visible(s);
            vec![]
        }
        Msg::Tick { now } => {
            s.now = now;
            s.tick += 1;
            let tick = s.tick;
            s.jobs.retain(|j| {
                j.ended_tick
                    .is_none_or(|t| tick.saturating_sub(t) < JOB_LINGER)
            });
            vec![]
        }
        Msg::Backend(e) => on_backend(s, e),
    }
}

fn on_backend(s: &mut State, e: Event) -> Vec<Effect> {
    match e {
        Event::Connected { endpoint } => {
            s.link = EngineLink::Up { endpoint };
            vec![]
        }
        Event::Disconnected {
            endpoint,
            reason,
            retry_in,
        } => {
            s.link = EngineLink::Down {
                endpoint,
                reason,
                retry_in_secs: retry_in.as_secs_f64(),
            };
            vec![]
        }
        Event::Workspaces(ws) => {
            let old_index = s.selected_index();
            s.workspaces = ws;
            s.view.clear();
            rebuild_view(s, old_index)
        }
        Event::Engine(ev) => {
            let q = s.events.entry(ev.name.clone()).or_default();
            q.push_back((ev.time, ev.action));
            while q.len() > EVENTS_KEPT {
                q.pop_front();
            }
            vec![]
        }
        Event::Job { job, update } => {
            match update {
                JobUpdate::Progress(p) => s.job_progress(job, p),
                JobUpdate::Done(msg) => {
                    let tick = s.tick;
                    if let Some(j) = s.jobs.iter_mut().find(|j| j.id == job) {
                        j.state = JobState::Done(msg);
                        j.ended_tick = Some(tick);
                    }
                }
                JobUpdate::Failed(msg) => {
                    let tick = s.tick;
                    if let Some(j) = s.jobs.iter_mut().find(|j| j.id == job) {
                        s.last_error = Some(format!("{} {}: {msg}", j.action, j.name));
                        j.state = JobState::Failed(msg);
                        j.ended_tick = Some(tick + 4);
                    }
                }
            }
            vec![]
        }
        Event::LogsReset { name } => {
            if s.logs_for.as_deref() == Some(&name) {
                s.logs.clear();
            }
            vec![]
        }
        Event::Logs { name, lines } => {
            if s.logs_for.as_deref() == Some(&name) {
                for l in lines {
                    s.logs.push(
                        &l.source,
                        if l.stderr { Stream::Err } else { Stream::Out },
                        l.ts,
                        &l.text,
                    );
                }
            }
            vec![]
        }
        Event::Stats { name, stats } => {
            if s.selected.as_deref() == Some(&name) {
                s.stats = Some((name, stats));
            }
            vec![]
        }
    }
}

fn cmp_ws(a: &Workspace, b: &Workspace, key: SortKey, now: i64) -> Ordering {
    let by = match key {
        SortKey::Name => Ordering::Equal,
        SortKey::State => a.state.as_str().cmp(b.state.as_str()),
        SortKey::Port => a.ssh_port.cmp(&b.ssh_port),
        SortKey::Image => a.image.cmp(&b.image),
        SortKey::Uptime => a.uptime_secs(now).cmp(&b.uptime_secs(now)),
    };
    by.then_with(|| a.name.cmp(&b.name))
}

fn matches_filter(w: &Workspace, f: &str) -> bool {
    if f.is_empty() {
        return true;
    }
    let f = f.to_lowercase();
    w.name.contains(&f)
        || w.image.to_lowercase().contains(&f)
        || w.state.as_str().contains(&f)
        || w.thread
            .as_deref()
            .is_some_and(|t| t.to_lowercase().contains(&f))
}

/// Re-filters and re-sorts, keeping the selection on the same workspace when it is
/// still there (else on the row where it was).
pub fn refresh_view(s: &mut State) -> Vec<Effect> {
    let old_index = s.selected_index();
    rebuild_view(s, old_index)
}

fn rebuild_view(s: &mut State, old_index: Option<usize>) -> Vec<Effect> {
    let mut view: Vec<usize> = (0..s.workspaces.len())
        .filter(|i| matches_filter(&s.workspaces[*i], &s.filter))
        .collect();
    let (key, now, desc) = (s.sort, s.now, s.sort_desc);
    view.sort_by(|a, b| {
        let o = cmp_ws(&s.workspaces[*a], &s.workspaces[*b], key, now);
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    s.view = view;
    let still_there = s.selected_index().is_some();
    let target = if still_there {
        s.selected.clone()
    } else if s.view.is_empty() {
        None
    } else {
        let i = old_index.unwrap_or(0).min(s.view.len() - 1);
        Some(s.workspaces[s.view[i]].name.clone())
    };
    select(s, target)
}

fn select(s: &mut State, name: Option<String>) -> Vec<Effect> {
    let changed = s.selected != name;
    s.selected = name.clone();
    keep_visible(s);
    if !changed {
        return vec![];
    }
    s.logs.clear();
    s.logs.follow();
    s.logs.clear_search();
    s.logs_for = name.clone();
    s.stats = None;
    vec![Effect::Backend(Command::Select(name))]
}

fn current_areas(s: &State) -> layout::Areas {
    let active_jobs = s.jobs.len();
    layout::areas(
        Rect::new(0, 0, s.size.0, s.size.1),
        s.engine_down(),
        active_jobs,
        s.focus,
        s.input.is_some(),
    )
}

fn keep_visible(s: &mut State) {
    let rows = layout::list_rows(current_areas(s).list).max(1);
    let Some(i) = s.selected_index() else {
        s.list_offset = 0;
        return;
    };
    if i < s.list_offset {
        s.list_offset = i;
    } else if i >= s.list_offset + rows {
        s.list_offset = i + 1 - rows;
    }
    s.list_offset = s.list_offset.min(s.view.len().saturating_sub(rows));
}

fn move_selection(s: &mut State, delta: isize) -> Vec<Effect> {
    if s.view.is_empty() {
        return vec![];
    }
    let cur = s.selected_index().unwrap_or(0) as isize;
    let next = (cur + delta).clamp(0, s.view.len() as isize - 1) as usize;
    let name = s.workspaces[s.view[next]].name.clone();
    select(s, Some(name))
}

fn log_height(s: &State) -> usize {
    current_areas(s).logs.map_or(10, layout::log_rows).max(1)
}

fn new_job(s: &mut State, action: &str, name: &str) -> u64 {
    let id = s.next_job;
    s.next_job += 1;
    s.jobs.push(Job {
        id,
        action: action.into(),
        name: name.into(),
        step: None,
        last_output: None,
        state: JobState::Running,
        ended_tick: None,
    });
    id
}

/// The ssh command for a workspace, with its pinned host key.
pub fn ssh_command(s: &State, w: &Workspace, known_hosts_dir: &str) -> Option<String> {
    let port = w.ssh_port?;
    let alias = format!("berth-{}", w.name);
    Some(format!(
        "ssh -p {port} -o HostKeyAlias={alias} -o UserKnownHostsFile={known_hosts_dir}/{alias} -o StrictHostKeyChecking=yes workspace@{}",
        s.ssh_host
    ))
}

fn on_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    if !s.config_problems.is_empty() {
        s.config_problems.clear();
    }
    s.notice = None;
    if let Some(input) = s.input {
        return on_input_key(s, input, k);
    }
    let mode = match &s.overlay {
        Overlay::Form(_) => Mode::Form,
        Overlay::Confirm { .. } => Mode::Confirm,
        Overlay::Help { .. } => Mode::Help,
        Overlay::None if s.focus == Focus::Logs => Mode::Logs,
        Overlay::None => Mode::Normal,
    };
    let action = s.keymap.action(mode, &k);
    match mode {
        Mode::Form => on_form_key(s, action, k),
        Mode::Confirm => on_confirm(s, action),
        Mode::Help => {
            if let Overlay::Help { scroll } = &mut s.overlay {
                match action {
                    Some(Action::Close) => s.overlay = Overlay::None,
                    Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                    Some(Action::Down) => *scroll += 1,
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
        Action::Quit => {
            s.quit = true;
            vec![Effect::Quit]
        }
        Action::Help => {
            s.overlay = Overlay::Help { scroll: 0 };
            vec![]
        }
        Action::FocusNext | Action::FocusPrev => {
            let order = [Focus::List, Focus::Status, Focus::Logs];
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
            let taken = s.workspaces.iter().map(|w| w.name.clone()).collect();
            s.overlay = Overlay::Form(Box::new(CreateForm::new(taken, &s.default_image)));
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
                        name,
                        keep_volume: false,
                    };
                    vec![]
                }
                _ => {
                    let dir = s.known_hosts_dir.clone();
                    match ssh_command(s, &w, &dir) {
                        Some(cmd) => {
                            s.notice = Some(format!("copied: {cmd}"));
                            vec![Effect::Copy(cmd)]
                        }
                        None => {
                            s.notice = Some(format!("{name} has no SSH port"));
                            vec![]
                        }
                    }
                }
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
    match k.code {
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

fn live_filter(s: &mut State, input: LineInput) -> Vec<Effect> {
    if input == LineInput::Filter {
        s.filter = s.input_buf.clone();
        return refresh_view(s);
    }
    vec![]
}

fn on_form_key(s: &mut State, action: Option<Action>, k: KeyEvent) -> Vec<Effect> {
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
                let name = spec.name.clone();
                s.overlay = Overlay::None;
                let job = new_job(s, "create", &name);
                vec![Effect::Backend(Command::Create { job, spec })]
            }
            None => {
                form.submitted = true;
                vec![]
            }
        },
        _ => {
            form.focused_mut().input(k);
            vec![]
        }
    }
}

fn on_confirm(s: &mut State, action: Option<Action>) -> Vec<Effect> {
    let Overlay::Confirm { name, keep_volume } = &mut s.overlay else {
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

fn on_paste(s: &mut State, text: &str) -> Vec<Effect> {
    let one_line: String = text.lines().collect::<Vec<_>>().join(" ");
    if let Some(input) = s.input {
        s.input_buf.push_str(&one_line);
        return live_filter(s, input);
    }
    if let Overlay::Form(form) = &mut s.overlay {
        form.focused_mut().insert_str(&one_line);
    }
    vec![]
}

fn on_mouse(s: &mut State, m: MouseEvent) -> Vec<Effect> {
    if !s.mouse || !matches!(s.overlay, Overlay::None) {
        return vec![];
    }
    let a = current_areas(s);
    let (col, row) = (m.column, m.row);
    let in_list = layout::contains(a.list, col, row);
    let in_logs = a.logs.is_some_and(|r| layout::contains(r, col, row));
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) if in_list => {
            s.focus = Focus::List;
            let first_row = a.list.y + 2;
            if row >= first_row {
                let i = s.list_offset + usize::from(row - first_row);
                if let Some(idx) = s.view.get(i) {
                    let name = s.workspaces[*idx].name.clone();
                    return select(s, Some(name));
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
