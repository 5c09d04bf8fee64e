//! PTY sessions behind a trait, so the UI can be tested without one. The native
//! implementation runs a program in a portable-pty PTY: one thread reads output
//! (in chunks, with backpressure through a bounded channel) and reports the exit
//! status after the last byte; one thread writes input.
use anyhow::{Context, Result};
use portable_pty::{native_pty_system, ChildKiller, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use tokio::sync::mpsc;

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpec {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub rows: u16,
    pub cols: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    Output(Vec<u8>),
    /// The program ended (its exit status, when known). Sent after all output.
    Exited(Option<i32>),
}

/// Largest chunk read at once.
pub const CHUNK: usize = 64 * 1024;

pub trait PtySession: Send {
    /// Queues input for the program (never blocks the caller).
    fn write(&mut self, bytes: Vec<u8>);
    fn resize(&mut self, rows: u16, cols: u16);
    fn kill(&mut self);
}

pub trait PtySystem: Send + Sync {
    fn spawn(
        &self,
        id: u64,
        spec: &SessionSpec,
        events: mpsc::Sender<(u64, SessionEvent)>,
    ) -> Result<Box<dyn PtySession>>;
}

pub struct NativePty;

struct NativeSession {
    master: Box<dyn MasterPty + Send>,
    input: std::sync::mpsc::Sender<Vec<u8>>,
    killer: Box<dyn ChildKiller + Send + Sync>,
}

impl PtySystem for NativePty {
    fn spawn(
        &self,
        id: u64,
        spec: &SessionSpec,
        events: mpsc::Sender<(u64, SessionEvent)>,
    ) -> Result<Box<dyn PtySession>> {
        let pty = native_pty_system();
        let size = PtySize {
            rows: spec.rows.max(1),
            cols: spec.cols.max(1),
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = pty.openpty(size).context("cannot open a PTY")?;
        let (program, args) = spec.argv.split_first().context("empty command")?;
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        let mut child = pair
            .slave
            .spawn_command(cmd)
            .with_context(|| format!("cannot start {program}"))?;
        drop(pair.slave);
        let killer = child.clone_killer();
        let mut reader = pair
            .master
            .try_clone_reader()
            .context("cannot read the PTY")?;
        let mut writer = pair.master.take_writer().context("cannot write the PTY")?;
        std::thread::Builder::new()
            .name(format!("pty-read-{id}"))
            .spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if events
                                .blocking_send((id, SessionEvent::Output(buf[..n].to_vec())))
                                .is_err()
                            {
                                break;
                            }
                        }
                    }
                }
                let code = child.wait().ok().map(|s| s.exit_code() as i32);
                let _ = events.blocking_send((id, SessionEvent::Exited(code)));
            })?;
        let (input, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::Builder::new()
            .name(format!("pty-write-{id}"))
            .spawn(move || {
                while let Ok(bytes) = rx.recv() {
                    if writer
                        .write_all(&bytes)
                        .and_then(|_| writer.flush())
                        .is_err()
                    {
                        break;
                    }
                }
            })?;
        Ok(Box::new(NativeSession {
            master: pair.master,
            input,
            killer,
        }))
    }
}

impl PtySession for NativeSession {
    fn write(&mut self, bytes: Vec<u8>) {
        let _ = self.input.send(bytes);
    }

    fn resize(&mut self, rows: u16, cols: u16) {
        let _ = self.master.resize(PtySize {
            rows: rows.max(1),
            cols: cols.max(1),
            pixel_width: 0,
            pixel_height: 0,
        });
    }

    fn kill(&mut self) {
        let _ = self.killer.kill();
    }
}

impl Drop for NativeSession {
    fn drop(&mut self) {
        let _ = self.killer.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(rx: &mut mpsc::Receiver<(u64, SessionEvent)>) -> (String, Option<i32>) {
        let mut out = Vec::new();
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
                .await
                .expect("pty timed out")
            {
                Some((7, SessionEvent::Output(b))) => out.extend(b),
                Some((7, SessionEvent::Exited(code))) => {
                    return (String::from_utf8_lossy(&out).to_string(), code)
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn runs_in_a_real_pty_with_size_input_and_exit_status() {
        let (tx, mut rx) = mpsc::channel(16);
        let spec = SessionSpec {
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                "stty size; read x; echo got:$x; exit 7".into(),
            ],
            env: vec![("TERM".into(), "xterm-256color".into())],
            rows: 33,
            cols: 101,
        };
        let mut s = NativePty.spawn(7, &spec, tx).unwrap();
        s.write(b"hello\r".to_vec());
        let (out, code) = collect(&mut rx).await;
        assert!(out.contains("33 101"), "{out:?}");
        assert!(out.contains("got:hello"), "{out:?}");
        assert_eq!(code, Some(7));
    }

    #[tokio::test]
    async fn resize_reaches_the_program() {
        let (tx, mut rx) = mpsc::channel(16);
        let spec = SessionSpec {
            argv: vec!["/bin/sh".into(), "-c".into(), "read x; stty size".into()],
            env: vec![],
            rows: 10,
            cols: 20,
        };
        let mut s = NativePty.spawn(7, &spec, tx).unwrap();
        s.resize(50, 132);
        s.write(b"\r".to_vec());
        let (out, _) = collect(&mut rx).await;
        assert!(out.contains("50 132"), "{out:?}");
    }
}
