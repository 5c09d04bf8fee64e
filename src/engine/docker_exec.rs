//! `exec` through the engine API, with stdin, streamed output and timeouts.
use super::docker::{map_err, DockerEngine};
use super::{
    exec_cancelled, Engine, EngineError, EngineResult, ExecOutcome, ExecRequest, Output,
    EXEC_CANCELLED,
};
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::stream::StreamExt;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Shell snippet that kills a process and all its descendants (procps' pgrep).
pub(super) const KILL_TREE: &str = "k(){ for c in $(pgrep -P \"$1\" 2>/dev/null); do k \"$c\"; done; kill -KILL \"$1\" 2>/dev/null; }; \
                         p=$(cat \"$0\" 2>/dev/null) && [ -n \"$p\" ] && k \"$p\"; rm -f \"$0\"";

pub(super) async fn exec_impl(
    eng: &DockerEngine,
    container: &str,
    mut req: ExecRequest,
    out: mpsc::Sender<Output>,
) -> EngineResult<ExecOutcome> {
    // With a timeout the command runs under a tiny sh wrapper that records its pid,
    // so the process tree can be killed from a second exec when time is up. The
    // wrapper removes its pid file itself when the command ends (no `exec`): a
    // second exec to remove it would cost every timed exec another exec's start.
    let pidfile = format!(
        "{}{}-{}",
        crate::domain::activity_probe::EXEC_PIDFILE_PREFIX,
        std::process::id(),
        rand_suffix()
    );
    let cancel = req.cancel.take();
    let cmd = match (req.timeout, &cancel) {
        (None, None) => req.cmd.clone(),
        _ => {
            let mut c = vec![
                "/bin/sh".to_string(),
                "-c".to_string(),
                wrapper(&pidfile),
                "berth-exec".to_string(),
            ];
            c.extend(req.cmd.iter().cloned());
            c
        }
    };
    let stdin = req.stdin.take();
    let opts = CreateExecOptions::<String> {
        attach_stdin: Some(stdin.is_some()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        env: (!req.env.is_empty()).then(|| req.env.clone()),
        cmd: Some(cmd),
        user: req.user.clone(),
        working_dir: req.workdir.clone(),
        ..Default::default()
    };
    let created = eng
        .docker()
        .create_exec(container, opts)
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))?;
    let started = eng
        .docker()
        .start_exec(&created.id, None)
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = started
    else {
        return Err(EngineError::Api("exec did not attach".into()));
    };
    let feeder = stdin.map(|mut src| {
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut src, &mut input).await;
            let _ = input.shutdown().await;
        })
    });
    let pump = async {
        while let Some(item) = output.next().await {
            let chunk = match item.map_err(|e| map_err(&eng.endpoint(), e))? {
                bollard::container::LogOutput::StdErr { message } => {
                    Output::Stderr(message.to_vec())
                }
                other => Output::Stdout(other.into_bytes().to_vec()),
            };
            if out.send(chunk).await.is_err() {
                break;
            }
        }
        Ok::<(), EngineError>(())
    };
    let limit = async {
        match req.timeout {
            Some(l) => tokio::time::sleep(l).await,
            None => std::future::pending().await,
        }
    };
    // Ok(None): the output ended; Ok(Some(timed_out)): stopped early.
    let stopped = tokio::select! {
        r = pump => r.map(|_| None),
        _ = limit => Ok(Some(true)),
        _ = exec_cancelled(cancel) => Ok(Some(false)),
    };
    if let Some(f) = feeder {
        f.abort();
    }
    if let Some(timed_out) = stopped? {
        let kill = CreateExecOptions::<String> {
            cmd: Some(vec![
                "/bin/sh".into(),
                "-c".into(),
                KILL_TREE.into(),
                pidfile.clone(),
            ]),
            user: req.user.clone(),
            ..Default::default()
        };
        if let Ok(k) = eng.docker().create_exec(container, kill).await {
            if let Ok(StartExecResults::Attached { mut output, .. }) =
                eng.docker().start_exec(&k.id, None).await
            {
                while output.next().await.is_some() {}
            }
        }
        if !timed_out {
            return Err(EngineError::Api(EXEC_CANCELLED.into()));
        }
        return Ok(ExecOutcome {
            exit_code: 124,
            timed_out: true,
        });
    }
    // The output stream ends a moment before the engine records the exit code.
    for _ in 0..100 {
        let info = eng
            .docker()
            .inspect_exec(&created.id)
            .await
            .map_err(|e| map_err(&eng.endpoint(), e))?;
        if info.running != Some(true) {
            return Ok(ExecOutcome {
                exit_code: info.exit_code.unwrap_or(-1),
                timed_out: false,
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(EngineError::Api(
        "the command's output ended but the engine still reports it running".into(),
    ))
}

/// The timeout wrapper's script (`sh -c SCRIPT berth-exec CMD...`): records its
/// pid in `pidfile`, runs the command as its child, removes the file and exits
/// with the command's status.
fn wrapper(pidfile: &str) -> String {
    format!("echo $$ > {pidfile}; \"$@\"; s=$?; rm -f {pidfile}; exit $s")
}

pub(super) fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::wrapper;
    use std::process::Command;

    /// The wrapper under a real sh: the command's status and arguments kept, its
    /// pid file gone when it ends (no second exec needed to remove it).
    #[test]
    fn the_timeout_wrapper_keeps_the_status_and_removes_its_pid_file() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let pf = pidfile.to_str().unwrap();
        let run = |args: &[&str]| {
            let mut c = Command::new("/bin/sh");
            c.arg("-c").arg(wrapper(pf)).arg("berth-exec").args(args);
            c.output().unwrap()
        };
        let o = run(&["sh", "-c", "test -s \"$0\" && exit 3", pf]);
        assert_eq!(
            o.status.code(),
            Some(3),
            "the pid file was there while it ran"
        );
        assert!(!pidfile.exists());
        let o = run(&["printf", "%s|", "a b", "$HOME", ""]);
        assert!(o.status.success());
        assert_eq!(String::from_utf8_lossy(&o.stdout), "a b|$HOME||");
        assert!(!pidfile.exists());
        let o = run(&["no-such-command-here"]);
        assert_eq!(o.status.code(), Some(127));
        assert!(!pidfile.exists());
    }
}
