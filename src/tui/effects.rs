//! Carries out what `update` asks for: backend commands, the clipboard, files, and
//! shell sessions in PTYs. All I/O of the UI lives here and in `app`. Anything slow
//! (starting a PTY is a fork/exec, saving logs is a file write) runs on a blocking
//! thread and comes back as a [`Done`] the loop turns into a message for `update`.
use super::state::Effect;
use super::update::Msg;
use crate::backend::service::Command;
use crate::terminal::session::{PtySession, PtySystem, SessionEvent, SessionSpec};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Background work finished.
pub enum Done {
    /// A message for `update`.
    Msg(Msg),
    /// A shell's PTY is up: the runner keeps it.
    Spawned(u64, Box<dyn PtySession>),
    /// A shell's PTY could not start: the runner forgets it, `update` says why.
    SpawnFailed(u64, String),
}

/// A shell session, or one still starting (what arrives meanwhile waits for it).
enum Slot {
    Starting {
        input: Vec<Vec<u8>>,
        size: Option<(u16, u16)>,
        killed: bool,
    },
    Live(Box<dyn PtySession>),
}

pub struct Runner {
    commands: mpsc::Sender<Command>,
    done: mpsc::Sender<Done>,
    state_dir: PathBuf,
    pty: Arc<dyn PtySystem>,
    /// Session output and exits come back here (bounded: backpressure on the PTY).
    shell_tx: mpsc::Sender<(u64, SessionEvent)>,
    sessions: HashMap<u64, Slot>,
}

/// Base64 for OSC 52.
pub fn base64(data: &[u8]) -> String {
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

impl Runner {
    pub fn new(
        commands: mpsc::Sender<Command>,
        done: mpsc::Sender<Done>,
        state_dir: PathBuf,
        pty: Arc<dyn PtySystem>,
        shell_tx: mpsc::Sender<(u64, SessionEvent)>,
    ) -> Self {
        Self {
            commands,
            done,
            state_dir,
            pty,
            shell_tx,
            sessions: HashMap::new(),
        }
    }

    /// Runs one effect. Returns the message to hand `update` at once, if any.
    /// `Effect::Quit` is the loop's to act on; here it does nothing.
    pub fn run(&mut self, e: Effect) -> Option<Msg> {
        match e {
            Effect::Quit => {}
            Effect::Backend(cmd) => {
                if let Err(e) = self.commands.try_send(cmd) {
                    let cmd = match e {
                        mpsc::error::TrySendError::Full(c)
                        | mpsc::error::TrySendError::Closed(c) => c,
                    };
                    return Some(Msg::CommandRefused(cmd));
                }
            }
            Effect::Copy(text) => {
                // A few bytes to the terminal, like a frame: the UI's own output.
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()));
                let _ = out.flush();
            }
            Effect::SaveLogs { name, content } => {
                let dir = self.state_dir.join("logs");
                let done = self.done.clone();
                tokio::spawn(async move {
                    let file = dir.join(format!(
                        "{name}-{}.log",
                        chrono::Utc::now().format("%Y%m%d-%H%M%S")
                    ));
                    let f = file.clone();
                    let r = tokio::task::spawn_blocking(move || {
                        crate::private_fs::ensure_dir(&dir)?;
                        crate::private_fs::write_private(&f, content.as_bytes())
                    })
                    .await;
                    let note = match r {
                        Ok(Ok(())) => format!("saved logs to {}", file.display()),
                        Ok(Err(e)) => format!("cannot save logs to {}: {e:#}", file.display()),
                        Err(e) => format!("cannot save logs: {e}"),
                    };
                    let _ = done.send(Done::Msg(Msg::Notice(note))).await;
                });
            }
            Effect::RememberForm(choices) => {
                let dir = self.state_dir.clone();
                tokio::spawn(async move {
                    let r = tokio::task::spawn_blocking(move || {
                        super::form_memory::save(&dir, &choices)
                    })
                    .await;
                    if let Ok(Err(e)) = r {
                        tracing::warn!("cannot remember the create form's choices: {e:#}");
                    }
                });
            }
            Effect::SpawnShell {
                id,
                argv,
                env,
                rows,
                cols,
            } => {
                let spec = SessionSpec {
                    argv,
                    env,
                    rows,
                    cols,
                };
                self.sessions.insert(
                    id,
                    Slot::Starting {
                        input: Vec::new(),
                        size: None,
                        killed: false,
                    },
                );
                let (pty, shell_tx, done) =
                    (self.pty.clone(), self.shell_tx.clone(), self.done.clone());
                tokio::spawn(async move {
                    let r =
                        tokio::task::spawn_blocking(move || pty.spawn(id, &spec, shell_tx)).await;
                    let d = match r {
                        Ok(Ok(session)) => Done::Spawned(id, session),
                        Ok(Err(e)) => Done::SpawnFailed(id, format!("{e:#}")),
                        Err(e) => Done::SpawnFailed(id, format!("starting the shell failed: {e}")),
                    };
                    let _ = done.send(d).await;
                });
            }
            Effect::ShellInput { id, bytes } => match self.sessions.get_mut(&id) {
                Some(Slot::Live(s)) => s.write(bytes),
                Some(Slot::Starting { input, .. }) => input.push(bytes),
                None => {}
            },
            Effect::ShellResize { id, rows, cols } => match self.sessions.get_mut(&id) {
                Some(Slot::Live(s)) => s.resize(rows, cols),
                Some(Slot::Starting { size, .. }) => *size = Some((rows, cols)),
                None => {}
            },
            Effect::KillShell { id } => {
                // Its record in the store goes (best effort: a full queue leaves a
                // row that counts only while this TUI runs).
                let closed = Command::ShellTab {
                    id,
                    name: String::new(),
                    open: false,
                };
                let _ = self.commands.try_send(closed);
                self.kill_shell(id);
            }
        }
        None
    }

    fn kill_shell(&mut self, id: u64) {
        match self.sessions.get_mut(&id) {
            Some(Slot::Starting { killed, .. }) => *killed = true,
            Some(Slot::Live(_)) => {
                if let Some(Slot::Live(mut s)) = self.sessions.remove(&id) {
                    s.kill();
                }
            }
            None => {}
        }
    }

    /// A PTY started: replay what arrived meanwhile, or end it if its tab is gone.
    pub fn adopt(&mut self, id: u64, mut session: Box<dyn PtySession>) {
        match self.sessions.remove(&id) {
            Some(Slot::Starting {
                input,
                size,
                killed: false,
            }) => {
                if let Some((rows, cols)) = size {
                    session.resize(rows, cols);
                }
                for bytes in input {
                    session.write(bytes);
                }
                self.sessions.insert(id, Slot::Live(session));
            }
            _ => session.kill(),
        }
    }

    /// A PTY that could not start: forget its slot; the message for `update`.
    pub fn spawn_failed(&mut self, id: u64, reason: String) -> Msg {
        self.sessions.remove(&id);
        Msg::ShellSpawnFailed { id, reason }
    }

    /// Shells alive or starting (for tests).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

#[cfg(test)]
#[path = "effects_tests.rs"]
mod tests;
