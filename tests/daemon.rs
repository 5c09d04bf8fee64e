//! `berth daemon` as real processes on one state directory, against the real
//! engine: exactly one runs the acting jobs, a standby takes over when the holder
//! is killed, SIGTERM stops cleanly with exit 0, and a TUI shows who runs them.
//! The acting job is the test-only `test-tick` (BERTH_TEST_ACTING_JOB_SECS): every
//! run is recorded with its runner's pid, read back with `berth daemon status`.
mod common;
#[path = "common/tmux.rs"]
mod tmux;
use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A berth process of the test, killed by its pid when dropped (pass or fail).
struct Proc {
    child: Child,
    stderr: std::path::PathBuf,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Waits for the process to exit (at most `secs`); its exit code.
    fn wait(&mut self, secs: u64) -> Option<i32> {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "pid {} still runs after {secs} s:\n{}",
            self.pid(),
            self.log()
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `berth daemon` as the sandbox's user, with the test's acting job every second.
fn daemon(sb: &Sandbox, tag: &str) -> Proc {
    let stderr = sb.dir.path().join(format!("daemon-{tag}.err"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    sb.env(&mut c);
    c.arg("daemon")
        .env("BERTH_TEST_ACTING_JOB_SECS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap());
    Proc {
        child: c.spawn().expect("start berth daemon"),
        stderr,
    }
}

fn status(sb: &Sandbox) -> serde_json::Value {
    sb.json(&["daemon", "status", "--json"])
}

fn holder_pid(sb: &Sandbox) -> Option<u64> {
    status(sb)["holder"]["pid"].as_u64()
}

/// Waits (at most `secs`) for `pred` over `berth daemon status --json`.
fn wait_status(
    sb: &Sandbox,
    what: &str,
    secs: u64,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = status(sb);
        if pred(&s) {
            return s;
        }
        assert!(Instant::now() < until, "waited {secs} s for {what}:\n{s:#}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The kept runs of `job`: (pid, started_at).
fn runs_of(s: &serde_json::Value, job: &str) -> Vec<(u64, i64)> {
    s["recent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["job"] == job)
        .map(|r| {
            (
                r["pid"].as_u64().unwrap(),
                r["started_at"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn wait_log(p: &Proc, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let log = p.log();
        if pred(&log) {
            return log;
        }
        assert!(Instant::now() < until, "waited {secs} s for {what}:\n{log}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn two_daemons_one_runs_the_acting_jobs_and_the_standby_takes_over() {
    let Some(sb) = Sandbox::with_config(
        "daemon2",
        (3600, 3604),
        "[jobs]\nhealth_interval = \"5s\"\n",
    ) else {
        return;
    };
    let mut a = daemon(&sb, "a");
    let a_pid = u64::from(a.pid());
    wait_status(&sb, "daemon a holding the lock", 30, |s| {
        s["holder"]["pid"].as_u64() == Some(a_pid) && s["holder"]["kind"] == "daemon"
    });
    let mut b = daemon(&sb, "b");
    let b_pid = u64::from(b.pid());
    wait_log(&b, "daemon b waiting as a standby", 30, |l| {
        l.contains(&format!(
            "standby: the acting jobs (cleanup, pool refill) are run by daemon pid {a_pid}"
        ))
    });
    // Both run; a few more acting runs happen meanwhile, every one by a.
    let seen = runs_of(&status(&sb), "test-tick").len();
    let s = wait_status(&sb, "three more acting runs", 30, |s| {
        runs_of(s, "test-tick").len() >= seen + 3
    });
    let ticks = runs_of(&s, "test-tick");
    assert!(
        ticks.iter().all(|(pid, _)| *pid == a_pid),
        "only the holder runs the acting jobs: {ticks:?}"
    );
    assert_eq!(holder_pid(&sb), Some(a_pid));
    // The read-only health job ran against the real engine, in the standby too.
    wait_log(&b, "b's health job", 30, |l| {
        l.contains("health: engine reachable")
    });
    assert!(a.log().contains("health: engine reachable"), "{}", a.log());

    // The holder dies without a word: the kernel releases the lock, b takes it.
    let killed_at = unix_now();
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    wait_status(&sb, "daemon b holding the lock", 30, |s| {
        s["holder"]["pid"].as_u64() == Some(b_pid)
    });
    let s = wait_status(&sb, "b running the acting job", 30, |s| {
        runs_of(s, "test-tick").iter().any(|(pid, _)| *pid == b_pid)
    });
    for (pid, at) in runs_of(&s, "test-tick") {
        assert!(
            pid == a_pid || (pid == b_pid && at >= killed_at),
            "b ran the acting job at {at}, before a died at {killed_at}"
        );
    }
    wait_log(&b, "b's takeover line", 5, |l| {
        l.contains(&format!(
            "holding the jobs lock from daemon pid {a_pid}: this daemon runs every job"
        ))
    });

    // SIGTERM: a clean stop, exit 0, the lock released.
    b.signal("-TERM");
    assert_eq!(b.wait(90), Some(0), "{}", b.log());
    assert!(b.log().contains("stopped"), "{}", b.log());
    assert!(status(&sb)["holder"].is_null());
    let text = sb.ok(&["daemon", "status"]);
    assert!(text.contains("Jobs lock: free."), "{text}");
    assert!(text.contains("test-tick"), "{text}");
}

#[test]
fn once_runs_every_job_and_skips_the_acting_ones_a_daemon_holds() {
    let Some(sb) = Sandbox::with_config("daemon1", (3605, 3609), "") else {
        return;
    };
    let run_once = || {
        let mut c = sb.cmd(&["daemon", "--once"]);
        c.env("BERTH_TEST_ACTING_JOB_SECS", "1");
        c.output().unwrap()
    };
    let o = run_once();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("health: engine reachable"), "{out}");
    assert!(out.contains("test-tick: nothing to do"), "{out}");
    let d = daemon(&sb, "holder");
    let pid = u64::from(d.pid());
    wait_status(&sb, "the daemon holding the lock", 30, |s| {
        s["holder"]["pid"].as_u64() == Some(pid)
    });
    let o = run_once();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "not run: cleanup, test-tick (the jobs lock is held by daemon pid {pid}, which runs them)"
        )),
        "{out}"
    );
    let doctor = sb.berth(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let line = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "daemon")
        .cloned()
        .unwrap();
    assert!(
        line["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("daemon pid {pid} runs the background jobs")),
        "{line}"
    );
}

#[test]
fn a_tui_shows_the_daemon_that_runs_the_jobs_and_takes_them_when_it_stops() {
    let Some(sb) = Sandbox::new("daemontui", (3610, 3614)) else {
        return;
    };
    let mut d = daemon(&sb, "first");
    let pid = u64::from(d.pid());
    wait_status(&sb, "the daemon holding the lock", 30, |s| {
        s["holder"]["pid"].as_u64() == Some(pid)
    });
    let t = tmux::Tmux::start("daemontui", 140, 30, &sb.tui_command());
    t.wait_for("the TUI naming the daemon", 30, |s| {
        s.contains(&format!("jobs: daemon pid {pid}"))
    });
    // The daemon stops; the TUI takes the jobs at its next try (every 30 s).
    d.signal("-TERM");
    assert_eq!(d.wait(90), Some(0), "{}", d.log());
    t.wait_for("the TUI running the jobs", 45, |s| {
        s.contains("jobs: this TUI")
    });
    assert_eq!(status(&sb)["holder"]["kind"], "tui");
    // A daemon started now waits for the TUI, and takes over when it quits.
    let second = daemon(&sb, "second");
    wait_log(&second, "the daemon standing by", 30, |l| {
        l.contains("are run by TUI pid")
    });
    t.keys(&["q"]);
    t.wait_for("berth to exit", 15, |s| s.contains("berth-exit=0"));
    wait_log(&second, "the daemon taking over", 30, |l| {
        l.contains("holding the jobs lock from TUI pid")
    });
    assert_eq!(holder_pid(&sb), Some(u64::from(second.pid())));
}
