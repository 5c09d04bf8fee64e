//! What the store holds of a workspace's activity: its last use, a TTL set after
//! create (`berth ttl`), and the shell tabs open in berth TUIs. Keyed by the
//! container id, so a workspace re-created under the same name inherits nothing;
//! rows of containers that no longer exist are reconciled away.
use super::{now, Creator, Store};
use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS uses (
    container_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    last_used_at INTEGER NOT NULL,
    source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ttls (
    container_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    ttl TEXT NOT NULL,
    set_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS shell_tabs (
    pid INTEGER NOT NULL,
    pid_start INTEGER NOT NULL,
    tab INTEGER NOT NULL,
    container_id TEXT NOT NULL,
    name TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    PRIMARY KEY (pid, pid_start, tab));";

/// A recorded use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub at: i64,
    /// `UseSource::word()` of what recorded it.
    pub source: String,
}

/// What the store knows of one container's activity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActivityRecord {
    pub last_use: Option<Use>,
    /// The TTL `berth ttl` set (text, as `Ttl`'s Display wrote it).
    pub ttl: Option<String>,
}

/// Shell tabs of one berth process (alive) open on a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTabs {
    pub owner: Creator,
    pub tabs: usize,
}

fn record_use(c: &Connection, id: &str, name: &str, at: i64, source: &str) -> Result<()> {
    // The latest use wins: an older one arriving late changes nothing.
    c.execute(
        "INSERT INTO uses (container_id, name, last_used_at, source) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(container_id) DO UPDATE SET
           source = CASE WHEN excluded.last_used_at >= last_used_at THEN excluded.source ELSE source END,
           last_used_at = max(last_used_at, excluded.last_used_at),
           name = excluded.name",
        params![id, name, at, source],
    )?;
    Ok(())
}

fn record_of(c: &Connection, id: &str) -> Result<ActivityRecord> {
    let last_use = c
        .query_row(
            "SELECT last_used_at, source FROM uses WHERE container_id = ?1",
            params![id],
            |r| {
                Ok(Use {
                    at: r.get(0)?,
                    source: r.get(1)?,
                })
            },
        )
        .optional()?;
    let ttl = c
        .query_row(
            "SELECT ttl FROM ttls WHERE container_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(ActivityRecord { last_use, ttl })
}

fn all_records(c: &Connection) -> Result<HashMap<String, ActivityRecord>> {
    let mut out: HashMap<String, ActivityRecord> = HashMap::new();
    let mut st = c.prepare("SELECT container_id, last_used_at, source FROM uses")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Use {
                at: r.get(1)?,
                source: r.get(2)?,
            },
        ))
    })?;
    for row in rows {
        let (id, u) = row?;
        out.entry(id).or_default().last_use = Some(u);
    }
    let mut st = c.prepare("SELECT container_id, ttl FROM ttls")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (id, t) = row?;
        out.entry(id).or_default().ttl = Some(t);
    }
    Ok(out)
}

/// Deletes the rows of containers not in `alive` written before `before`; how
/// many went.
fn reconcile(c: &mut Connection, alive: &[String], before: i64) -> Result<usize> {
    let tx = c.transaction()?;
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS alive_ids (id TEXT PRIMARY KEY); DELETE FROM alive_ids;",
    )?;
    for id in alive {
        tx.execute(
            "INSERT OR IGNORE INTO alive_ids (id) VALUES (?1)",
            params![id],
        )?;
    }
    let mut gone = 0;
    for (table, at) in [
        ("uses", "last_used_at"),
        ("ttls", "set_at"),
        ("shell_tabs", "opened_at"),
    ] {
        gone += tx.execute(
            &format!(
                "DELETE FROM {table} WHERE {at} < ?1 AND container_id NOT IN (SELECT id FROM alive_ids)"
            ),
            params![before],
        )?;
    }
    tx.commit()?;
    Ok(gone)
}

/// The live owners of tabs open on `id` (rows of dead processes are deleted).
fn tabs_of(c: &Connection, id: &str, alive: &dyn Fn(&Creator) -> bool) -> Result<Vec<OpenTabs>> {
    let mut st = c.prepare(
        "SELECT pid, pid_start, COUNT(*) FROM shell_tabs WHERE container_id = ?1
         GROUP BY pid, pid_start ORDER BY pid",
    )?;
    let rows = st.query_map(params![id], |r| {
        Ok(OpenTabs {
            owner: Creator {
                pid: r.get(0)?,
                start: r.get::<_, i64>(1)? as u64,
            },
            tabs: r.get::<_, i64>(2)? as usize,
        })
    })?;
    let mut out = Vec::new();
    for row in rows {
        let t = row?;
        if alive(&t.owner) {
            out.push(t);
        } else {
            c.execute(
                "DELETE FROM shell_tabs WHERE pid = ?1 AND pid_start = ?2",
                params![t.owner.pid, t.owner.start as i64],
            )?;
        }
    }
    Ok(out)
}

impl Store {
    /// Records a use of container `id` (workspace `name`) at `at` (one write).
    pub async fn record_use(&self, id: &str, name: &str, at: i64, source: &str) -> Result<()> {
        let (id, name, source) = (id.to_string(), name.to_string(), source.to_string());
        self.call(move |c| record_use(c, &id, &name, at, &source))
            .await
    }

    /// The recorded last use and TTL of container `id`.
    pub async fn activity(&self, id: &str) -> Result<ActivityRecord> {
        let id = id.to_string();
        self.call(move |c| record_of(c, &id)).await
    }

    /// Every container's recorded activity (for the list).
    pub async fn activities(&self) -> Result<HashMap<String, ActivityRecord>> {
        self.call(|c| all_records(c)).await
    }

    /// Sets (`Some`) or clears (`None`: back to the label, else the config) the
    /// TTL of container `id`.
    pub async fn set_ttl(&self, id: &str, name: &str, ttl: Option<String>) -> Result<()> {
        let (id, name) = (id.to_string(), name.to_string());
        self.call(move |c| {
            match ttl {
                Some(t) => c.execute(
                    "INSERT INTO ttls (container_id, name, ttl, set_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(container_id) DO UPDATE SET ttl = excluded.ttl, set_at = excluded.set_at",
                    params![id, name, t, now()],
                )?,
                None => c.execute("DELETE FROM ttls WHERE container_id = ?1", params![id])?,
            };
            Ok(())
        })
        .await
    }

    /// Forgets the activity of containers that no longer exist (`alive`: the ids
    /// of every workspace container the engine lists).
    /// Rows written since `before` stay (a create in flight is not listed yet).
    pub async fn reconcile_activity(&self, alive: Vec<String>, before: i64) -> Result<usize> {
        self.call(move |c| reconcile(c, &alive, before)).await
    }

    /// This process opened shell tab `tab` on container `id`.
    pub async fn shell_tab_opened(&self, tab: u64, id: &str, name: &str) -> Result<()> {
        let (id, name, me) = (id.to_string(), name.to_string(), Creator::current());
        self.call(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO shell_tabs (pid, pid_start, tab, container_id, name, opened_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![me.pid, me.start as i64, tab as i64, id, name, now()],
            )?;
            Ok(())
        })
        .await
    }

    /// This process closed shell tab `tab`.
    pub async fn shell_tab_closed(&self, tab: u64) -> Result<()> {
        let me = Creator::current();
        self.call(move |c| {
            c.execute(
                "DELETE FROM shell_tabs WHERE pid = ?1 AND pid_start = ?2 AND tab = ?3",
                params![me.pid, me.start as i64, tab as i64],
            )?;
            Ok(())
        })
        .await
    }

    /// Shell tabs open on container `id` in berth processes that still run.
    pub async fn open_shell_tabs(&self, id: &str) -> Result<Vec<OpenTabs>> {
        let id = id.to_string();
        self.call(move |c| tabs_of(c, &id, &|o: &Creator| o.alive()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        crate::store::tests::conn()
    }

    #[test]
    fn the_latest_use_wins_whatever_order_they_arrive_in() {
        let c = conn();
        assert_eq!(record_of(&c, "id1").unwrap(), ActivityRecord::default());
        record_use(&c, "id1", "a", 100, "exec").unwrap();
        record_use(&c, "id1", "a", 300, "ssh").unwrap();
        record_use(&c, "id1", "a", 200, "start").unwrap();
        let r = record_of(&c, "id1").unwrap();
        assert_eq!(
            r.last_use,
            Some(Use {
                at: 300,
                source: "ssh".into()
            })
        );
        // Another container (a re-creation under the same name) starts afresh.
        assert_eq!(record_of(&c, "id2").unwrap().last_use, None);
    }

    #[test]
    fn reconciling_forgets_containers_that_are_gone() {
        let mut c = conn();
        record_use(&c, "old", "a", 100, "exec").unwrap();
        record_use(&c, "new", "a", 200, "exec").unwrap();
        c.execute(
            "INSERT INTO ttls (container_id, name, ttl, set_at) VALUES ('old', 'a', '1h', 1)",
            [],
        )
        .unwrap();
        record_use(&c, "inflight", "b", 500, "create").unwrap();
        assert_eq!(reconcile(&mut c, &["new".to_string()], 400).unwrap(), 2);
        let all = all_records(&c).unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.contains_key("inflight"));
        assert_eq!(all["new"].last_use.as_ref().unwrap().at, 200);
        assert_eq!(reconcile(&mut c, &["new".to_string()], 400).unwrap(), 0);
        assert_eq!(reconcile(&mut c, &["new".to_string()], 600).unwrap(), 1);
    }

    #[test]
    fn tabs_of_a_process_that_is_gone_do_not_count_and_are_deleted() {
        let c = conn();
        for (pid, tab) in [(10, 1), (10, 2), (20, 1)] {
            c.execute(
                "INSERT INTO shell_tabs (pid, pid_start, tab, container_id, name, opened_at)
                 VALUES (?1, 5, ?2, 'id', 'a', 0)",
                params![pid, tab],
            )
            .unwrap();
        }
        let alive = |o: &Creator| o.pid == 10;
        let tabs = tabs_of(&c, "id", &alive).unwrap();
        assert_eq!(
            tabs,
            vec![OpenTabs {
                owner: Creator { pid: 10, start: 5 },
                tabs: 2
            }]
        );
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM shell_tabs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }

    #[tokio::test]
    async fn ttls_are_set_and_cleared_and_tabs_open_and_close() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::new(d.path().join("berth.db"));
        s.set_ttl("id", "a", Some("8h".into())).await.unwrap();
        assert_eq!(s.activity("id").await.unwrap().ttl.as_deref(), Some("8h"));
        s.set_ttl("id", "a", Some("never".into())).await.unwrap();
        assert_eq!(
            s.activities().await.unwrap()["id"].ttl.as_deref(),
            Some("never")
        );
        s.set_ttl("id", "a", None).await.unwrap();
        assert_eq!(s.activity("id").await.unwrap().ttl, None);
        s.shell_tab_opened(7, "id", "a").await.unwrap();
        let open = s.open_shell_tabs("id").await.unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].owner, Creator::current());
        s.shell_tab_closed(7).await.unwrap();
        assert!(s.open_shell_tabs("id").await.unwrap().is_empty());
    }
}
