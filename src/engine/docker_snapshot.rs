//! bollard implementation of [`SnapshotEngine`]: pause, commit, a volume copied by
//! a short-lived helper container, images and volumes listed by label.
use super::docker::{hash, map_err, DockerEngine};
use super::snapshot::{ImageSummary, SnapshotEngine, VolumeCopy, VolumeSummary};
use super::{exec_collect, Engine, EngineError, EngineResult, ExecRequest};
use async_trait::async_trait;
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig};
use bollard::query_parameters as qp;
use std::collections::{BTreeMap, HashMap};

/// The helper's script: copy, leave out the skipped paths, print the bytes copied.
/// `cp -a` as root keeps owners, modes, times, links and (where it can) xattrs.
const COPY_SCRIPT: &str = r#"set -e
cp -a /from/. /to/
for p in "$@"; do rm -rf -- "/to/$p"; done
du -sb /to | cut -f1
"#;

/// What the helper may do as root: read anything, make files of any owner, keep
/// their modes and times. Nothing else (no network, no new privileges).
const HELPER_CAPS: [&str; 4] = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"];

/// `repo:tag` split at the tag's colon (a registry port's colon stays in the repo).
fn split_tag(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// Test seam (debug builds only): `BERTH_DEBUG_SNAPSHOT_FAIL=copy` makes the copy
/// fail after copying (tests see the rollback of a real failed copy); `stall` makes
/// it never end (tests interrupt it).
fn debug_seam() -> &'static str {
    #[cfg(debug_assertions)]
    match std::env::var("BERTH_DEBUG_SNAPSHOT_FAIL").ok().as_deref() {
        Some("copy") => return "echo 'berth-debug: the copy fails here' >&2; exit 3\n",
        Some("stall") => return "sleep 600\n",
        _ => {}
    }
    ""
}

/// The copy's command (run in the helper, as root).
fn copy_cmd(c: &VolumeCopy) -> Vec<String> {
    let script = format!("{COPY_SCRIPT}{}", debug_seam());
    let mut cmd = vec!["/bin/sh".into(), "-c".into(), script, "berth-copy".into()];
    cmd.extend(c.skip.iter().cloned());
    cmd
}

/// The helper's create request: idle until the copy is run in it, so starting a
/// container (the slow part) happens before the workspace is paused.
fn helper_body(c: &VolumeCopy) -> ContainerCreateBody {
    let host_config = HostConfig {
        binds: Some(vec![
            format!("{}:/from:ro", c.from),
            format!("{}:/to", c.to),
        ]),
        cap_drop: Some(vec!["ALL".into()]),
        cap_add: Some(HELPER_CAPS.iter().map(|s| s.to_string()).collect()),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        network_mode: Some("none".into()),
        init: Some(true),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(c.image.clone()),
        user: Some("0:0".into()),
        entrypoint: Some(vec!["sleep".into(), "infinity".into()]),
        cmd: Some(vec![]),
        labels: Some(hash(&c.labels)),
        network_disabled: Some(true),
        host_config: Some(host_config),
        ..Default::default()
    }
}

impl DockerEngine {
    fn e(&self, e: bollard::errors::Error) -> EngineError {
        map_err(&self.endpoint(), e)
    }
}

#[async_trait]
impl SnapshotEngine for DockerEngine {
    async fn pause_container(&self, container: &str) -> EngineResult<()> {
        self.docker()
            .pause_container(container)
            .await
            .map_err(|e| self.e(e))
    }

    async fn unpause_container(&self, container: &str) -> EngineResult<()> {
        self.docker()
            .unpause_container(container)
            .await
            .map_err(|e| self.e(e))
    }

    async fn commit_container(
        &self,
        container: &str,
        tag: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<String> {
        let (repo, t) = split_tag(tag);
        let opts = qp::CommitContainerOptions {
            container: Some(container.into()),
            repo: Some(repo.into()),
            tag: Some(t.into()),
            comment: Some("berth snapshot".into()),
            pause: false,
            ..Default::default()
        };
        // The engine merges the container's own config (env, user, entrypoint) in.
        let config = ContainerConfig {
            labels: Some(hash(labels)),
            ..Default::default()
        };
        let r = self
            .docker()
            .commit_container(opts, config)
            .await
            .map_err(|e| self.e(e))?;
        Ok(r.id)
    }

    async fn start_copy_helper(&self, c: &VolumeCopy) -> EngineResult<()> {
        // A helper left by a copy into this volume that was killed.
        self.remove_container(&c.helper).await?;
        let opts = qp::CreateContainerOptions {
            name: Some(c.helper.clone()),
            platform: String::new(),
        };
        self.docker()
            .create_container(Some(opts), helper_body(c))
            .await
            .map_err(|e| self.e(e))?;
        self.start_container(&c.helper).await
    }

    async fn copy_volume(&self, c: &VolumeCopy) -> EngineResult<u64> {
        let req = ExecRequest {
            cmd: copy_cmd(c),
            user: Some("0:0".into()),
            ..Default::default()
        };
        let (outcome, out, err) = exec_collect(self, &c.helper, req).await?;
        let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
        let (out, err) = (text(&out), text(&err));
        if outcome.exit_code != 0 {
            return Err(EngineError::Api(format!(
                "copying volume {} into {} failed (exit {}): {}",
                c.from,
                c.to,
                outcome.exit_code,
                err.lines().last().unwrap_or("no message")
            )));
        }
        out.lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| {
                EngineError::Api(format!(
                    "copying volume {} into {}: no size reported ({out:?})",
                    c.from, c.to
                ))
            })
    }

    async fn images_by_label(&self, want: &[(&str, &str)]) -> EngineResult<Vec<ImageSummary>> {
        let opts = qp::ListImagesOptions {
            filters: Some(super::docker_labelled::label_filter(want)),
            ..Default::default()
        };
        let list = self
            .docker()
            .list_images(Some(opts))
            .await
            .map_err(|e| self.e(e))?;
        // Parents' sizes, for the bytes each image adds over its parent.
        let all = self
            .docker()
            .list_images(Some(qp::ListImagesOptions {
                all: true,
                ..Default::default()
            }))
            .await
            .map_err(|e| self.e(e))?;
        let sizes: HashMap<String, i64> = all.into_iter().map(|i| (i.id, i.size)).collect();
        Ok(list
            .into_iter()
            .filter(|i| super::docker_labelled::has_labels(&i.labels, want))
            .map(|i| ImageSummary {
                own_bytes: sizes.get(&i.parent_id).map(|p| (i.size - p).max(0) as u64),
                id: i.id,
                tags: i.repo_tags,
                labels: i.labels.into_iter().collect(),
                created: i.created,
            })
            .collect())
    }

    async fn volumes_by_label(&self, want: &[(&str, &str)]) -> EngineResult<Vec<VolumeSummary>> {
        let opts = qp::ListVolumesOptions {
            filters: Some(super::docker_labelled::label_filter(want)),
        };
        let r = self
            .docker()
            .list_volumes(Some(opts))
            .await
            .map_err(|e| self.e(e))?;
        Ok(r.volumes
            .unwrap_or_default()
            .into_iter()
            .filter(|v| super::docker_labelled::has_labels(&v.labels, want))
            .map(|v| VolumeSummary {
                name: v.name,
                labels: v.labels.into_iter().collect(),
            })
            .collect())
    }

    async fn untag_image(&self, image: &str) -> EngineResult<()> {
        let opts = qp::RemoveImageOptions {
            force: true,
            ..Default::default()
        };
        match self.docker().remove_image(image, Some(opts), None).await {
            Ok(_) => Ok(()),
            Err(e) => match self.e(e) {
                EngineError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helper_is_root_with_four_capabilities_and_no_network() {
        let c = VolumeCopy {
            from: "workspace-a".into(),
            to: "berth-snapshot-s".into(),
            image: "img".into(),
            helper: "berth-copy-berth-snapshot-s".into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            skip: vec![".berth/ssh/key".into()],
        };
        let b = helper_body(&c);
        let hc = b.host_config.unwrap();
        assert_eq!(
            hc.binds.unwrap(),
            ["workspace-a:/from:ro", "berth-snapshot-s:/to"]
        );
        assert_eq!(hc.cap_drop.unwrap(), ["ALL"]);
        assert_eq!(hc.cap_add.unwrap().len(), 4);
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(b.user.as_deref(), Some("0:0"));
        let cmd = copy_cmd(&c);
        assert_eq!(cmd.last().map(String::as_str), Some(".berth/ssh/key"));
        assert_eq!(b.labels.unwrap()["k"], "v");
        assert_eq!(split_tag("berth/snapshot:s1"), ("berth/snapshot", "s1"));
        assert_eq!(split_tag("reg:5000/x"), ("reg:5000/x", "latest"));
    }
}
