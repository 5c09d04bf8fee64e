//! A create's checks for the provider (before anything is made): the pure rules
//! of `domain::vm_checks`, then, for a VM, the engine on this machine and the
//! accelerator this host can give (`--accel kvm` where it cannot run is
//! refused with the reason; auto picks kvm or tcg and says which).
use super::{Ctx, Progress, ProgressFn};
use crate::domain::vm::{
    choose_accel, Accel, AccelChoice, Provider, VmShape, DEFAULT_DISK_BYTES, PROVIDER_LABEL,
};
use crate::domain::workspace::WorkspaceSpec;

/// `None` for a container; for a VM, the accelerator it gets (said in a note,
/// with the tcg warning). A sentence when the create must be refused.
pub async fn preflight(
    ctx: &Ctx,
    spec: &WorkspaceSpec,
    restoring: bool,
    progress: ProgressFn<'_>,
) -> Result<Option<Accel>, String> {
    crate::domain::vm_checks::check(spec, restoring)?;
    if spec.options.provider != Provider::Vm {
        return Ok(None);
    }
    let (engine, _, local) = super::engine_ports::of(ctx);
    if !local {
        return Err(format!(
            "a VM workspace is made on this machine only, and engine {engine} is on another host; \
             pick this machine's engine (--engine default), or use --provider container there"
        ));
    }
    let probe = ctx.host_virt;
    let host = tokio::task::spawn_blocking(probe)
        .await
        .map_err(|e| format!("cannot look at this host's virtualization: {e}"))?;
    let accel = choose_accel(spec.options.accel, &host)?;
    let mut note = format!("provider: vm (QEMU microVM, accel {})", accel.as_str());
    if let (AccelChoice::Auto, Accel::Tcg, Some(why)) =
        (spec.options.accel, accel, host.kvm_unusable())
    {
        note.push_str(&format!("; not kvm: {why}"));
    }
    progress.report(Progress::Note(note)).await;
    if let Some(w) = accel.warning() {
        progress.report(Progress::Note(w.to_string())).await;
    }
    Ok(Some(accel))
}

/// The machine a VM workspace is given (`None` for a container): the resolved
/// accelerator, guest memory and CPUs from its limits, its home disk, its network.
pub fn shape(spec: &WorkspaceSpec) -> anyhow::Result<Option<VmShape>> {
    let o = &spec.options;
    if o.provider != Provider::Vm {
        return Ok(None);
    }
    let AccelChoice::Only(accel) = o.accel else {
        anyhow::bail!("the VM's accelerator was not chosen before its create (a bug in berth)");
    };
    let (mem_mib, cpus) =
        crate::domain::vm::shape_resources(Some(spec.resources.memory_bytes), spec.resources.cpus)
            .map_err(anyhow::Error::msg)?;
    let net = crate::domain::vm_checks::vm_net(spec).map_err(anyhow::Error::msg)?;
    Ok(Some(VmShape {
        accel,
        mem_mib,
        cpus,
        disk_bytes: o.disk.unwrap_or(DEFAULT_DISK_BYTES),
        net,
    }))
}

/// Before a VM is made: its home disk comes with it, so it is noted as this
/// create's (removed if the create fails) unless one kept by `delete
/// --keep-volume` is there, which is reused and never removed.
pub async fn track_home(
    ctx: &Ctx,
    name: &crate::domain::naming::WorkspaceName,
    volume: &str,
    st: &mut super::create_state::StepState,
    progress: ProgressFn<'_>,
) -> anyhow::Result<()> {
    if ctx.engine.volume_exists(volume).await? {
        let note = format!("reusing the existing home disk {volume} (its data is kept)");
        progress.report(Progress::Note(note)).await;
        return Ok(());
    }
    // Recorded before it exists, so a kill or a cancel right after still knows it is ours.
    ctx.store
        .provision_made_volume(name.as_str(), &st.token, true)
        .await?;
    st.made.volume = Some(volume.to_string());
    Ok(())
}

/// A home kept by `delete --keep-volume` (or an interrupted create) under the
/// name's volume belongs to one provider: a VM's home disk is no Docker volume
/// (a container would get an empty volume of that name, and its delete would
/// remove the VM's disk), and a container's volume is no home disk (a VM would
/// get a new, empty one). The other provider's is refused, saying what to do.
pub async fn check_kept_home(ctx: &Ctx, spec: &WorkspaceSpec) -> Result<(), String> {
    let name = &spec.name;
    let volume = name.volume();
    if !ctx
        .engine
        .volume_exists(&volume)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(());
    }
    let vm_home = ctx
        .engine
        .volumes_labelled(&[(PROVIDER_LABEL, Provider::Vm.as_str())])
        .await
        .map_err(|e| e.to_string())?
        .contains(&volume);
    match (spec.options.provider, vm_home) {
        (Provider::Container, true) => Err(format!(
            "the home disk {volume} kept from VM workspace {name} is there, and a container cannot use it; \
             create {name} with --provider vm to reuse it, or remove it with `berth delete {name}` \
             (everything in its /home/workspace is lost), then create it again"
        )),
        (Provider::Vm, false) => Err(format!(
            "the home volume {volume} kept from container workspace {name} is there, and a VM cannot use it \
             (its home is a disk of its own); create {name} with --provider container to reuse it, or remove it \
             with `berth delete {name}` (everything in its /home/workspace is lost), then create it again"
        )),
        _ => Ok(()),
    }
}
