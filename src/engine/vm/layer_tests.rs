//! The layer over fake machines and the in-memory engine as Docker.
use super::fake_machines::FakeMachines;
use super::inspect::tests::spec;
use super::layer::VmLayer;
use super::machines::Machines;
use super::VmRun;
use crate::config::Paths;
use crate::domain::workspace::WorkspaceState;
use crate::engine::memory::MemoryEngine;
use crate::engine::{Engine, NetworkEngine, SnapshotEngine};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

fn layer(dir: &std::path::Path) -> (VmLayer, Arc<FakeMachines>, Arc<MemoryEngine>) {
    let m = Arc::new(FakeMachines::new(dir.join("vm")));
    let docker = Arc::new(MemoryEngine::new());
    let l = VmLayer::with_machines(docker.clone(), m.clone(), Paths::under(dir));
    (l, m, docker)
}

#[tokio::test]
async fn vm_specs_go_to_the_machines_and_the_rest_to_docker() {
    let dir = tempfile::tempdir().unwrap();
    let (l, m, docker) = layer(dir.path());
    let id = l.create_container(&spec("v")).await.unwrap();
    let mut c = spec("c");
    c.vm = None;
    docker
        .create_volume("workspace-c", &Default::default())
        .await
        .unwrap();
    l.create_container(&c).await.unwrap();
    let rec = m.find("workspace-v").await.unwrap().unwrap();
    assert_eq!(rec.id, id);
    // berth's own key was made and handed over.
    assert!(
        rec.authorized_key.starts_with("ssh-ed25519 "),
        "{}",
        rec.authorized_key
    );
    assert!(docker
        .inspect_workspace("workspace-v")
        .await
        .unwrap()
        .is_none());
    assert!(docker
        .inspect_workspace("workspace-c")
        .await
        .unwrap()
        .is_some());

    l.start_container("workspace-v").await.unwrap();
    let all = l.list_workspaces().await.unwrap();
    let names: Vec<_> = all.iter().map(|w| w.name.as_str()).collect();
    assert!(names.contains(&"v") && names.contains(&"c"), "{names:?}");
    let v = l.inspect_workspace(&id).await.unwrap().unwrap();
    assert_eq!(
        (v.state, v.runtime.as_deref()),
        (WorkspaceState::Running, Some("qemu"))
    );
    assert_eq!(v.engine, docker.name());

    // The marker through the mirror, by id, also while stopped.
    l.stop_container("workspace-v", 5).await.unwrap();
    l.write_file(&id, "/etc/berth/provisioned", b"marker\n", 0o644)
        .await
        .unwrap();
    let back = l
        .read_file(&id, "/etc/berth/provisioned", 256)
        .await
        .unwrap();
    assert_eq!(back.as_deref(), Some(&b"marker\n"[..]));
    let e = l.read_file(&id, "/etc/passwd", 256).await.unwrap_err();
    assert!(
        e.to_string().contains("is stopped") && e.to_string().contains("berth start"),
        "{e}"
    );
    let e = l
        .exec(
            "workspace-v",
            Default::default(),
            tokio::sync::mpsc::channel(1).0,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is stopped"), "{e}");

    // Refusals with a reason.
    let e = l.rename_container("workspace-v", "x").await.unwrap_err();
    assert!(e.to_string().contains("warm pool"), "{e}");
    let e = l.pause_container("workspace-v").await.unwrap_err();
    assert!(e.to_string().contains("snapshots of VM workspaces"), "{e}");
    let e = l
        .connect_network("n", "workspace-v", &[])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot join networks"), "{e}");

    // Home disks are volumes too.
    assert!(l.volume_exists("workspace-v").await.unwrap());
    let want = [(crate::domain::labels::NAME, "v")];
    assert_eq!(l.volumes_labelled(&want).await.unwrap(), ["workspace-v"]);
    l.remove_container("workspace-v").await.unwrap();
    assert!(l.inspect_workspace("workspace-v").await.unwrap().is_none());
    l.remove_volume("workspace-v").await.unwrap();
    assert!(!l.volume_exists("workspace-v").await.unwrap());
    // Docker's are untouched.
    assert!(l.volume_exists("workspace-c").await.unwrap());
}

#[tokio::test]
async fn a_plain_engine_refuses_vm_specs() {
    // The layer's Docker never sees one; DockerEngine refuses (docker.rs).
    let dir = tempfile::tempdir().unwrap();
    let (l, _, _) = layer(dir.path());
    let mut s = spec("p");
    s.ssh_host_port = None;
    let e = l.create_container(&s).await.unwrap_err();
    assert!(e.to_string().contains("SSH port"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn events_poll_the_machines_without_a_task() {
    let dir = tempfile::tempdir().unwrap();
    let (l, m, _) = layer(dir.path());
    let mut events = l.events();
    // The baseline poll happens on the first next().
    let next = async |ev: &mut futures_util::stream::BoxStream<'static, _>| {
        tokio::time::timeout(Duration::from_secs(5), ev.next())
            .await
            .ok()
            .flatten()
            .map(
                |e: crate::engine::EngineResult<crate::domain::observe::EngineEvent>| {
                    let e = e.unwrap();
                    format!("{}:{}", e.name, e.action)
                },
            )
    };
    assert_eq!(next(&mut events).await, None, "nothing happened");
    l.create_container(&spec("e")).await.unwrap();
    assert_eq!(next(&mut events).await.as_deref(), Some("e:create"));
    m.set_run(
        "workspace-e",
        VmRun::Running {
            pid: 1,
            started_at: 1,
        },
    );
    assert_eq!(next(&mut events).await.as_deref(), Some("e:start"));
    l.remove_container("workspace-e").await.unwrap();
    assert_eq!(next(&mut events).await.as_deref(), Some("e:die"));
    assert_eq!(next(&mut events).await.as_deref(), Some("e:destroy"));
    drop(events);
}

#[tokio::test(start_paused = true)]
async fn stats_come_from_samples() {
    let dir = tempfile::tempdir().unwrap();
    let (l, _, _) = layer(dir.path());
    l.create_container(&spec("s")).await.unwrap();
    l.start_container("workspace-s").await.unwrap();
    let s = l.stats("workspace-s").next().await.unwrap().unwrap();
    assert_eq!(s.mem_limit, 512 << 20);
    assert_eq!(s.mem_bytes, 300 << 20);
    assert!((s.cpu_percent - 50.0).abs() < 1.0, "{}", s.cpu_percent);
}

#[tokio::test]
async fn a_kept_home_is_never_taken_for_the_other_providers() {
    let dir = tempfile::tempdir().unwrap();
    let (l, m, docker) = layer(dir.path());
    // A VM deleted with --keep-volume: its home disk (user data) stays.
    l.create_container(&spec("k")).await.unwrap();
    l.remove_container("workspace-k").await.unwrap();
    assert!(m.home_exists("workspace-k").await.unwrap());
    // A container of that name cannot mount it: refused, not given an empty
    // volume that a later delete would "remove" by removing the kept home disk.
    let mut c = spec("k");
    c.vm = None;
    let e = l.create_container(&c).await.unwrap_err().to_string();
    assert!(
        e.contains("home disk kept from a VM workspace") && e.contains("--provider vm"),
        "{e}"
    );
    assert!(docker
        .inspect_workspace("workspace-k")
        .await
        .unwrap()
        .is_none());
    assert!(m.home_exists("workspace-k").await.unwrap());
    // Reused by a VM of that name.
    l.create_container(&spec("k")).await.unwrap();

    // A container's kept volume is not a VM's home disk: refused too.
    docker
        .create_volume("workspace-d", &Default::default())
        .await
        .unwrap();
    let e = l
        .create_container(&spec("d"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("kept from a container workspace") && e.contains("--provider container"),
        "{e}"
    );
    assert!(m.find("workspace-d").await.unwrap().is_none());
    assert!(!m.home_exists("workspace-d").await.unwrap());
}
