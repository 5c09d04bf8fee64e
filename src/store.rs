//! Small embedded store (SQLite) for what labels cannot hold: SSH port leases taken
//! during creation, the identity file used for a workspace, and an audit trail.
//! The engine stays the source of truth; the store is reconciled with it.
use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::ports::{lowest_free, PortRange};

/// A lease whose workspace never appeared in the engine is dropped after this long
/// (a create that crashed half-way).
pub const STALE_LEASE_SECS: i64 = 600;

#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What the engine says is in use, read just before a reservation.
#[derive(Debug, Default, Clone)]
pub struct EngineView {
    /// Ports recorded on existing workspaces.
    pub ports: BTreeSet<u16>,
    /// Names of existing workspaces.
    pub names: BTreeSet<String>,
}

impl Store {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> Result<Connection> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create state directory {}", dir.display()))?;
        }
        let conn = Connection::open(&self.path)
            .with_context(|| format!("cannot open berth's store {}", self.path.display()))?;
        conn.busy_timeout(Duration::from_secs(60))?;
        // Switching to WAL and creating tables take locks that SQLite may refuse at
        // once (without waiting) while another process is starting up too: retry.
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

    /// Reserves the lowest free port for `name` under an exclusive write transaction,
    /// so concurrent berth processes never get the same port. `skip` holds ports the
    /// engine refused moments ago.
    pub fn reserve_port(
        &self,
        name: &str,
        token: &str,
        range: PortRange,
        engine: &EngineView,
        skip: &BTreeSet<u16>,
        host_busy: impl FnMut(u16) -> bool,
    ) -> Result<u16> {
        let mut conn = self.open()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let leases: Vec<(u16, String, i64)> = {
            let mut st = tx.prepare("SELECT port, name, created_at FROM port_leases")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let cutoff = now() - STALE_LEASE_SECS;
        let mut taken: BTreeSet<u16> = engine.ports.union(skip).copied().collect();
        for (port, lease_name, created) in leases {
            if created < cutoff && !engine.names.contains(&lease_name) {
                tx.execute("DELETE FROM port_leases WHERE port = ?1", params![port])?;
            } else {
                taken.insert(port);
            }
        }
        let port = lowest_free(range, &taken, host_busy)?;
        tx.execute(
            "INSERT INTO port_leases (port, name, token, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![port, name, token, now()],
        )?;
        tx.commit()?;
        Ok(port)
    }

    /// Releases one reservation (a failed attempt), identified by its token and port.
    pub fn release_lease(&self, token: &str, port: u16) -> Result<()> {
        self.open()?.execute(
            "DELETE FROM port_leases WHERE token = ?1 AND port = ?2",
            params![token, port],
        )?;
        Ok(())
    }

    /// Frees every reservation of a deleted workspace.
    pub fn release_name(&self, name: &str) -> Result<()> {
        let conn = self.open()?;
        conn.execute("DELETE FROM port_leases WHERE name = ?1", params![name])?;
        conn.execute("DELETE FROM identities WHERE name = ?1", params![name])?;
        Ok(())
    }

    pub fn lease_count(&self) -> Result<usize> {
        let n: i64 = self
            .open()?
            .query_row("SELECT COUNT(*) FROM port_leases", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// The private keys matching the public keys put in a workspace (paths only).
    pub fn set_identities(&self, name: &str, files: &[PathBuf]) -> Result<()> {
        let joined: Vec<String> = files
            .iter()
            .map(|f| f.to_string_lossy().to_string())
            .collect();
        self.open()?.execute(
            "INSERT INTO identities (name, identity_file) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET identity_file = excluded.identity_file",
            params![name, joined.join("\n")],
        )?;
        Ok(())
    }

    pub fn identities(&self, name: &str) -> Result<Vec<PathBuf>> {
        let v: Option<String> = self
            .open()?
            .query_row(
                "SELECT identity_file FROM identities WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.map(|s| {
            s.lines()
                .filter(|l| !l.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default())
    }

    pub fn audit(&self, name: &str, action: &str, detail: &str) -> Result<()> {
        self.open()?.execute(
            "INSERT INTO audit (ts, name, action, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now(), name, action, detail],
        )?;
        Ok(())
    }
}

fn setup(conn: &Connection) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS port_leases (
             port INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             token TEXT NOT NULL,
             created_at INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS identities (
             name TEXT PRIMARY KEY,
             identity_file TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS audit (
             ts INTEGER NOT NULL,
             name TEXT NOT NULL,
             action TEXT NOT NULL,
             detail TEXT NOT NULL);",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let d = tempfile::tempdir().unwrap();
        let s = Store::new(d.path().join("state/berth.db"));
        (d, s)
    }

    #[test]
    fn leases_are_distinct_and_released_by_token() {
        let (_d, s) = store();
        let r = PortRange::new(3000, 3002).unwrap();
        let v = EngineView::default();
        let none = BTreeSet::new();
        let a = s.reserve_port("a", "t1", r, &v, &none, |_| false).unwrap();
        let b = s.reserve_port("b", "t2", r, &v, &none, |_| false).unwrap();
        assert_eq!((a, b), (3000, 3001));
        s.release_lease("wrong", a).unwrap();
        assert_eq!(s.lease_count().unwrap(), 2);
        s.release_lease("t1", a).unwrap();
        assert_eq!(
            s.reserve_port("c", "t3", r, &v, &none, |_| false).unwrap(),
            3000
        );
        s.reserve_port("d", "t4", r, &v, &none, |_| false).unwrap();
        let err = s
            .reserve_port("e", "t5", r, &v, &none, |_| false)
            .unwrap_err();
        assert!(err.to_string().contains("3000-3002"), "{err}");
    }

    #[test]
    fn engine_ports_and_skips_are_respected() {
        let (_d, s) = store();
        let r = PortRange::new(3000, 3005).unwrap();
        let v = EngineView {
            ports: [3000].into(),
            names: ["x".into()].into(),
        };
        let skip: BTreeSet<u16> = [3001].into();
        assert_eq!(
            s.reserve_port("a", "t", r, &v, &skip, |p| p == 3002)
                .unwrap(),
            3003
        );
    }

    #[test]
    fn stale_leases_of_vanished_workspaces_are_reclaimed() {
        let (_d, s) = store();
        let r = PortRange::new(3000, 3000).unwrap();
        s.reserve_port(
            "gone",
            "t",
            r,
            &EngineView::default(),
            &BTreeSet::new(),
            |_| false,
        )
        .unwrap();
        let conn = s.open().unwrap();
        conn.execute("UPDATE port_leases SET created_at = created_at - 3600", [])
            .unwrap();
        // Still held while the engine shows the workspace.
        let alive = EngineView {
            ports: BTreeSet::new(),
            names: ["gone".into()].into(),
        };
        assert!(s
            .reserve_port("n", "t2", r, &alive, &BTreeSet::new(), |_| false)
            .is_err());
        // Reclaimed once the engine has no such workspace.
        assert_eq!(
            s.reserve_port(
                "n",
                "t2",
                r,
                &EngineView::default(),
                &BTreeSet::new(),
                |_| false
            )
            .unwrap(),
            3000
        );
    }

    #[test]
    fn concurrent_reservations_never_collide() {
        let (_d, s) = store();
        let r = PortRange::new(4000, 4100).unwrap();
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    (0..10)
                        .map(|i| {
                            let name = format!("w{t}-{i}");
                            s.reserve_port(
                                &name,
                                &name,
                                r,
                                &EngineView::default(),
                                &BTreeSet::new(),
                                |_| false,
                            )
                            .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let all: Vec<u16> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let distinct: BTreeSet<u16> = all.iter().copied().collect();
        assert_eq!(all.len(), 80);
        assert_eq!(distinct.len(), 80);
    }

    #[test]
    fn identities_and_release() {
        let (_d, s) = store();
        s.set_identities("a", &[PathBuf::from("/k/id")]).unwrap();
        s.set_identities("a", &[PathBuf::from("/k/id2"), PathBuf::from("/k/id3")])
            .unwrap();
        assert_eq!(
            s.identities("a").unwrap(),
            [PathBuf::from("/k/id2"), PathBuf::from("/k/id3")]
        );
        s.release_name("a").unwrap();
        assert!(s.identities("a").unwrap().is_empty());
        s.audit("a", "create", "ok").unwrap();
    }
}
