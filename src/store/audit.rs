//! Reading the audit trail back (written by [`Store::audit`]).
use super::Store;
use anyhow::Result;

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Unix seconds.
    pub ts: i64,
    pub action: String,
    pub detail: String,
}

impl Store {
    /// Workspace `name`'s audit trail, oldest first.
    pub async fn audit_trail(&self, name: &str) -> Result<Vec<AuditEntry>> {
        let name = name.to_string();
        self.call(move |c| {
            let mut st =
                c.prepare("SELECT ts, action, detail FROM audit WHERE name = ?1 ORDER BY rowid")?;
            let rows = st.query_map([name], |r| {
                Ok(AuditEntry {
                    ts: r.get(0)?,
                    action: r.get(1)?,
                    detail: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
