//! `berth image load NAME IMAGE`: an image of the host's engine copied into the
//! workspace's inner engine (there is no registry to pull from). The host engine's
//! export streams through a small pipe into `docker load` run in the sidecar, so
//! the image is never held whole, by berth or anywhere else.
use crate::backend::{lifecycle, Ctx};
use crate::domain::dind::{self, DockerInside};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceState;
use crate::engine::{EngineError, ExecRequest, Output};
use anyhow::{anyhow, bail, Result};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// The pipe between the export and `docker load`: the most of the image in flight.
const PIPE_BYTES: usize = 256 * 1024;

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Loaded {
    pub workspace: String,
    pub image: String,
    pub sidecar: String,
    /// Bytes of the archive copied.
    pub bytes: u64,
    /// What `docker load` said ("Loaded image: debian:bookworm-slim").
    pub loaded: Vec<String>,
}

/// Copies `image` from the host's engine into workspace `name`'s inner engine;
/// `on_bytes` hears the bytes copied so far.
pub async fn load(
    ctx: &Ctx,
    name: &WorkspaceName,
    image: &str,
    on_bytes: &(dyn Fn(u64) + Send + Sync),
) -> Result<Loaded> {
    let w = lifecycle::find(ctx, name).await?;
    let d = DockerInside::of(&w).ok_or_else(|| {
        anyhow!("workspace {name} has no Docker engine inside (it was created without --docker); create one with `berth create NAME --docker`")
    })?;
    if w.state != WorkspaceState::Running {
        bail!(
            "workspace {name} is {}; start it with `berth start {name}` (its Docker engine runs only while it does)",
            w.state.as_str()
        );
    }
    let running = ctx
        .engine
        .sidecars(name.as_str())
        .await?
        .iter()
        .any(|s| s.container == d.sidecar && s.running);
    if !running {
        bail!(
            "the Docker engine sidecar {} of workspace {name} is not running; `berth start {name}` starts it",
            d.sidecar
        );
    }
    if ctx.engine.image_info(image).await?.is_none() {
        bail!("image {image} is not in the host's engine (`docker images` lists what is); pull or build it on the host first, then load it");
    }

    let (reader, mut writer) = tokio::io::duplex(PIPE_BYTES);
    let mut export = ctx.engine.export_image(image);
    let pump = async move {
        let mut sent = 0u64;
        while let Some(chunk) = export.next().await {
            let chunk = chunk.map_err(Pumped::Export)?;
            // A closed pipe: `docker load` ended early (it says why).
            writer
                .write_all(&chunk)
                .await
                .map_err(|_| Pumped::LoadEnded)?;
            sent += chunk.len() as u64;
            on_bytes(sent);
        }
        writer.shutdown().await.map_err(|_| Pumped::LoadEnded)?;
        Ok::<u64, Pumped>(sent)
    };
    let (tx, mut rx) = mpsc::channel(64);
    let req = ExecRequest {
        cmd: dind::sidecar_cli(&["load"]),
        stdin: Some(Box::new(reader)),
        ..Default::default()
    };
    let run = ctx.engine.exec(&d.sidecar, req, tx);
    let collect = async {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(c) = rx.recv().await {
            match c {
                Output::Stdout(b) => out.extend(b),
                Output::Stderr(b) => err.extend(b),
            }
        }
        (out, err)
    };
    let (pumped, ran, (out, err)) = tokio::join!(pump, run, collect);
    let err = String::from_utf8_lossy(&err).trim().to_string();
    // The export's own failure says most; then what `docker load` said.
    if let Err(Pumped::Export(e)) = &pumped {
        bail!("reading {image} from the host's engine failed: {e}; nothing was loaded");
    }
    let outcome = ran?;
    if outcome.exit_code != 0 {
        bail!(
            "docker load in {} failed (exit {}): {}",
            d.sidecar,
            outcome.exit_code,
            if err.is_empty() { "no message" } else { &err }
        );
    }
    let bytes = match pumped {
        Ok(n) => n,
        Err(_) => bail!(
            "docker load in {} ended before the image was copied: {err}",
            d.sidecar
        ),
    };
    let loaded = String::from_utf8_lossy(&out)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let _ = ctx
        .store
        .audit(
            name.as_str(),
            "image-load",
            &format!("{image} ({bytes} bytes)"),
        )
        .await;
    Ok(Loaded {
        workspace: name.to_string(),
        image: image.to_string(),
        sidecar: d.sidecar,
        bytes,
        loaded,
    })
}

enum Pumped {
    Export(EngineError),
    LoadEnded,
}
