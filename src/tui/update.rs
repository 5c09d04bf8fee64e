//! `update(state, msg) -> effects`: every change to UI state happens here, with no
//! I/O, so it is tested directly.
use super::layout;
use super::logbuf::Stream;
use super::state::{Effect, EngineLink, Job, JobState, Overlay, SortKey, State};
use super::update_input as input;
use crate::backend::service::{Command, Event, JobUpdate};
use crate::domain::workspace::Workspace;
use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent};
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
    /// Output or exit of a shell session.
    Shell {
        id: u64,
        event: crate::terminal::session::SessionEvent,
    },
    /// A shell's PTY could not be started.
    ShellSpawnFailed {
        id: u64,
        reason: String,
    },
    /// The backend's queue was full: this command was not sent.
    CommandRefused(Command),
    /// Something worth a line in the status bar (e.g. where logs were saved).
    Notice(String),
}

/// Finished jobs stay visible this many ticks.
const JOB_LINGER: u64 = 6;
const EVENTS_KEPT: usize = 20;

pub fn update(s: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = apply(s, msg);
    fx.extend(super::update_shell::sync_sizes(s));
    // Several engines: each command to the engine of its workspace.
    super::engines::route(s, fx)
}

fn apply(s: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Shell { id, event } => super::update_shell::on_session(s, id, event),
        Msg::Key(k) if k.kind == KeyEventKind::Press || k.kind == KeyEventKind::Repeat => {
            input::on_key(s, k)
        }
        Msg::Key(_) => vec![],
        Msg::Mouse(m) => super::update_pointer::on_mouse(s, m),
        Msg::Paste(text) => super::update_pointer::on_paste(s, &text),
        Msg::Resize(w, h) => {
            s.size = (w, h);
            keep_visible(s);
            let max = layout::help_max_scroll(s.keymap.help_len(), s.size);
            if let Overlay::Help { scroll } = &mut s.overlay {
                *scroll = (*scroll).min(max);
            }
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
        Msg::ShellSpawnFailed { id, reason } => super::update_shell::failed(s, id, reason),
        Msg::CommandRefused(cmd) => {
            let why = "berth's backend is busy; try again in a moment".to_string();
            match cmd {
                Command::Create { job, .. }
                | Command::Start { job, .. }
                | Command::Stop { job, .. }
                | Command::Restart { job, .. }
                | Command::Delete { job, .. }
                | Command::Copy { job, .. }
                | Command::Snapshot { job, .. }
                | Command::Restore { job, .. }
                | Command::RemoveSnapshot { job, .. }
                | Command::Agent { job, .. } => end_job(s, job, JobUpdate::Failed(why)),
                Command::PrepareShell { id, .. } => super::update_shell::failed(s, id, why),
                Command::CancelJobs if matches!(s.overlay, Overlay::Quit { waiting: true }) => {
                    // The jobs were not cancelled: ask again rather than wait forever.
                    s.overlay = Overlay::Quit { waiting: false };
                    s.notice = Some(why);
                    vec![]
                }
                _ => {
                    s.notice = Some(why);
                    vec![]
                }
            }
        }
        Msg::Notice(n) => {
            s.notice = Some(n);
            vec![]
        }
    }
}

/// A job ended (or made progress); when quitting waits for jobs, the last one to
/// end lets berth quit.
fn end_job(s: &mut State, job: u64, update: JobUpdate) -> Vec<Effect> {
    let ended = !matches!(update, JobUpdate::Progress(_));
    let action = s
        .jobs
        .iter()
        .find(|j| j.id == job)
        .map(|j| j.action.clone());
    let fx = match action.filter(|_| ended) {
        Some(a) => super::snapshot_view::on_job_end(s, &a),
        None => vec![],
    };
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
    // The question asked only because jobs ran: once none runs, the quit the user
    // asked for goes ahead (asked or waiting alike).
    if matches!(s.overlay, Overlay::Quit { .. }) && s.running_jobs() == 0 {
        s.quit = true;
        return vec![Effect::Quit];
    }
    fx
}

pub(super) fn on_backend(s: &mut State, e: Event) -> Vec<Effect> {
    match e {
        Event::On { engine, event } => super::engines::on_event(s, engine, *event),
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
            s.deadlines = crate::backend::activity_watch::deadlines(
                &s.workspaces,
                &s.use_records.0,
                s.use_records.1,
            );
            s.view.clear();
            let mut fx = rebuild_view(s, old_index);
            fx.extend(super::update_shell::on_workspaces(s));
            fx
        }
        Event::ShellReady { id, argv, env } => super::update_shell::ready(s, id, argv, env),
        Event::ShellFailed { id, reason } => super::update_shell::failed(s, id, reason),
        Event::Engine(ev) => {
            let q = s.events.entry(ev.name.clone()).or_default();
            q.push_back((ev.time, ev.action));
            while q.len() > EVENTS_KEPT {
                q.pop_front();
            }
            vec![]
        }
        Event::Job { job, update } => end_job(s, job, update),
        Event::SshCommand { name, command } => match command {
            Ok(cmd) => {
                s.notice = Some(format!("copied: {cmd}"));
                vec![Effect::Copy(cmd)]
            }
            Err(why) => {
                s.notice = Some(format!("no ssh command for {name}: {why}"));
                vec![]
            }
        },
        Event::DeletePlan { name, owned } => {
            if let Overlay::Confirm {
                name: asked,
                owned: slot,
                ..
            } = &mut s.overlay
            {
                if *asked == name {
                    *slot = Some(owned);
                }
            }
            vec![]
        }
        Event::Runtimes(r) => {
            s.runtimes = Some(r);
            vec![]
        }
        Event::Jobs(news) => {
            super::jobs_status::on_news(s, news);
            vec![]
        }
        Event::Activity { name, observed } => {
            if s.selected.as_deref() == Some(&name) {
                s.activity = Some((name, observed));
            }
            vec![]
        }
        Event::UseRecords {
            records,
            default_ttl,
        } => {
            s.use_records = (records, default_ttl);
            s.deadlines = crate::backend::activity_watch::deadlines(
                &s.workspaces,
                &s.use_records.0,
                default_ttl,
            );
            vec![]
        }
        Event::Alerts(a) => {
            s.alerts = a;
            vec![]
        }
        Event::VolumeSizes(v) => {
            s.volume_sizes = v;
            vec![]
        }
        Event::AgentAhead(counts) => {
            super::agents_view::on_ahead(s, counts);
            vec![]
        }
        Event::AgentDiff { name, diff } => {
            super::diff_view::on_diff(s, &name, diff);
            vec![]
        }
        Event::McpCalls(calls) => {
            super::mcp_view::on_calls(s, calls);
            vec![]
        }
        Event::McpRunning(n) => {
            s.mcp_running = n;
            vec![]
        }
        Event::Snapshots { workspace, list } => {
            super::snapshot_view::on_list(s, workspace, list);
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
        Event::EgressReset { name } => {
            super::egress_view::on_reset(s, &name);
            vec![]
        }
        Event::Egress { name, records } => {
            super::egress_view::on_records(s, &name, records);
            vec![]
        }
        Event::EgressCounts { name, counts } => {
            match counts {
                Some(c) => s.egress_counts.insert(name, c),
                None => s.egress_counts.remove(&name),
            };
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
        SortKey::State => a.status_word().cmp(b.status_word()),
        SortKey::Port => a.ssh_port.cmp(&b.ssh_port),
        SortKey::Image => a.image.cmp(&b.image),
        SortKey::Uptime => a.uptime_secs(now).cmp(&b.uptime_secs(now)),
    };
    by.then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.engine.cmp(&b.engine))
}

fn matches_filter(w: &Workspace, f: &str) -> bool {
    if f.is_empty() {
        return true;
    }
    let f = f.to_lowercase();
    w.name.contains(&f)
        || w.image.to_lowercase().contains(&f)
        || w.state.as_str().contains(&f)
        || w.status_word().contains(&f)
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
    let engine = s.engines.filter.as_deref();
    let mut view: Vec<usize> = (0..s.workspaces.len())
        .filter(|i| matches_filter(&s.workspaces[*i], &s.filter))
        .filter(|i| engine.is_none_or(|e| s.workspaces[*i].engine == e))
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
    let target = match s.selected_index() {
        Some(i) => Some(s.view[i]),
        None if s.view.is_empty() => None,
        None => Some(s.view[old_index.unwrap_or(0).min(s.view.len() - 1)]),
    };
    select_ws(s, target)
}

/// Selects `s.workspaces[idx]` (`None`: nothing).
pub(super) fn select_ws(s: &mut State, idx: Option<usize>) -> Vec<Effect> {
    let w = idx.and_then(|i| s.workspaces.get(i));
    let engine = w.map(|w| w.engine.clone());
    let name = w.map(|w| w.name.clone());
    select_key(s, engine, name)
}

fn select_key(s: &mut State, engine: Option<String>, name: Option<String>) -> Vec<Effect> {
    // Same name, engine newly known: the same workspace.
    let changed =
        s.selected != name || (s.engines.selected.is_some() && s.engines.selected != engine);
    s.selected = name.clone();
    s.engines.selected = engine;
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

pub(super) fn current_areas(s: &State) -> layout::Areas {
    layout::areas(Rect::new(0, 0, s.size.0, s.size.1), &s.layout_flags())
}

pub(super) fn keep_visible(s: &mut State) {
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

pub(super) fn move_selection(s: &mut State, delta: isize) -> Vec<Effect> {
    if s.view.is_empty() {
        return vec![];
    }
    let cur = s.selected_index().unwrap_or(0) as isize;
    let next = (cur + delta).clamp(0, s.view.len() as isize - 1) as usize;
    select_ws(s, Some(s.view[next]))
}

pub(super) fn log_height(s: &State) -> usize {
    current_areas(s).logs.map_or(10, layout::log_rows).max(1)
}

pub(super) fn new_job(s: &mut State, action: &str, name: &str) -> u64 {
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
