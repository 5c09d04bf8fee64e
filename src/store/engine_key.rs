//! Moving a table keyed by workspace name alone onto (engine, name): since
//! several engines, `web` on engine a and `web` on engine b are two workspaces.
//! Rows of a store from before are kept as rows of the `default` engine (where
//! that berth's workspaces were).
use rusqlite::Connection;

/// Creates `table` from `schema` (which has the `engine` column), or moves an
/// older name-keyed one onto it in one transaction; `columns`: the columns the
/// old table shares with the new (copied over). Nothing to do when `table` has
/// the `engine` column already.
pub(super) fn ensure(
    conn: &Connection,
    table: &str,
    schema: &str,
    columns: &str,
) -> rusqlite::Result<()> {
    if !exists(conn, table)? {
        return conn.execute_batch(schema);
    }
    if super::has_column(conn, table, "engine")? {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let moved = move_by_name(conn, table, schema, columns);
    let end = match moved {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => Err(e),
    };
    end.inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

fn exists(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get(0),
    )
}

/// Inside the transaction: another process may have moved it since the first look.
fn move_by_name(
    conn: &Connection,
    table: &str,
    schema: &str,
    columns: &str,
) -> rusqlite::Result<()> {
    if super::has_column(conn, table, "engine")? {
        return Ok(());
    }
    conn.execute_batch(&format!(
        "ALTER TABLE {table} RENAME TO {table}_by_name;
         {schema}
         INSERT INTO {table} (engine, {columns})
             SELECT 'default', {columns} FROM {table}_by_name;
         DROP TABLE {table}_by_name;"
    ))
}
