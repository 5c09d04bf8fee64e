//! What a create refuses for the VM provider before anything is made (pure):
//! the VM-only flags on a container, and on a VM everything it cannot have yet
//! (sidecars, host mounts, runtimes, platforms, named networks, the isolated and
//! proxy network profiles, a restore). Each refusal says what to do instead.
//! The host's part (the engine on this machine, the accelerator) is
//! `backend::create_vm`.
use super::vm::{net_for, shape_resources, AccelChoice, Provider, VmNet};
use super::workspace::WorkspaceSpec;

/// Refuses what `spec` cannot be given under its provider; `restoring`: a
/// create from a snapshot.
pub fn check(spec: &WorkspaceSpec, restoring: bool) -> Result<(), String> {
    let o = &spec.options;
    if o.provider != Provider::Vm {
        if let AccelChoice::Only(a) = o.accel {
            return Err(format!(
                "--accel {} is for a VM workspace; add --provider vm, or leave out --accel",
                a.as_str()
            ));
        }
        if o.disk.is_some() {
            return Err(
                "--disk is for a VM workspace (a container's home is a volume, which grows as needed); \
                 add --provider vm, or leave out --disk"
                    .into(),
            );
        }
        return Ok(());
    }
    let refuse = |what: &str, instead: &str| {
        Err(format!(
            "a VM workspace (--provider vm) cannot have {what} yet; {instead}"
        ))
    };
    if restoring {
        return refuse(
            "its home restored from a snapshot (snapshots are of containers)",
            "restore it as a container (--provider container)",
        );
    }
    if o.docker {
        return refuse(
            "--docker (its Docker engine is a sidecar container, which a VM cannot reach)",
            "leave out --docker, or use --provider container",
        );
    }
    if let Some(m) = o.mounts.first() {
        return refuse(
            &format!(
                "host directories mounted (--mount {}:{}, --mount-cwd)",
                m.host.display(),
                m.path
            ),
            "copy files in with `berth cp` once it runs, or use --provider container",
        );
    }
    if let Some(r) = &spec.runtime {
        return refuse(
            &format!("a container runtime (--runtime {r}, or `runtime` in the config)"),
            "leave out --runtime (and set `runtime = \"\"` in the config), or use --provider container",
        );
    }
    if let Some(p) = &spec.platform {
        return refuse(
            &format!("--platform {p} (a VM runs the host's architecture)"),
            "leave out --platform, or use --provider container",
        );
    }
    if let Some(n) = o.networks.first() {
        return refuse(
            &format!("--network {n} (a VM cannot join the engine's networks)"),
            "leave out --network, or use --provider container",
        );
    }
    if o.forward.ssh {
        return refuse(
            "ssh-agent forwarding (--forward-ssh, or its profile's forward.ssh): the relay is a socket mounted into a container",
            "leave out --forward-ssh (or pick a profile without it), or use --provider container",
        );
    }
    if o.forward_logs.is_some() {
        return refuse(
            "log forwarding (--forward-logs, or `[logs] forward` in the config): the forwarder is a sidecar container",
            "pass --forward-logs \"\", or use --provider container",
        );
    }
    vm_net(spec)?;
    shape_resources(Some(spec.resources.memory_bytes), spec.resources.cpus)?;
    Ok(())
}

/// Refuses `what` (an operation on the existing workspace `w`) for a VM, with
/// why and what to do `instead`.
pub fn refuse_vm(
    w: &super::workspace::Workspace,
    what: &str,
    why: &str,
    instead: &str,
) -> Result<(), String> {
    if w.provider() != Provider::Vm {
        return Ok(());
    }
    Err(format!(
        "workspace {} is a VM (--provider vm), which cannot {what} yet: {why}; {instead}",
        w.name
    ))
}

/// A snapshot of `w`: refused for a VM.
pub fn refuse_snapshot(w: &super::workspace::Workspace) -> Result<(), String> {
    refuse_vm(
        w,
        "be snapshotted",
        "a snapshot is an image of a container's filesystem and a volume copy, and a VM's disks are neither",
        "copy what you need out with `berth cp`, or use a container workspace for snapshots",
    )
}

/// A service beside `w`: refused for a VM.
pub fn refuse_service(w: &super::workspace::Workspace) -> Result<(), String> {
    refuse_vm(
        w,
        "have services",
        "a service is a container on a network the workspace joins, and a VM cannot join the engine's networks",
        "run the service inside the VM, or use a container workspace",
    )
}

/// The network of a VM workspace, or why its profile cannot be given to one.
pub fn vm_net(spec: &WorkspaceSpec) -> Result<VmNet, String> {
    net_for(spec.options.net_profile).map_err(|why| {
        format!(
            "a VM workspace needs --net-profile open or offline, not {} (without --net-profile it is \
             `[network] profile` from the config, isolated unless set): {why}",
            spec.options.net_profile
        )
    })
}

#[cfg(test)]
#[path = "vm_checks_tests.rs"]
mod tests;
