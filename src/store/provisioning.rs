//! Provisioning records: which create is working on which name, the step it has
//! reached, and what it made. A record outlives its create only when that create
//! was killed; then it tells `list` which step the workspace stopped at and tells a
//! later `create` what to clean up before starting over.
use super::process::Creator;
use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// One create's progress, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionRecord {
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
    })
}

const COLUMNS: &str =
    "name, token, pid, pid_start, step, step_index, step_total, made_volume, started_at, updated_at";

pub(super) fn begin(
    conn: &mut Connection,
    name: &str,
    token: &str,
    total: usize,
    me: Creator,
    alive: &dyn Fn(&Creator) -> bool,
) -> Result<Begin> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing = tx
        .query_row(
            &format!("SELECT {COLUMNS} FROM provisioning WHERE name = ?1"),
            params![name],
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
        "INSERT OR REPLACE INTO provisioning (name, token, pid, pid_start, step, step_index,
             step_total, made_volume, started_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, '', 0, ?5, 0, ?6, ?6)",
        params![name, token, me.pid, me.start, total as i64, now],
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

pub(super) fn all(conn: &Connection) -> Result<Vec<ProvisionRecord>> {
    let mut st = conn.prepare(&format!("SELECT {COLUMNS} FROM provisioning ORDER BY name"))?;
    let rows = st.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
            begin(&mut c, "w", "t1", 9, DEAD, &alive).unwrap(),
            Begin::Started { previous: None }
        );
        step(&c, "w", "t1", "container", 3, 9).unwrap();
        made_volume(&c, "w", "t1", true).unwrap();
        // A later create takes over the dead one's record, and learns what it made.
        let Begin::Started {
            previous: Some(prev),
        } = begin(&mut c, "w", "t2", 10, ME, &alive).unwrap()
        else {
            panic!("expected a previous record");
        };
        assert_eq!(
            (prev.step.as_str(), prev.index, prev.total),
            ("container", 3, 9)
        );
        assert!(prev.made_volume && prev.token == "t1" && prev.creator == DEAD);
        // While it runs, nobody else may start on the name.
        match begin(&mut c, "w", "t3", 10, OTHER, &alive).unwrap() {
            Begin::Busy(r) => assert_eq!((r.token.as_str(), r.creator), ("t2", ME)),
            other => panic!("{other:?}"),
        }
        // Updates and ends only touch its own record.
        step(&c, "w", "t1", "stale", 1, 1).unwrap();
        end(&c, "w", "t1").unwrap();
        let rows = all(&c).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].step.as_str(), rows[0].made_volume), ("", false));
        end(&c, "w", "t2").unwrap();
        assert!(all(&c).unwrap().is_empty());
    }
}
