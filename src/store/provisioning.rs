//! Provisioning records: which create is working on which name, the step it has
//! reached, and what it made. A record outlives its create only when that create
//! was killed; then it tells `list` which step the workspace stopped at and tells a
//! later `create` what to clean up before starting over. Records are per engine:
//! `web` on engine a and `web` on engine b are two workspaces, each with its own
//! create.
use super::process::Creator;
use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// One create's progress, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionRecord {
    /// berth's name of the engine the create works on (`domain::engines`).
    pub engine: String,
    pub name: String,
    pub token: String,
    pub creator: Creator,
    /// Label of the step reached (e.g. "post-start").
    pub step: String,
    /// 1-based index of that step and the plan's length.
    pub index: usize,
    pub total: usize,
    /// This create made the home volume (so starting over may remove it).
    pub made_volume: bool,
    pub started_at: i64,
    pub updated_at: i64,
}

/// What `begin` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The name is ours now; `previous` is the record of an earlier create that
    /// ended without finishing (its leftovers are to be cleaned up).
    Started { previous: Option<ProvisionRecord> },
    /// Another create is working on this name right now.
    Busy(ProvisionRecord),
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<ProvisionRecord> {
    Ok(ProvisionRecord {
        name: r.get(0)?,
        token: r.get(1)?,
        creator: Creator {
            pid: r.get(2)?,
            start: r.get(3)?,
        },
        step: r.get(4)?,
        index: r.get::<_, i64>(5)? as usize,
        total: r.get::<_, i64>(6)? as usize,
        made_volume: r.get(7)?,
        started_at: r.get(8)?,
        updated_at: r.get(9)?,
        engine: r.get(10)?,
    })
}

/// The columns a name-keyed table of old had too (what its migration copies).
const OLD_COLUMNS: &str =
    "name, token, pid, pid_start, step, step_index, step_total, made_volume, started_at, updated_at";

const COLUMNS: &str = "name, token, pid, pid_start, step, step_index, step_total, made_volume, \
     started_at, updated_at, engine";

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS provisioning (
     engine TEXT NOT NULL DEFAULT 'default',
     name TEXT NOT NULL,
     token TEXT NOT NULL,
     pid INTEGER NOT NULL,
     pid_start INTEGER NOT NULL,
     step TEXT NOT NULL,
     step_index INTEGER NOT NULL,
     step_total INTEGER NOT NULL,
     made_volume INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (engine, name));";

/// The table, moved from a name-keyed one (its records kept on `default`).
pub(super) fn setup(conn: &Connection) -> rusqlite::Result<()> {
    super::engine_key::ensure(conn, "provisioning", SCHEMA, OLD_COLUMNS)
}

pub(super) fn begin(
    conn: &mut Connection,
    engine: &str,
    name: &str,
    token: &str,
    total: usize,
    me: Creator,
    alive: &dyn Fn(&Creator) -> bool,
) -> Result<Begin> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing = tx
        .query_row(
            &format!("SELECT {COLUMNS} FROM provisioning WHERE engine = ?1 AND name = ?2"),
            params![engine, name],
            row,
        )
        .optional()?;
    if let Some(r) = &existing {
        if alive(&r.creator) {
            return Ok(Begin::Busy(r.clone()));
        }
    }
    let now = super::now();
    tx.execute(
        "INSERT OR REPLACE INTO provisioning (engine, name, token, pid, pid_start, step,
             step_index, step_total, made_volume, started_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, '', 0, ?6, 0, ?7, ?7)",
        params![engine, name, token, me.pid, me.start, total as i64, now],
    )?;
    tx.commit()?;
    Ok(Begin::Started { previous: existing })
}

pub(super) fn step(
    conn: &Connection,
    name: &str,
    token: &str,
    label: &str,
    index: usize,
    total: usize,
) -> Result<()> {
    conn.execute(
        "UPDATE provisioning SET step = ?3, step_index = ?4, step_total = ?5, updated_at = ?6
         WHERE name = ?1 AND token = ?2",
        params![name, token, label, index as i64, total as i64, super::now()],
    )?;
    Ok(())
}

pub(super) fn made_volume(conn: &Connection, name: &str, token: &str, made: bool) -> Result<()> {
    conn.execute(
        "UPDATE provisioning SET made_volume = ?3 WHERE name = ?1 AND token = ?2",
        params![name, token, made],
    )?;
    Ok(())
}

pub(super) fn abandon(conn: &Connection, name: &str, token: &str) -> Result<()> {
    conn.execute(
        "UPDATE provisioning SET pid = 0, pid_start = 0, updated_at = ?3
         WHERE name = ?1 AND token = ?2",
        params![name, token, super::now()],
    )?;
    Ok(())
}

pub(super) fn end(conn: &Connection, name: &str, token: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM provisioning WHERE name = ?1 AND token = ?2",
        params![name, token],
    )?;
    Ok(())
}

/// Every record (`engine` None), or those of one engine.
pub(super) fn all(conn: &Connection, engine: Option<&str>) -> Result<Vec<ProvisionRecord>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM provisioning WHERE ?1 IS NULL OR engine = ?1 ORDER BY name, engine"
    ))?;
    let rows = st.query_map(params![engine], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Forgets the record of `name` on `engine` (a deleted workspace).
pub(super) fn forget(conn: &Connection, engine: &str, name: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM provisioning WHERE engine = ?1 AND name = ?2",
        params![engine, name],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::conn;
    use super::*;

    const ME: Creator = Creator { pid: 10, start: 1 };
    const OTHER: Creator = Creator { pid: 12, start: 7 };
    const DEAD: Creator = Creator { pid: 11, start: 1 };

    fn alive(c: &Creator) -> bool {
        *c != DEAD
    }

    #[test]
    fn a_name_has_one_live_create_and_a_dead_ones_record_is_handed_over() {
        let mut c = conn();
        assert_eq!(
            begin(&mut c, "default", "w", "t1", 9, DEAD, &alive).unwrap(),
            Begin::Started { previous: None }
        );
        step(&c, "w", "t1", "container", 3, 9).unwrap();
        made_volume(&c, "w", "t1", true).unwrap();
        // A later create takes over the dead one's record, and learns what it made.
        let Begin::Started {
            previous: Some(prev),
        } = begin(&mut c, "default", "w", "t2", 10, ME, &alive).unwrap()
        else {
            panic!("expected a previous record");
        };
        assert_eq!(
            (prev.step.as_str(), prev.index, prev.total),
            ("container", 3, 9)
        );
        assert!(prev.made_volume && prev.token == "t1" && prev.creator == DEAD);
        // While it runs, nobody else may start on the name.
        match begin(&mut c, "default", "w", "t3", 10, OTHER, &alive).unwrap() {
            Begin::Busy(r) => assert_eq!((r.token.as_str(), r.creator), ("t2", ME)),
            other => panic!("{other:?}"),
        }
        // Updates and ends only touch its own record.
        step(&c, "w", "t1", "stale", 1, 1).unwrap();
        end(&c, "w", "t1").unwrap();
        let rows = all(&c, None).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].step.as_str(), rows[0].made_volume), ("", false));
        end(&c, "w", "t2").unwrap();
        assert!(all(&c, None).unwrap().is_empty());
    }

    #[test]
    fn the_same_name_on_two_engines_has_two_records() {
        let mut c = conn();
        begin(&mut c, "a", "web", "ta", 9, ME, &alive).unwrap();
        // A live create of web on a does not hold web on b.
        assert_eq!(
            begin(&mut c, "b", "web", "tb", 9, DEAD, &alive).unwrap(),
            Begin::Started { previous: None }
        );
        step(&c, "web", "tb", "volume", 2, 9).unwrap();
        let on_b = all(&c, Some("b")).unwrap();
        assert_eq!(on_b.len(), 1);
        assert_eq!(
            (on_b[0].engine.as_str(), on_b[0].step.as_str()),
            ("b", "volume")
        );
        assert_eq!(all(&c, Some("a")).unwrap()[0].step, "");
        assert_eq!(all(&c, None).unwrap().len(), 2);
        // Forgetting web on a leaves b's record (what b's leftover is listed by).
        forget(&c, "a", "web").unwrap();
        let left = all(&c, None).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(
            (left[0].engine.as_str(), left[0].token.as_str()),
            ("b", "tb")
        );
    }

    #[test]
    fn a_name_keyed_table_is_kept_as_the_default_engines() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE provisioning (
                 name TEXT PRIMARY KEY, token TEXT NOT NULL, pid INTEGER NOT NULL,
                 pid_start INTEGER NOT NULL, step TEXT NOT NULL, step_index INTEGER NOT NULL,
                 step_total INTEGER NOT NULL, made_volume INTEGER NOT NULL,
                 started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
             INSERT INTO provisioning VALUES ('half', 't', 11, 1, 'clone', 7, 9, 1, 5, 6);",
        )
        .unwrap();
        setup(&c).unwrap();
        setup(&c).unwrap();
        let rows = all(&c, None).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(
            (
                r.engine.as_str(),
                r.name.as_str(),
                r.step.as_str(),
                r.index,
                r.total
            ),
            ("default", "half", "clone", 7, 9)
        );
        assert!(r.made_volume && r.creator == DEAD && r.updated_at == 6);
        // The same name may now be made on another engine.
        let mut c = c;
        begin(&mut c, "b", "half", "t2", 3, ME, &alive).unwrap();
        assert_eq!(all(&c, None).unwrap().len(), 2);
    }
}
