//! The last measured size of each workspace's home volume (`backend::disk`), by
//! container id: sizes are measured inside running workspaces, so a stopped one
//! shows what it held when it last ran, and a new workspace of the same name
//! starts unknown.
use super::Store;
use crate::domain::disk_usage::Known;
use anyhow::Result;
use rusqlite::{params, Connection};
use std::collections::BTreeMap;

fn table(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS volume_sizes (
             container_id TEXT PRIMARY KEY,
             bytes INTEGER NOT NULL,
             fs_bytes INTEGER,
             measured_at INTEGER NOT NULL)",
    )
}

impl Store {
    /// Remembers a measurement of container `id`'s home volume.
    pub async fn record_volume_size(&self, id: &str, k: Known) -> Result<()> {
        let id = id.to_string();
        self.call(move |c| {
            table(c)?;
            c.execute(
                "INSERT OR REPLACE INTO volume_sizes (container_id, bytes, fs_bytes, measured_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, k.bytes as i64, k.fs_bytes.map(|b| b as i64), k.at],
            )?;
            Ok(())
        })
        .await
    }

    /// Every remembered size, by container id; those of containers not in
    /// `alive` are forgotten.
    pub async fn volume_sizes(&self, alive: Vec<String>) -> Result<BTreeMap<String, Known>> {
        self.call(move |c| {
            table(c)?;
            let mut st =
                c.prepare("SELECT container_id, bytes, fs_bytes, measured_at FROM volume_sizes")?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Known {
                        bytes: r.get::<_, i64>(1)?.max(0) as u64,
                        fs_bytes: r.get::<_, Option<i64>>(2)?.map(|b| b.max(0) as u64),
                        at: r.get(3)?,
                    },
                ))
            })?;
            let all: BTreeMap<String, Known> = rows.collect::<rusqlite::Result<_>>()?;
            drop(st);
            let (keep, gone): (BTreeMap<_, _>, BTreeMap<_, _>) =
                all.into_iter().partition(|(id, _)| alive.contains(id));
            for id in gone.keys() {
                c.execute(
                    "DELETE FROM volume_sizes WHERE container_id = ?1",
                    params![id],
                )?;
            }
            Ok(keep)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sizes_are_kept_by_container_and_forgotten_with_it() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::new(d.path().join("b.db"));
        let k = |bytes, at| Known {
            bytes,
            fs_bytes: Some(1 << 40),
            at,
        };
        s.record_volume_size("a", k(10, 1)).await.unwrap();
        s.record_volume_size("b", k(20, 2)).await.unwrap();
        s.record_volume_size("a", k(30, 3)).await.unwrap();
        let got = s.volume_sizes(vec!["a".into(), "b".into()]).await.unwrap();
        assert_eq!(got["a"], k(30, 3));
        assert_eq!(got["b"], k(20, 2));
        let got = s.volume_sizes(vec!["b".into()]).await.unwrap();
        assert_eq!(got.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(s.volume_sizes(vec!["a".into()]).await.unwrap().len(), 0);
    }
}
