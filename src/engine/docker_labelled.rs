//! Listing berth's volumes and images by label (snapshots, sidecar data, images
//! berth built): one filter for both.
use super::docker::{map_err, DockerEngine};
use super::{Engine, EngineResult};
use bollard::query_parameters as qp;
use std::collections::HashMap;

/// The engine's filter for objects carrying every `key=value` in `want`.
pub(super) fn label_filter(want: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        want.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    )])
}

/// Names of the volumes carrying every label in `want`, sorted.
pub(super) async fn volumes(
    eng: &DockerEngine,
    want: &[(&str, &str)],
) -> EngineResult<Vec<String>> {
    let opts = qp::ListVolumesOptions {
        filters: Some(label_filter(want)),
    };
    let list = eng
        .docker()
        .list_volumes(Some(opts))
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))?;
    let mut names: Vec<String> = list
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    names.sort();
    Ok(names)
}

/// Tags of the images carrying every label in `want`.
pub(super) async fn images(eng: &DockerEngine, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
    let opts = qp::ListImagesOptions {
        filters: Some(label_filter(want)),
        ..Default::default()
    };
    let list = eng
        .docker()
        .list_images(Some(opts))
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))?;
    Ok(list.into_iter().flat_map(|i| i.repo_tags).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_filter_asks_for_every_label() {
        let f = super::label_filter(&[("a", "1"), ("b", "2")]);
        assert_eq!(f["label"], ["a=1", "b=2"]);
    }
}
