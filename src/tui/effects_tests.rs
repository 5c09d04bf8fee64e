//! The effect runner with a fake PTY: no terminal, no engine.
use super::*;
use crate::tui::update::Msg;
use std::sync::Mutex;

/// What the fake sessions saw, in order.
#[derive(Default)]
struct Seen {
    log: Mutex<Vec<String>>,
}

impl Seen {
    fn push(&self, s: String) {
        self.log.lock().unwrap().push(s);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

struct FakePty {
    seen: Arc<Seen>,
    fail: bool,
}

struct FakeSession {
    id: u64,
    seen: Arc<Seen>,
}

impl PtySession for FakeSession {
    fn write(&mut self, bytes: Vec<u8>) {
        self.seen.push(format!(
            "{} write {}",
            self.id,
            String::from_utf8_lossy(&bytes)
        ));
    }
    fn resize(&mut self, rows: u16, cols: u16) {
        self.seen.push(format!("{} resize {rows}x{cols}", self.id));
    }
    fn kill(&mut self) {
        self.seen.push(format!("{} kill", self.id));
    }
}

impl PtySystem for FakePty {
    fn spawn(
        &self,
        id: u64,
        spec: &SessionSpec,
        _events: mpsc::Sender<(u64, SessionEvent)>,
    ) -> anyhow::Result<Box<dyn PtySession>> {
        if self.fail {
            anyhow::bail!("cannot start {}", spec.argv[0]);
        }
        self.seen
            .push(format!("{id} spawn {}x{}", spec.rows, spec.cols));
        Ok(Box::new(FakeSession {
            id,
            seen: self.seen.clone(),
        }))
    }
}

struct Rig {
    runner: Runner,
    done: mpsc::Receiver<Done>,
    commands: mpsc::Receiver<Command>,
    seen: Arc<Seen>,
    _dir: tempfile::TempDir,
}

fn rig(fail: bool, queue: usize) -> Rig {
    let (cmd_tx, commands) = mpsc::channel(queue);
    let (done_tx, done) = mpsc::channel(8);
    let (shell_tx, _shell_rx) = mpsc::channel(8);
    let seen = Arc::new(Seen::default());
    let dir = tempfile::tempdir().unwrap();
    let pty = Arc::new(FakePty {
        seen: seen.clone(),
        fail,
    });
    Rig {
        runner: Runner::new(cmd_tx, done_tx, dir.path().join("state"), pty, shell_tx),
        done,
        commands,
        seen,
        _dir: dir,
    }
}

fn spawn(id: u64) -> Effect {
    Effect::SpawnShell {
        id,
        argv: vec!["ssh".into()],
        env: vec![],
        rows: 10,
        cols: 20,
    }
}

#[tokio::test]
async fn a_full_backend_queue_is_reported_not_lost() {
    let mut r = rig(false, 1);
    assert!(r
        .runner
        .run(Effect::Backend(Command::Select(None)))
        .is_none());
    let refused = r.runner.run(Effect::Backend(Command::CancelJobs));
    assert_eq!(refused, Some(Msg::CommandRefused(Command::CancelJobs)));
    assert_eq!(r.commands.recv().await, Some(Command::Select(None)));
}

#[tokio::test]
async fn keys_typed_while_the_pty_starts_arrive_in_order() {
    let mut r = rig(false, 4);
    r.runner.run(spawn(1));
    r.runner.run(Effect::ShellInput {
        id: 1,
        bytes: b"ls".to_vec(),
    });
    r.runner.run(Effect::ShellResize {
        id: 1,
        rows: 30,
        cols: 90,
    });
    r.runner.run(Effect::ShellInput {
        id: 1,
        bytes: b"\r".to_vec(),
    });
    let Some(Done::Spawned(1, s)) = r.done.recv().await else {
        panic!("no session")
    };
    r.runner.adopt(1, s);
    r.runner.run(Effect::ShellInput {
        id: 1,
        bytes: b"pwd".to_vec(),
    });
    assert_eq!(
        r.seen.take(),
        [
            "1 spawn 10x20",
            "1 resize 30x90",
            "1 write ls",
            "1 write \r",
            "1 write pwd"
        ]
    );
    r.runner.run(Effect::KillShell { id: 1 });
    assert_eq!(r.seen.take(), ["1 kill"]);
    assert_eq!(r.runner.session_count(), 0);
}

#[tokio::test]
async fn a_tab_closed_while_its_pty_starts_ends_the_session() {
    let mut r = rig(false, 4);
    r.runner.run(spawn(2));
    r.runner.run(Effect::KillShell { id: 2 });
    let Some(Done::Spawned(2, s)) = r.done.recv().await else {
        panic!("no session")
    };
    r.runner.adopt(2, s);
    assert_eq!(r.seen.take(), ["2 spawn 10x20", "2 kill"]);
    assert_eq!(r.runner.session_count(), 0);
}

#[tokio::test]
async fn a_pty_that_cannot_start_becomes_a_message() {
    let mut r = rig(true, 4);
    r.runner.run(spawn(3));
    let Some(Done::SpawnFailed(3, reason)) = r.done.recv().await else {
        panic!("no failure")
    };
    assert!(reason.contains("cannot start ssh"), "{reason}");
    assert_eq!(r.runner.session_count(), 1, "starting");
    let msg = r.runner.spawn_failed(3, reason);
    assert!(matches!(msg, Msg::ShellSpawnFailed { id: 3, .. }));
    assert_eq!(r.runner.session_count(), 0, "nothing left behind");
}

#[tokio::test]
async fn saved_logs_are_private_and_reported() {
    use std::os::unix::fs::PermissionsExt;
    let mut r = rig(false, 4);
    r.runner.run(Effect::SaveLogs {
        name: "api".into(),
        content: "line\n".into(),
    });
    let Some(Done::Msg(Msg::Notice(n))) = r.done.recv().await else {
        panic!("no notice")
    };
    let path = n.strip_prefix("saved logs to ").expect(&n);
    let meta = std::fs::metadata(path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(path).unwrap(), "line\n");
}
