//! The loop: terminal input, backend events and ticks become messages; `update`
//! changes state; the screen is redrawn only when something changed, at most
//! ~60 times a second, so bursts coalesce into one frame.
use super::keymap::{user_bindings, Keymap};
use super::panes;
use super::state::{Effect, State};
use super::theme;
use super::update::{update, Msg};
use crate::backend::service::{self, Backend, Connector};
use crate::config::{Config, Paths};
use crate::engine::docker::DockerEngine;
use crate::engine::Engine;
use anyhow::Result;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as CtEvent, EventStream,
};
use crossterm::execute;
use futures_util::{FutureExt, StreamExt};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const FRAME: Duration = Duration::from_millis(16);

/// Builds the initial state from config: themes, keymap, and any problems with them.
pub fn initial_state(paths: &Paths, config: &Config) -> State {
    let config_dir = paths.config_file.parent().map(|d| d.join("themes"));
    let (themes, theme_errors) = theme::available(config_dir.as_deref());
    let mut problems: Vec<String> = theme_errors.iter().map(|e| e.to_string()).collect();
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
    let text = std::fs::read_to_string(&paths.config_file).unwrap_or_default();
    let (keymap, key_errors) = Keymap::with_user(
        &user_bindings(&text),
        &paths.config_file.display().to_string(),
    );
    problems.extend(key_errors.iter().map(|e| e.to_string()));
    let mut s = State::new(themes, idx, keymap, config.log_lines);
    s.config_problems = problems;
    s.mouse = config.mouse;
    s.ssh_host = crate::ssh_client::connect_host(config.bind_address);
    s.known_hosts_dir = paths.known_hosts_dir().display().to_string();
    s.default_image = config.image.clone();
    s.now = chrono::Utc::now().timestamp();
    s
}

fn docker_connector() -> Connector {
    Arc::new(|| {
        async {
            DockerEngine::connect()
                .await
                .map(|e| Arc::new(e) as Arc<dyn Engine>)
                .map_err(|e| e.to_string())
        }
        .boxed()
    })
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn restore_terminal() {
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste
    );
    ratatui::restore();
}

/// Runs the TUI until the user quits. The terminal is restored on every exit path.
pub async fn run(paths: Paths, config: Config) -> Result<()> {
    let started = Instant::now();
    let mut state = initial_state(&paths, &config);
    let backend = service::spawn(paths.clone(), config.clone(), docker_connector());
    let mut terminal = ratatui::init();
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(
            std::io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste
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
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    mut backend: Backend,
    paths: &Paths,
    started: Instant,
) -> Result<()> {
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let (notice_tx, mut notices) = mpsc::unbounded_channel::<String>();
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut first_list_frame = false;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            let t0 = Instant::now();
            terminal.draw(|f| panes::draw(f, state))?;
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
        }
        let wait = if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let mut msgs = Vec::new();
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(CtEvent::Key(k))) => msgs.push(Msg::Key(k)),
                Some(Ok(CtEvent::Mouse(m))) => msgs.push(Msg::Mouse(m)),
                Some(Ok(CtEvent::Paste(p))) => msgs.push(Msg::Paste(p)),
                Some(Ok(CtEvent::Resize(w, h))) => msgs.push(Msg::Resize(w, h)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(ev) = backend.events.recv() => {
                msgs.push(Msg::Backend(ev));
                // Coalesce a burst into one frame.
                while msgs.len() < 512 {
                    match backend.events.try_recv() {
                        Ok(ev) => msgs.push(Msg::Backend(ev)),
                        Err(_) => break,
                    }
                }
            }
            _ = tick.tick() => {
                msgs.push(Msg::Tick { now: chrono::Utc::now().timestamp() });
            }
            Some(n) = notices.recv() => {
                state.notice = Some(n);
                dirty = true;
            }
            _ = tokio::time::sleep(wait), if dirty => {}
        }
        for msg in msgs {
            let is_tick = matches!(msg, Msg::Tick { .. });
            let effects = update(state, msg);
            // A tick only matters when something on screen moves with time.
            if !is_tick
                || !state.jobs.is_empty()
                || state.workspaces.iter().any(|w| w.started_at.is_some())
            {
                dirty = true;
            }
            for e in effects {
                match e {
                    Effect::Quit => return Ok(()),
                    Effect::Backend(cmd) => {
                        let _ = backend.commands.send(cmd);
                    }
                    Effect::Copy(text) => {
                        let mut out = std::io::stdout();
                        let _ = write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()));
                        let _ = out.flush();
                    }
                    Effect::SaveLogs { name, content } => {
                        let dir = paths.state_dir.join("logs");
                        let tx = notice_tx.clone();
                        tokio::task::spawn_blocking(move || {
                            let file = dir.join(format!(
                                "{name}-{}.log",
                                chrono::Utc::now().format("%Y%m%d-%H%M%S")
                            ));
                            let r = std::fs::create_dir_all(&dir)
                                .and_then(|_| std::fs::write(&file, content));
                            let _ = tx.send(match r {
                                Ok(()) => format!("saved logs to {}", file.display()),
                                Err(e) => format!("cannot save logs to {}: {e}", file.display()),
                            });
                        });
                    }
                }
            }
        }
        if state.quit {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_encodes() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"ssh -p 2200"), "c3NoIC1wIDIyMDA=");
    }
}
