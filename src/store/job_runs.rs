//! The last runs of each background job (`berth daemon status`): which job, which
//! runner (kind and pid), when, how long, whether it acted, and what it said. A
//! few are kept per job; older ones are forgotten as new ones come.
use super::Store;
use anyhow::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

/// Runs kept per job.
pub const KEPT: i64 = 20;

pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    runner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    took_ms INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    acted INTEGER NOT NULL,
    summary TEXT NOT NULL);";

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRun {
    pub job: String,
    /// daemon, tui or once.
    pub runner: String,
    pub pid: u32,
    pub started_at: i64,
    pub took_ms: u64,
    pub ok: bool,
    pub acted: bool,
    /// What it did or said, or why it failed.
    pub summary: String,
}

fn insert(c: &mut Connection, r: &JobRun) -> Result<()> {
    let tx = c.transaction()?;
    tx.execute(
        "INSERT INTO job_runs (job, runner, pid, started_at, took_ms, ok, acted, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            r.job,
            r.runner,
            r.pid,
            r.started_at,
            r.took_ms as i64,
            r.ok,
            r.acted,
            r.summary
        ],
    )?;
    tx.execute(
        "DELETE FROM job_runs WHERE job = ?1 AND id NOT IN
           (SELECT id FROM job_runs WHERE job = ?1 ORDER BY id DESC LIMIT ?2)",
        params![r.job, KEPT],
    )?;
    tx.commit()?;
    Ok(())
}

fn recent(c: &mut Connection) -> Result<Vec<JobRun>> {
    let mut st = c.prepare(
        "SELECT job, runner, pid, started_at, took_ms, ok, acted, summary
         FROM job_runs ORDER BY id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(JobRun {
            job: r.get(0)?,
            runner: r.get(1)?,
            pid: r.get(2)?,
            started_at: r.get(3)?,
            took_ms: r.get::<_, i64>(4)?.max(0) as u64,
            ok: r.get(5)?,
            acted: r.get(6)?,
            summary: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    /// Records a run (keeping the last [`KEPT`] of its job).
    pub async fn record_job_run(&self, run: JobRun) -> Result<()> {
        self.call(move |c| insert(c, &run)).await
    }

    /// The kept runs of every job, oldest first.
    pub async fn job_runs(&self) -> Result<Vec<JobRun>> {
        self.call(recent).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(job: &str, n: i64) -> JobRun {
        JobRun {
            job: job.into(),
            runner: "daemon".into(),
            pid: 42,
            started_at: n,
            took_ms: 3,
            ok: n % 2 == 0,
            acted: false,
            summary: format!("run {n}"),
        }
    }

    #[tokio::test]
    async fn runs_are_kept_per_job_newest_last() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("berth.db"));
        for n in 0..KEPT + 5 {
            store.record_job_run(run("health", n)).await.unwrap();
        }
        store.record_job_run(run("cleanup", 7)).await.unwrap();
        let all = store.job_runs().await.unwrap();
        let health: Vec<i64> = all
            .iter()
            .filter(|r| r.job == "health")
            .map(|r| r.started_at)
            .collect();
        assert_eq!(health, (5..KEPT + 5).collect::<Vec<_>>());
        assert_eq!(all.last().unwrap(), &run("cleanup", 7));
    }
}
