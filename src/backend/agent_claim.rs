//! Claims on session names while a session starts (issue 12): two `berth agent
//! run` at once on one repository must not pick the same `AGENT/session-N`. A
//! claim is a file made with `create_new` (atomic across processes) in the state
//! directory, held from choosing the branch until the workspace (and its labels)
//! exists; one left by a berth that died is stale after an hour.
use super::Ctx;
use anyhow::Result;
use std::path::PathBuf;
use std::time::Duration;

const STALE: Duration = Duration::from_secs(3600);

/// A held claim; [`Claim::release`] it when the start is over (either way).
pub struct Claim {
    file: PathBuf,
}

impl Claim {
    pub async fn release(self) {
        let _ = tokio::fs::remove_file(&self.file).await;
    }
}

fn dir(ctx: &Ctx) -> PathBuf {
    ctx.paths.state_dir.join("agent-claims")
}

/// Claims session name `name`; None: another berth holds it now.
pub async fn claim(ctx: &Ctx, name: &str) -> Result<Option<Claim>> {
    let d = dir(ctx);
    tokio::fs::create_dir_all(&d).await?;
    let file = d.join(name);
    for _ in 0..2 {
        match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
            .await
        {
            Ok(_) => return Ok(Some(Claim { file })),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let age = tokio::fs::metadata(&file)
                    .await
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok());
                if age.is_some_and(|a| a > STALE) {
                    let _ = tokio::fs::remove_file(&file).await;
                    continue;
                }
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}
