//! The loop: terminal input, backend events and ticks become messages; `update`
//! changes state; the screen is redrawn only when something changed, at most
//! ~60 times a second, so bursts coalesce into one frame.
use super::effects::{Done, Runner};
use super::keymap::Keymap;
use super::panes;
use super::state::State;
use super::theme;
use super::update::{update, Msg};
use crate::backend::service::{self, Backend, Connector};
use crate::config::{Config, Paths};
use crate::domain::engines::EngineDef;
use crate::terminal::screen::CursorShape;
use crate::terminal::session::{NativePty, SessionEvent};
use anyhow::Result;
use crossterm::cursor::SetCursorStyle;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as CtEvent, EventStream,
};
use crossterm::execute;
use futures_util::{FutureExt, StreamExt};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const FRAME: Duration = Duration::from_millis(16);
/// Shell output parsed per loop turn before the screen gets a chance to redraw.
const SHELL_BATCH: usize = 1 << 20;

/// Builds the initial state from config: themes, keymap, and any problems with them.
/// `config_error`: why the config file was not used (berth runs on its defaults).
/// Blocking (reads theme files).
pub fn initial_state(paths: &Paths, config: &Config, config_error: Option<String>) -> State {
    let config_dir = paths.config_file.parent().map(|d| d.join("themes"));
    let (themes, theme_errors) = theme::available(config_dir.as_deref());
    let config_ignored = config_error.is_some();
    let mut problems: Vec<String> = config_error.into_iter().collect();
    problems.extend(theme_errors.iter().map(|e| e.to_string()));
    let idx = match themes.iter().position(|t| t.name == config.theme) {
        Some(i) => i,
        None => {
            let names: Vec<&str> = themes.iter().map(|t| t.name.as_str()).collect();
            problems.push(format!(
                "{}: theme {:?} not found; available: {}",
                paths.config_file.display(),
                config.theme,
                names.join(", ")
            ));
            0
        }
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let themes = themes
        .into_iter()
        .map(|mut t| {
            t.no_color = no_color;
            t
        })
        .collect();
    let (keymap, key_errors) =
        Keymap::with_user(&config.keys, &paths.config_file.display().to_string());
    problems.extend(key_errors.iter().map(|e| e.to_string()));
    let mut s = State::new(themes, idx, keymap, config.log_lines);
    s.config_problems = problems;
    s.config_ignored = config_ignored;
    s.mouse = config.mouse;
    s.egress_records = config.egress_records;
    s.ssh_host = crate::ssh_client::connect_host(config.bind_address);
    s.default_image = config.image.clone();
    s.form_choices = super::form_memory::load(&paths.state_dir);
    if s.form_choices.profile.is_none() {
        s.form_choices.profile = Some(config.profile.clone());
    }
    s.now = chrono::Utc::now().timestamp();
    s
}

/// Connects to engine `def` (again after it goes away) through berth's
/// connector for every kind of engine (`cli::docker_connector`).
fn docker_connector(def: &EngineDef) -> Connector {
    let def = def.clone();
    let connect = crate::cli::docker_connector();
    Arc::new(move || {
        let connecting = connect(def.clone());
        async move { connecting.await.map_err(|e| e.to_string()) }.boxed()
    })
}

/// The backend over every engine berth knows: one service (no tags) for one
/// engine, `service_multi` (one service per engine, events tagged) for several.
fn backend_for(
    paths: &Paths,
    config: &Config,
    set: crate::backend::engines::EngineSet,
    state: &mut State,
) -> Result<Backend> {
    let names: Vec<String> = set.defs().iter().map(|d| d.name.clone()).collect();
    state.engines = super::engines::Engines::new(&names, set.default_name());
    state.engines.placement = set.placement();
    let store = crate::store::Store::new(paths.store_file());
    if set.several() {
        let set = Arc::new(set);
        return Ok(crate::backend::service_multi::spawn(
            paths.clone(),
            config.clone(),
            set.defs(),
            set.default_name(),
            docker_connector,
            store,
            Some(set.clone()),
        ));
    }
    let def = set
        .def(set.default_name())
        .ok_or_else(|| anyhow::anyhow!("berth knows no engine"))?;
    Ok(service::spawn_with_jobs_on(
        paths.clone(),
        config.clone(),
        docker_connector(def),
        store,
        set.defs().to_vec(),
    ))
}

/// crossterm's command for a shell's cursor shape.
fn cursor_style(shape: CursorShape) -> SetCursorStyle {
    match shape {
        CursorShape::Default => SetCursorStyle::DefaultUserShape,
        CursorShape::Block { blinking: true } => SetCursorStyle::BlinkingBlock,
        CursorShape::Block { blinking: false } => SetCursorStyle::SteadyBlock,
        CursorShape::Underline { blinking: true } => SetCursorStyle::BlinkingUnderScore,
        CursorShape::Underline { blinking: false } => SetCursorStyle::SteadyUnderScore,
        CursorShape::Bar { blinking: true } => SetCursorStyle::BlinkingBar,
        CursorShape::Bar { blinking: false } => SetCursorStyle::SteadyBar,
    }
}

fn restore_terminal() {
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        SetCursorStyle::DefaultUserShape
    );
    ratatui::restore();
}

/// Runs the TUI until the user quits. The terminal is restored on every exit path.
/// `problem`: why the config file was not used (the TUI runs on the defaults).
pub async fn run(paths: Paths, config: Config, problem: Option<String>) -> Result<()> {
    let started = Instant::now();
    // Reads theme files: off the async threads.
    let (p, c) = (paths.clone(), config.clone());
    let mut state = tokio::task::spawn_blocking(move || initial_state(&p, &c, problem)).await?;
    let set = crate::cli::engine_set_async(&config).await?;
    let backend = backend_for(&paths, &config, set, &mut state)?;
    let mut terminal = super::screen_out::init()?;
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(
            std::io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste,
            SetCursorStyle::DefaultUserShape
        );
        prev(info);
    }));
    let _ = execute!(std::io::stdout(), EnableBracketedPaste);
    if config.mouse {
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
    }
    if let Ok(size) = terminal.size() {
        update(&mut state, Msg::Resize(size.width, size.height));
    }
    let result = event_loop(&mut terminal, &mut state, backend, &paths, started).await;
    restore_terminal();
    result
}

async fn event_loop(
    terminal: &mut super::screen_out::Screen,
    state: &mut State,
    mut backend: Backend,
    paths: &Paths,
    started: Instant,
) -> Result<()> {
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let (done_tx, mut done_rx) = mpsc::channel::<Done>(32);
    let (shell_tx, mut shell_rx) = mpsc::channel::<(u64, SessionEvent)>(64);
    let mut runner = Runner::new(
        backend.commands.clone(),
        done_tx,
        paths.state_dir.clone(),
        Arc::new(NativePty),
        shell_tx,
    );
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut first_list_frame = false;
    let mut every_engine_frame = false;
    let mut shape = CursorShape::Default;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            let t0 = Instant::now();
            super::screen_out::draw(terminal, |f| panes::draw(f, state))?;
            // The focused shell's cursor shape (DECSCUSR), carried to the real cursor.
            if state.cursor_shape() != shape {
                shape = state.cursor_shape();
                let _ = execute!(std::io::stdout(), cursor_style(shape));
            }
            last_draw = Instant::now();
            dirty = false;
            if !first_list_frame && !state.workspaces.is_empty() {
                first_list_frame = true;
                tracing::info!(
                    workspaces = state.workspaces.len(),
                    since_launch_ms = started.elapsed().as_millis() as u64,
                    frame_ms = t0.elapsed().as_secs_f64() * 1000.0,
                    "first frame listing workspaces"
                );
            }
            if !every_engine_frame
                && state.engines.several()
                && state.engines.links.iter().all(|(_, l)| l.heard_from())
            {
                every_engine_frame = true;
                tracing::info!(
                    engines = state.engines.links.len(),
                    workspaces = state.workspaces.len(),
                    since_launch_ms = started.elapsed().as_millis() as u64,
                    "first frame with every engine heard from"
                );
            }
        }
        let wait = if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let mut msgs: VecDeque<Msg> = VecDeque::new();
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(CtEvent::Key(k))) => msgs.push_back(Msg::Key(k)),
                Some(Ok(CtEvent::Mouse(m))) => msgs.push_back(Msg::Mouse(m)),
                Some(Ok(CtEvent::Paste(p))) => msgs.push_back(Msg::Paste(p)),
                Some(Ok(CtEvent::Resize(w, h))) => msgs.push_back(Msg::Resize(w, h)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(ev) = backend.events.recv() => {
                msgs.push_back(Msg::Backend(ev));
                // Coalesce a burst into one frame.
                while msgs.len() < 512 {
                    match backend.events.try_recv() {
                        Ok(ev) => msgs.push_back(Msg::Backend(ev)),
                        Err(_) => break,
                    }
                }
            }
            Some((id, ev)) = shell_rx.recv() => {
                // Parse output in batches (up to SHELL_BATCH bytes per frame), so a flood
                // neither starves input nor redraws per chunk.
                let mut budget = SHELL_BATCH;
                let mut next = Some((id, ev));
                while let Some((id, ev)) = next.take() {
                    if let SessionEvent::Output(b) = &ev {
                        budget = budget.saturating_sub(b.len());
                    }
                    match (msgs.back_mut(), ev) {
                        (Some(Msg::Shell { id: last, event: SessionEvent::Output(acc) }), SessionEvent::Output(b)) if *last == id => acc.extend(b),
                        (_, ev) => msgs.push_back(Msg::Shell { id, event: ev }),
                    }
                    if budget > 0 {
                        next = shell_rx.try_recv().ok();
                    }
                }
            }
            _ = tick.tick() => {
                msgs.push_back(Msg::Tick { now: chrono::Utc::now().timestamp() });
            }
            Some(d) = done_rx.recv() => match d {
                Done::Msg(m) => msgs.push_back(m),
                Done::Spawned(id, session) => runner.adopt(id, session),
                Done::SpawnFailed(id, reason) => msgs.push_back(runner.spawn_failed(id, reason)),
            },
            _ = tokio::time::sleep(wait), if dirty => {}
        }
        while let Some(msg) = msgs.pop_front() {
            let is_tick = matches!(msg, Msg::Tick { .. });
            let is_key = matches!(msg, Msg::Key(_));
            // Never log keys or effects' contents: a shell's input can be a password.
            let effects = update(state, msg);
            if tracing::enabled!(tracing::Level::DEBUG) && !effects.is_empty() {
                let kinds: Vec<&str> = effects.iter().map(|e| e.kind()).collect();
                tracing::debug!(?kinds, "effects");
            }
            // A tick only matters when something on screen moves with time. A key
            // typed into a shell changes nothing until the shell echoes it, so it does
            // not spend a frame (that frame would delay drawing the echo).
            let typed_into_shell = is_key
                && state.focus == super::state::Focus::Shell
                && !effects.is_empty()
                && effects
                    .iter()
                    .all(|e| matches!(e, super::state::Effect::ShellInput { .. }));
            if !typed_into_shell
                && (!is_tick
                    || !state.jobs.is_empty()
                    || state.workspaces.iter().any(|w| w.started_at.is_some()))
            {
                dirty = true;
            }
            for e in effects {
                if e == super::state::Effect::Quit {
                    return Ok(());
                }
                if let Some(m) = runner.run(e) {
                    msgs.push_back(m);
                }
            }
        }
        if state.quit {
            return Ok(());
        }
    }
}
