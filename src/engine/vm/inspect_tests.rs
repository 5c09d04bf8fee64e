use super::*;
use crate::domain::vm::{Accel, VmNet};
use std::collections::BTreeMap;

pub(crate) fn shape() -> VmShape {
    VmShape {
        accel: Accel::Tcg,
        mem_mib: 512,
        cpus: 2,
        disk_bytes: 1 << 30,
        net: VmNet::Open,
    }
}

pub(crate) fn spec(name: &str) -> ContainerSpec {
    let mut labels = BTreeMap::new();
    labels.insert(labels::NAME.to_string(), name.to_string());
    labels.insert(labels::ROLE.to_string(), labels::ROLE_WORKSPACE.to_string());
    labels.insert(
        labels::PROVISION.to_string(),
        labels::PROVISION_MARKER.to_string(),
    );
    ContainerSpec {
        container: format!("workspace-{name}"),
        hostname: name.into(),
        image: "berth/workspace:latest".into(),
        labels,
        env: vec!["LANG=C.UTF-8".into()],
        tmpfs: vec![],
        volume: format!("workspace-{name}"),
        mount_point: WORKSPACE_HOME.into(),
        ssh_container_port: 2222,
        ssh_host_port: Some(4230),
        network: None,
        bind_address: "127.0.0.1".parse().unwrap(),
        resources: Default::default(),
        runtime: None,
        platform: None,
        binds: vec![],
        ports: vec![],
        workdir: Some("/home/workspace/src".into()),
        init: true,
        vm: Some(shape()),
    }
}

#[test]
fn a_spec_becomes_a_vm_create_with_provider_and_accel_labels() {
    let c = vm_create(&spec("a"), &shape(), "ssh-ed25519 AAAA berth".into()).unwrap();
    assert_eq!(c.container, "workspace-a");
    assert_eq!(c.ssh_port, 4230);
    assert_eq!(c.labels[PROVIDER_LABEL], "vm");
    assert_eq!(c.labels[ACCEL_LABEL], "tcg");
    assert_eq!(c.authorized_key, "ssh-ed25519 AAAA berth");
    assert_eq!(c.workdir.as_deref(), Some("/home/workspace/src"));
    let mut s = spec("a");
    s.ssh_host_port = None;
    assert!(vm_create(&s, &shape(), String::new())
        .unwrap_err()
        .contains("SSH port"));
    let mut s = spec("a");
    s.binds.push(crate::engine::Bind {
        host: "/x".into(),
        path: "/x".into(),
        read_only: true,
    });
    assert!(vm_create(&s, &shape(), String::new())
        .unwrap_err()
        .contains("cannot mount host paths"));
}

#[test]
fn a_record_is_a_workspace() {
    let c = vm_create(&spec("a"), &shape(), String::new()).unwrap();
    let rec = crate::engine::vm::VmRecord {
        id: "0123456789ab".into(),
        container: c.container,
        hostname: c.hostname,
        volume: c.volume,
        image: c.image,
        image_id: "sha256:x".into(),
        labels: c.labels,
        env: c.env,
        created: 100,
        ssh_port: c.ssh_port,
        ports: vec![],
        bind_address: c.bind_address,
        shape: c.shape,
        authorized_key: c.authorized_key,
        workdir: c.workdir,
        host_key_pub: String::new(),
    };
    let w = to_workspace(
        &rec,
        VmRun::Running {
            pid: 9,
            started_at: 150,
        },
    )
    .unwrap();
    assert_eq!(w.name, "a");
    assert_eq!(w.state, WorkspaceState::Running);
    assert_eq!(w.started_at, Some(150));
    assert_eq!(w.container_id, "0123456789ab");
    assert_eq!(w.runtime.as_deref(), Some("qemu"));
    assert_eq!(w.memory_limit, Some(512 << 20));
    assert_eq!(w.cpus_limit, Some(2.0));
    assert_eq!(w.ssh_port, Some(4230));
    assert_eq!(w.provider(), crate::domain::vm::Provider::Vm);
    // Marked for provisioning: not ready until the marker is read back.
    assert!(!w.provision.is_ready());
    let w = to_workspace(&rec, VmRun::Stopped).unwrap();
    assert_eq!((w.state, w.started_at), (WorkspaceState::Stopped, None));
}
