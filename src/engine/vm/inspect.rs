//! A VM's record and run state as berth's `Workspace` (as `docker_convert.rs`
//! does for containers), and a `ContainerSpec` with `vm` as the machines'
//! `VmCreate`. Pure.
use super::{VmCreate, VmRecord, VmRun};
use crate::domain::labels;
use crate::domain::provision::Provision;
use crate::domain::vm::{VmShape, ACCEL_LABEL, PROVIDER_LABEL, VM_RUNTIME};
use crate::domain::workspace::{Workspace, WorkspaceState, WORKSPACE_HOME};
use crate::engine::ContainerSpec;

/// The workspace a VM is; `None` when its labels name no workspace.
pub fn to_workspace(rec: &VmRecord, run: VmRun) -> Option<Workspace> {
    let name = crate::domain::pool::workspace_name(&rec.labels, &rec.container)?;
    let (state, started_at) = match run {
        VmRun::Running { started_at, .. } => (WorkspaceState::Running, Some(started_at)),
        VmRun::Stopped => (WorkspaceState::Stopped, None),
    };
    // As for containers: finished once the marker is read back (backend::inventory),
    // unless it predates markers.
    let legacy = !rec.labels.contains_key(labels::PROVISION);
    Some(Workspace {
        name,
        engine: String::new(),
        state,
        ssh_port: Some(rec.ssh_port),
        image: rec.image.clone(),
        container: rec.container.clone(),
        container_id: rec.id.clone(),
        volume: rec.volume.clone(),
        thread: rec
            .labels
            .get(labels::THREAD)
            .filter(|t| !t.is_empty())
            .cloned(),
        platform: rec
            .labels
            .get(labels::PLATFORM)
            .filter(|p| !p.is_empty())
            .cloned(),
        profile: rec.labels.get(labels::PROFILE).cloned(),
        created: rec.created,
        started_at,
        runtime: Some(VM_RUNTIME.to_string()),
        memory_limit: i64::try_from(rec.shape.mem_mib << 20).ok(),
        pids_limit: None,
        cpus_limit: Some(f64::from(rec.shape.cpus)),
        provision: Provision::from_engine(legacy),
        labels: rec.labels.clone(),
    })
}

/// What the machines are asked to make for `spec` (whose `vm` is `shape`).
/// `authorized_key` is berth's own public key line.
pub fn vm_create(
    spec: &ContainerSpec,
    shape: &VmShape,
    authorized_key: String,
) -> Result<VmCreate, String> {
    if spec.mount_point != WORKSPACE_HOME {
        return Err(format!(
            "a VM workspace's home disk is mounted at {WORKSPACE_HOME}, not {}",
            spec.mount_point
        ));
    }
    if !spec.binds.is_empty() {
        return Err(
            "a VM workspace cannot mount host paths (--mount and forwarding that needs one); \
             drop them or use --provider container"
                .into(),
        );
    }
    let ssh_port = spec.ssh_host_port.ok_or_else(|| {
        "a VM workspace needs an SSH port on the host (berth reaches it over ssh); \
         it cannot be made without a network"
            .to_string()
    })?;
    let mut labels = spec.labels.clone();
    labels.insert(PROVIDER_LABEL.into(), "vm".into());
    labels.insert(ACCEL_LABEL.into(), shape.accel.as_str().into());
    Ok(VmCreate {
        container: spec.container.clone(),
        hostname: spec.hostname.clone(),
        volume: spec.volume.clone(),
        image: spec.image.clone(),
        labels,
        env: spec.env.clone(),
        ssh_port,
        ports: spec.ports.clone(),
        bind_address: spec.bind_address,
        shape: *shape,
        authorized_key,
        workdir: spec.workdir.clone(),
    })
}

#[cfg(test)]
#[path = "inspect_tests.rs"]
pub(crate) mod tests;
