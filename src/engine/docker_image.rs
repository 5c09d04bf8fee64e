//! Images through the engine API: whether one is present, what it is, removing it,
//! and building one from a context with progress.
use super::docker::DockerEngine;
use super::{EngineError, EngineResult, ImageBuild, ImageInfo};
use bollard::errors::Error as BErr;
use bollard::query_parameters as qp;
use futures_util::stream::StreamExt;
use std::collections::BTreeMap;
use tokio::sync::mpsc;

pub(super) async fn present(eng: &DockerEngine, image: &str) -> EngineResult<bool> {
    match eng.docker().inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) => match eng.err(e) {
            EngineError::NotFound { .. } => Ok(false),
            other => Err(other),
        },
    }
}

pub(super) async fn remove(eng: &DockerEngine, image: &str) -> EngineResult<bool> {
    match eng
        .docker()
        .remove_image(image, None::<qp::RemoveImageOptions>, None)
        .await
    {
        Ok(_) => Ok(true),
        // In use by a container (or otherwise refused): kept.
        Err(BErr::DockerResponseServerError {
            status_code: 409, ..
        }) => Ok(false),
        Err(e) => Err(eng.err(e)),
    }
}

pub(super) async fn info(eng: &DockerEngine, image: &str) -> EngineResult<Option<ImageInfo>> {
    match eng.docker().inspect_image(image).await {
        Ok(i) => Ok(Some(ImageInfo {
            id: i.id.unwrap_or_default(),
            labels: i
                .config
                .and_then(|c| c.labels)
                .map(|l| l.into_iter().collect())
                .unwrap_or_default(),
            os: i.os.unwrap_or_default(),
            architecture: i.architecture.unwrap_or_default(),
            layers: i.root_fs.and_then(|r| r.layers).unwrap_or_default(),
        })),
        Err(e) => match eng.err(e) {
            EngineError::NotFound { .. } => Ok(None),
            other => Err(other),
        },
    }
}

pub(super) async fn build(
    eng: &DockerEngine,
    context: Vec<u8>,
    build: &ImageBuild,
    progress: mpsc::Sender<String>,
) -> EngineResult<()> {
    let opts = build_options(build);
    let mut stream = eng
        .docker()
        .build_image(opts, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| eng.err(e))?;
        if let Some(err) = info.error_detail.and_then(|d| d.message) {
            return Err(EngineError::Api(format!(
                "image build failed: {}",
                err.trim()
            )));
        }
        if let Some(line) = info.stream.or(info.status) {
            let line = line.trim_end().to_string();
            if !line.is_empty() {
                let _ = progress.send(line).await;
            }
        }
    }
    Ok(())
}

/// The engine's build options for `build`: its tag, build arguments and labels;
/// intermediate containers are removed even when a step fails.
fn build_options(build: &ImageBuild) -> qp::BuildImageOptions {
    let map = |m: &BTreeMap<String, String>| {
        (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    };
    qp::BuildImageOptions {
        dockerfile: "Dockerfile".into(),
        t: Some(build.tag.clone()),
        rm: true,
        forcerm: true,
        buildargs: map(&build.args),
        labels: map(&build.labels),
        platform: build.platform.clone().unwrap_or_default(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_options_carry_tag_args_and_labels() {
        let build = ImageBuild {
            tag: "t/ws:1".into(),
            args: [("BASE".to_string(), "b/debian:x".to_string())].into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            platform: Some("linux/arm64".into()),
        };
        let o = build_options(&build);
        assert_eq!(o.platform, "linux/arm64");
        assert_eq!(o.t.as_deref(), Some("t/ws:1"));
        assert_eq!(o.buildargs.unwrap()["BASE"], "b/debian:x");
        assert_eq!(o.labels.unwrap()["k"], "v");
        assert!(o.rm && o.forcerm);
        // Nothing to pass: the query parameters are left out.
        let o = build_options(&ImageBuild {
            tag: "t".into(),
            ..Default::default()
        });
        assert!(o.buildargs.is_none() && o.labels.is_none());
    }
}
