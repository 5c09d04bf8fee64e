//! Carries out what `update` asks for: backend commands, the clipboard, files, and
//! shell sessions in PTYs. All I/O of the UI lives here and in `app`.
use super::state::Effect;
use super::update::Msg;
use crate::backend::service::{Command, Event};
use crate::shell::session::{PtySession, PtySystem, SessionEvent, SessionSpec};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use tokio::sync::mpsc;

pub struct Runner {
    pub commands: mpsc::UnboundedSender<Command>,
    pub notices: mpsc::UnboundedSender<String>,
    pub state_dir: PathBuf,
    pub pty: Box<dyn PtySystem>,
    /// Session output and exits come back here (bounded: backpressure on the PTY).
    pub shell_tx: mpsc::Sender<(u64, SessionEvent)>,
    sessions: HashMap<u64, Box<dyn PtySession>>,
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
        commands: mpsc::UnboundedSender<Command>,
        notices: mpsc::UnboundedSender<String>,
        state_dir: PathBuf,
        pty: Box<dyn PtySystem>,
        shell_tx: mpsc::Sender<(u64, SessionEvent)>,
    ) -> Self {
        Self {
            commands,
            notices,
            state_dir,
            pty,
            shell_tx,
            sessions: HashMap::new(),
        }
    }

    /// Runs one effect; messages it produces go to `queue`. Returns false to quit.
    pub fn run(&mut self, e: Effect, queue: &mut VecDeque<Msg>) -> bool {
        match e {
            Effect::Quit => return false,
            Effect::Backend(cmd) => {
                let _ = self.commands.send(cmd);
            }
            Effect::Copy(text) => {
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()));
                let _ = out.flush();
            }
            Effect::SaveLogs { name, content } => {
                let dir = self.state_dir.join("logs");
                let tx = self.notices.clone();
                tokio::task::spawn_blocking(move || {
                    let file = dir.join(format!(
                        "{name}-{}.log",
                        chrono::Utc::now().format("%Y%m%d-%H%M%S")
                    ));
                    let r =
                        std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&file, content));
                    let _ = tx.send(match r {
                        Ok(()) => format!("saved logs to {}", file.display()),
                        Err(e) => format!("cannot save logs to {}: {e}", file.display()),
                    });
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
                match self.pty.spawn(id, &spec, self.shell_tx.clone()) {
                    Ok(s) => {
                        self.sessions.insert(id, s);
                    }
                    Err(e) => {
                        tracing::warn!("shell {id}: {e:#}");
                        queue.push_back(Msg::Backend(Event::ShellFailed {
                            id,
                            reason: format!("{e:#}"),
                        }));
                    }
                }
            }
            Effect::ShellInput { id, bytes } => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.write(bytes);
                }
            }
            Effect::ShellResize { id, rows, cols } => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.resize(rows, cols);
                }
            }
            Effect::KillShell { id } => {
                if let Some(mut s) = self.sessions.remove(&id) {
                    s.kill();
                }
            }
        }
        true
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
