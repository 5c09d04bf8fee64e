//! The layer's networks and snapshots: Docker's, refused with a sentence when
//! they would touch a VM workspace (or its home disk).
use super::layer::VmLayer;
use crate::engine::network::{NetworkEngine, NetworkInfo, NetworkSpec, ServiceInfo, ServiceSpec};
use crate::engine::snapshot::{ImageSummary, SnapshotEngine, VolumeCopy, VolumeSummary};
use crate::engine::{EngineError, EngineResult};
use async_trait::async_trait;
use std::collections::BTreeMap;

pub const NO_NETWORKS: &str =
    "a VM workspace cannot join networks (its only network is QEMU's user-mode one)";
pub const NO_SNAPSHOTS: &str = "snapshots of VM workspaces are not supported yet";

#[async_trait]
impl NetworkEngine for VmLayer {
    async fn create_network(&self, spec: &NetworkSpec) -> EngineResult<bool> {
        self.docker.create_network(spec).await
    }
    async fn remove_network(&self, name: &str) -> EngineResult<()> {
        self.docker.remove_network(name).await
    }
    async fn inspect_network(&self, name: &str) -> EngineResult<Option<NetworkInfo>> {
        self.docker.inspect_network(name).await
    }
    async fn networks_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<NetworkInfo>> {
        self.docker.networks_labelled(want).await
    }
    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        aliases: &[String],
    ) -> EngineResult<()> {
        self.refuse_vm(container, NO_NETWORKS).await?;
        self.docker
            .connect_network(network, container, aliases)
            .await
    }
    async fn disconnect_network(&self, network: &str, container: &str) -> EngineResult<()> {
        // A VM is on no network: detached already.
        if self.is_vm(container).await? {
            return Ok(());
        }
        self.docker.disconnect_network(network, container).await
    }
    async fn create_service(&self, spec: &ServiceSpec) -> EngineResult<String> {
        self.docker.create_service(spec).await
    }
    async fn services(&self, workspace: &str) -> EngineResult<Vec<ServiceInfo>> {
        self.docker.services(workspace).await
    }
}

impl VmLayer {
    async fn refuse_vm_volume(&self, volume: &str) -> EngineResult<()> {
        if self.vms.home_exists(volume).await? {
            return Err(EngineError::Api(format!("{volume}: {NO_SNAPSHOTS}")));
        }
        Ok(())
    }
}

#[async_trait]
impl SnapshotEngine for VmLayer {
    async fn pause_container(&self, container: &str) -> EngineResult<()> {
        self.refuse_vm(container, NO_SNAPSHOTS).await?;
        self.docker.pause_container(container).await
    }
    async fn unpause_container(&self, container: &str) -> EngineResult<()> {
        self.refuse_vm(container, NO_SNAPSHOTS).await?;
        self.docker.unpause_container(container).await
    }
    async fn commit_container(
        &self,
        container: &str,
        tag: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<String> {
        self.refuse_vm(container, NO_SNAPSHOTS).await?;
        self.docker.commit_container(container, tag, labels).await
    }
    async fn start_copy_helper(&self, copy: &VolumeCopy) -> EngineResult<()> {
        self.refuse_vm_volume(&copy.from).await?;
        self.refuse_vm_volume(&copy.to).await?;
        self.docker.start_copy_helper(copy).await
    }
    async fn copy_volume(&self, copy: &VolumeCopy) -> EngineResult<u64> {
        self.refuse_vm_volume(&copy.from).await?;
        self.refuse_vm_volume(&copy.to).await?;
        self.docker.copy_volume(copy).await
    }
    async fn images_by_label(&self, labels: &[(&str, &str)]) -> EngineResult<Vec<ImageSummary>> {
        self.docker.images_by_label(labels).await
    }
    async fn volumes_by_label(&self, labels: &[(&str, &str)]) -> EngineResult<Vec<VolumeSummary>> {
        self.docker.volumes_by_label(labels).await
    }
    async fn untag_image(&self, image: &str) -> EngineResult<()> {
        self.docker.untag_image(image).await
    }
}
