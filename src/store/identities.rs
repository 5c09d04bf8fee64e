//! The private keys matching the public keys put in a workspace (paths only),
//! per engine: `web` on engine a and `web` on engine b may have been made with
//! different keys.
use super::Store;
use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::PathBuf;

pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS identities (
     engine TEXT NOT NULL DEFAULT 'default',
     name TEXT NOT NULL,
     identity_file TEXT NOT NULL,
     PRIMARY KEY (engine, name));";

/// The table, moved from a name-keyed one (its rows kept on `default`).
pub(super) fn setup(conn: &Connection) -> rusqlite::Result<()> {
    super::engine_key::ensure(conn, "identities", SCHEMA, "name, identity_file")
}

impl Store {
    /// Records the identity files of workspace `name` on engine `engine`.
    pub async fn set_identities(&self, engine: &str, name: &str, files: &[PathBuf]) -> Result<()> {
        let (engine, name) = (engine.to_string(), name.to_string());
        let joined: Vec<String> = files
            .iter()
            .map(|f| f.to_string_lossy().to_string())
            .collect();
        self.call(move |c| {
            c.execute(
                "INSERT INTO identities (engine, name, identity_file) VALUES (?1, ?2, ?3)
                 ON CONFLICT(engine, name) DO UPDATE SET identity_file = excluded.identity_file",
                params![engine, name, joined.join("\n")],
            )?;
            Ok(())
        })
        .await
    }

    /// The identity files recorded for workspace `name` on engine `engine`.
    pub async fn identities(&self, engine: &str, name: &str) -> Result<Vec<PathBuf>> {
        let (engine, name) = (engine.to_string(), name.to_string());
        self.call(move |c| {
            let v: Option<String> = c
                .query_row(
                    "SELECT identity_file FROM identities WHERE engine = ?1 AND name = ?2",
                    params![engine, name],
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
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_keyed_table_is_kept_as_the_default_engines() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE identities (name TEXT PRIMARY KEY, identity_file TEXT NOT NULL);
             INSERT INTO identities VALUES ('web', '/k/a');",
        )
        .unwrap();
        setup(&c).unwrap();
        setup(&c).unwrap();
        let rows: Vec<(String, String, String)> = c
            .prepare("SELECT engine, name, identity_file FROM identities")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows, [("default".into(), "web".into(), "/k/a".into())]);
        // The same name on another engine is another row.
        c.execute(
            "INSERT INTO identities (engine, name, identity_file) VALUES ('b', 'web', '/k/b')",
            [],
        )
        .unwrap();
    }
}
