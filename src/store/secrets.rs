//! Where each secret comes from (`berth secret set`): its name, scope and source,
//! and when it was set. Never a value: this table is on the host's disk.
use crate::domain::secrets::{Secret, Source};
use anyhow::{anyhow, Result};
use rusqlite::{params, Connection};

/// The table (made when missing; berth's older stores have none).
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS secrets (
    name TEXT NOT NULL,
    workspace TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (name, workspace));";

/// Records (or replaces) a secret's source; returns whether it is new.
pub(super) fn set(
    conn: &Connection,
    name: &str,
    workspace: Option<&str>,
    source: &Source,
    now: i64,
) -> Result<bool> {
    let ws = workspace.unwrap_or("");
    let (kind, detail) = source.parts();
    let updated = conn.execute(
        "UPDATE secrets SET kind = ?3, source = ?4, updated_at = ?5
         WHERE name = ?1 AND workspace = ?2",
        params![name, ws, kind, detail, now],
    )?;
    if updated > 0 {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO secrets (name, workspace, kind, source, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![name, ws, kind, detail, now],
    )?;
    Ok(true)
}

/// Removes a secret's record; returns whether there was one.
pub(super) fn remove(conn: &Connection, name: &str, workspace: Option<&str>) -> Result<bool> {
    let n = conn.execute(
        "DELETE FROM secrets WHERE name = ?1 AND workspace = ?2",
        params![name, workspace.unwrap_or("")],
    )?;
    Ok(n > 0)
}

/// Every secret, by name then scope (global first).
pub(super) fn all(conn: &Connection) -> Result<Vec<Secret>> {
    let mut st = conn.prepare(
        "SELECT name, workspace, kind, source, created_at, updated_at FROM secrets
         ORDER BY name, workspace",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (name, ws, kind, detail, created, updated) = row?;
        let source = Source::from_parts(&kind, &detail)
            .map_err(|e| anyhow!("secret {name} in berth's store: {e}"))?;
        out.push(Secret {
            name,
            workspace: (!ws.is_empty()).then_some(ws),
            source,
            created,
            updated,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::conn;
    use super::*;

    #[test]
    fn sources_are_recorded_replaced_and_removed_by_scope() {
        let c = conn();
        let env = Source::Env("TOKEN".into());
        assert!(set(&c, "api", None, &env, 10).unwrap());
        assert!(set(&c, "api", Some("w"), &Source::Stdin, 11).unwrap());
        let cmd = Source::Cmd("pass show api".into());
        assert!(!set(&c, "api", None, &cmd, 20).unwrap());
        let v = all(&c).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].workspace.as_deref(), &v[0].source), (None, &cmd));
        assert_eq!((v[0].created, v[0].updated), (10, 20));
        assert_eq!(v[1].workspace.as_deref(), Some("w"));
        assert!(remove(&c, "api", Some("w")).unwrap());
        assert!(!remove(&c, "api", Some("w")).unwrap());
        assert_eq!(all(&c).unwrap().len(), 1);
    }
}
