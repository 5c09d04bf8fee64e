//! Small embedded store (SQLite) for what labels cannot hold: SSH port leases of
//! creates in progress, provisioning records, the identity files used for a
//! workspace, and an audit trail. The engine stays the source of truth; the store is
//! reconciled with it. Cross-process safety comes from SQLite transactions.
//!
//! SQLite is blocking, so one actor thread per `Store` owns the connection and async
//! callers send it jobs over a bounded channel and await the reply.
mod audit;
pub use audit::AuditEntry;
mod activity;
mod engine_key;
mod identities;
pub mod job_runs;
mod leases;
pub mod mcp_calls;
pub mod process;
mod provisioning;
mod secrets;
mod sizes;

pub use activity::{ActivityRecord, OpenTabs, Use};
pub use job_runs::JobRun;
pub use leases::LeaseRequest;
pub use mcp_calls::McpCall;
pub use process::Creator;
pub use provisioning::{Begin, ProvisionRecord};

use anyhow::{anyhow, Context, Result};
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Jobs waiting for the store thread; callers wait (backpressure) beyond this.
const QUEUE: usize = 64;

type Job = Box<dyn FnOnce(&mut Db) + Send>;

/// Handle to the store; cheap to clone, every clone talks to the same thread.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    how: How,
}

#[derive(Clone)]
enum How {
    /// The store's own thread (what berth runs).
    Thread(mpsc::Sender<Job>),
    /// On the caller's task: only for tests in tokio's paused time, where waiting
    /// for a real thread would let the test clock run past every timeout.
    Inline(std::sync::Arc<std::sync::Mutex<Db>>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The connection, opened on first use so an error reaches the caller that needed it.
struct Db {
    path: PathBuf,
    conn: Option<Connection>,
}

impl Db {
    fn conn(&mut self) -> Result<&mut Connection> {
        if self.conn.is_none() {
            self.conn = Some(open(&self.path)?);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| anyhow!("berth's store is not open"))
    }
}

impl Store {
    /// Starts the store's thread. The database is opened on the first call.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let (jobs, mut rx) = mpsc::channel::<Job>(QUEUE);
        let mut db = Db {
            path: path.clone(),
            conn: None,
        };
        let spawned = std::thread::Builder::new()
            .name("berth-store".into())
            .spawn(move || {
                // Ends when every handle is dropped.
                while let Some(job) = rx.blocking_recv() {
                    job(&mut db);
                }
            });
        if let Err(e) = spawned {
            // Calls will fail with "the store thread is gone"; say why once.
            tracing::error!("cannot start the store thread: {e}");
        }
        Self {
            path,
            how: How::Thread(jobs),
        }
    }

    /// A store that works on the caller's task, without a thread: for tests in
    /// tokio's paused time only (it blocks the caller while SQLite works).
    pub fn inline_for_tests(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let db = Db {
            path: path.clone(),
            conn: None,
        };
        Self {
            path,
            how: How::Inline(std::sync::Arc::new(std::sync::Mutex::new(db))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the store's thread with its connection.
    async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let gone = || anyhow!("berth's store thread is gone ({})", self.path.display());
        let jobs = match &self.how {
            How::Thread(jobs) => jobs,
            How::Inline(db) => {
                let mut db = db.lock().map_err(|_| gone())?;
                return db.conn().and_then(f);
            }
        };
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |db: &mut Db| {
            let _ = tx.send(db.conn().and_then(f));
        });
        jobs.send(job).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Reserves the lowest free port for a create, under an exclusive transaction.
    pub async fn reserve_port(&self, req: LeaseRequest) -> Result<u16> {
        let me = Creator::current();
        self.call(move |c| leases::reserve(c, &req, me, &|c: &Creator| c.maybe_alive()))
            .await
    }

    /// Releases a create's lease (it ended: the workspace, if made, holds the port).
    pub async fn release_lease(&self, token: &str) -> Result<()> {
        let token = token.to_string();
        self.call(move |c| leases::release(c, &token)).await
    }

    /// Claims `name` on engine `engine` for a create (see [`Begin`]).
    pub async fn begin_provisioning(
        &self,
        engine: &str,
        name: &str,
        token: &str,
        total: usize,
    ) -> Result<Begin> {
        let (engine, name) = (engine.to_string(), name.to_string());
        let (token, me) = (token.to_string(), Creator::current());
        self.call(move |c| {
            provisioning::begin(c, &engine, &name, &token, total, me, &|c: &Creator| {
                c.alive()
            })
        })
        .await
    }

    pub async fn provision_step(
        &self,
        name: &str,
        token: &str,
        label: &str,
        index: usize,
        total: usize,
    ) -> Result<()> {
        let (name, token, label) = (name.to_string(), token.to_string(), label.to_string());
        self.call(move |c| provisioning::step(c, &name, &token, &label, index, total))
            .await
    }

    pub async fn provision_made_volume(&self, name: &str, token: &str, made: bool) -> Result<()> {
        let (name, token) = (name.to_string(), token.to_string());
        self.call(move |c| provisioning::made_volume(c, &name, &token, made))
            .await
    }

    /// Keeps the record of a create that ended without finishing but left something
    /// it did not make (a volume it reused), so `list` still shows it as incomplete.
    pub async fn abandon_provisioning(&self, name: &str, token: &str) -> Result<()> {
        let (name, token) = (name.to_string(), token.to_string());
        self.call(move |c| provisioning::abandon(c, &name, &token))
            .await
    }

    pub async fn end_provisioning(&self, name: &str, token: &str) -> Result<()> {
        let (name, token) = (name.to_string(), token.to_string());
        self.call(move |c| provisioning::end(c, &name, &token))
            .await
    }

    /// Every provisioning record, with whether its create still runs.
    pub async fn provisioning(&self) -> Result<Vec<(ProvisionRecord, bool)>> {
        self.provisioning_of(None).await
    }

    /// The provisioning records of engine `engine`, with whether their create runs.
    pub async fn provisioning_on(&self, engine: &str) -> Result<Vec<(ProvisionRecord, bool)>> {
        self.provisioning_of(Some(engine.to_string())).await
    }

    async fn provisioning_of(
        &self,
        engine: Option<String>,
    ) -> Result<Vec<(ProvisionRecord, bool)>> {
        self.call(move |c| {
            Ok(provisioning::all(c, engine.as_deref())?
                .into_iter()
                .map(|r| {
                    let alive = r.creator.alive();
                    (r, alive)
                })
                .collect())
        })
        .await
    }

    /// Containers already seen finished (their marker read, or written by us).
    pub async fn provisioned_ids(&self) -> Result<std::collections::HashSet<String>> {
        self.call(|c| {
            let mut st = c.prepare("SELECT container_id FROM provisioned")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Remembers that container `id` finished provisioning (a fact that never
    /// changes for that id), and forgets containers that no longer exist (`alive`).
    pub async fn record_provisioned(
        &self,
        ids: Vec<String>,
        alive: Option<Vec<String>>,
    ) -> Result<()> {
        self.call(move |c| {
            let known: Vec<String> = {
                let mut st = c.prepare("SELECT container_id FROM provisioned")?;
                let rows = st.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let add: Vec<&String> = ids.iter().filter(|i| !known.contains(i)).collect();
            let gone: Vec<&String> = match &alive {
                Some(alive) => known.iter().filter(|k| !alive.contains(k)).collect(),
                None => Vec::new(),
            };
            // Most lists change nothing: no write transaction for them.
            if add.is_empty() && gone.is_empty() {
                return Ok(());
            }
            let tx = c.transaction()?;
            for id in add {
                tx.execute(
                    "INSERT OR IGNORE INTO provisioned (container_id, at) VALUES (?1, ?2)",
                    params![id, now()],
                )?;
            }
            for id in gone {
                tx.execute(
                    "DELETE FROM provisioned WHERE container_id = ?1",
                    params![id],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Forgets everything about a deleted workspace on engine `engine` (leases,
    /// identities, records). Only that engine's: a workspace or a create of the
    /// same name on another engine keeps its port, keys and record.
    pub async fn forget(&self, name: &str, engine: &str) -> Result<()> {
        let (name, engine) = (name.to_string(), engine.to_string());
        self.call(move |c| {
            c.execute(
                "DELETE FROM port_leases WHERE name = ?1 AND engine = ?2",
                params![name, engine],
            )?;
            c.execute(
                "DELETE FROM identities WHERE name = ?1 AND engine = ?2",
                params![name, engine],
            )?;
            provisioning::forget(c, &engine, &name)?;
            Ok(())
        })
        .await
    }

    pub async fn lease_count(&self) -> Result<usize> {
        self.call(|c| {
            let n: i64 = c.query_row("SELECT COUNT(*) FROM port_leases", [], |r| r.get(0))?;
            Ok(n as usize)
        })
        .await
    }

    /// Records where secret `name` (for `workspace`, or global) comes from; whether new.
    pub async fn secret_set(
        &self,
        name: &str,
        workspace: Option<&str>,
        source: &crate::domain::secrets::Source,
    ) -> Result<bool> {
        let (name, ws, source) = (
            name.to_string(),
            workspace.map(String::from),
            source.clone(),
        );
        self.call(move |c| secrets::set(c, &name, ws.as_deref(), &source, now()))
            .await
    }

    /// Forgets secret `name` (for `workspace`, or global); whether it was there.
    pub async fn secret_remove(&self, name: &str, workspace: Option<&str>) -> Result<bool> {
        let (name, ws) = (name.to_string(), workspace.map(String::from));
        self.call(move |c| secrets::remove(c, &name, ws.as_deref()))
            .await
    }

    /// Every recorded secret (sources only).
    pub async fn secrets(&self) -> Result<Vec<crate::domain::secrets::Secret>> {
        self.call(|c| secrets::all(c)).await
    }

    pub async fn audit(&self, name: &str, action: &str, detail: &str) -> Result<()> {
        let (name, action, detail) = (name.to_string(), action.to_string(), detail.to_string());
        self.call(move |c| {
            c.execute(
                "INSERT INTO audit (ts, name, action, detail) VALUES (?1, ?2, ?3, ?4)",
                params![now(), name, action, detail],
            )?;
            Ok(())
        })
        .await
    }
}

/// Opens the database, private (0600 in a 0700 directory), and prepares its tables.
fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent() {
        crate::private_fs::ensure_dir(dir)
            .with_context(|| format!("cannot create berth's state directory {}", dir.display()))?;
    }
    // SQLite gives its -wal and -shm files the database file's mode, so make that
    // 0600 before SQLite creates it (and fix files an older berth made 0644).
    drop(crate::private_fs::open_append(path)?);
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        crate::private_fs::restrict(Path::new(&p))?;
    }
    let conn = Connection::open(path)
        .with_context(|| format!("cannot open berth's store {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(60))?;
    // Switching to WAL and creating tables take locks that SQLite may refuse at
    // once (without waiting) while another process is starting up too: retry.
    // This runs on the store's own thread, so sleeping blocks nobody else.
    let mut attempt = 0;
    loop {
        match setup(&conn) {
            Ok(()) => break,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if attempt < 500
                    && matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) =>
            {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e).context("cannot prepare berth's store"),
        }
    }
    Ok(conn)
}

fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut st = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = st.query_map([], |r| r.get::<_, String>(1))?;
    for n in names {
        if n? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

fn setup(conn: &Connection) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS audit (
             ts INTEGER NOT NULL,
             name TEXT NOT NULL,
             action TEXT NOT NULL,
             detail TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS provisioned (
             container_id TEXT PRIMARY KEY,
             at INTEGER NOT NULL);",
    )?;
    // Both were keyed by name alone before several engines (kept on `default`).
    identities::setup(conn)?;
    provisioning::setup(conn)?;
    conn.execute_batch(secrets::SCHEMA)?;
    conn.execute_batch(job_runs::SCHEMA)?;
    conn.execute_batch(mcp_calls::SCHEMA)?;
    conn.execute_batch(activity::SCHEMA)?;
    // Leases of berth 0.1 had no creator (such rows count as ended creates);
    // those before several engines were keyed by port alone (kept on `default`).
    let has_leases: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'port_leases'",
        [],
        |r| r.get(0),
    )?;
    if has_leases {
        leases::migrate(conn)?;
    } else {
        conn.execute_batch(leases::SCHEMA)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
