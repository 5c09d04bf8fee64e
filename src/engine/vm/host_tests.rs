//! VmHost without QEMU: what start refuses before it boots anything.
use super::*;
use crate::domain::vm::{Accel, VmNet, VmShape};
use std::collections::BTreeMap;

fn rec(created: i64) -> VmRecord {
    VmRecord {
        id: "0123456789ab".into(),
        container: "workspace-a".into(),
        hostname: "a".into(),
        volume: "workspace-a".into(),
        image: "img".into(),
        image_id: "sha256:1".into(),
        labels: BTreeMap::from([(crate::domain::labels::NAME.to_string(), "a".to_string())]),
        env: vec![],
        created,
        ssh_port: 4321,
        ports: vec![],
        bind_address: "127.0.0.1".parse().unwrap(),
        shape: VmShape {
            accel: Accel::Tcg,
            mem_mib: 512,
            cpus: 1,
            disk_bytes: 1 << 30,
            net: VmNet::Open,
        },
        authorized_key: "ssh-ed25519 AAAA".into(),
        workdir: None,
        host_key_pub: "ssh-ed25519 BBBB".into(),
    }
}

#[tokio::test]
async fn start_refuses_a_base_disk_that_is_gone_or_made_again() {
    let t = tempfile::tempdir().unwrap();
    let (root, cache) = (t.path().join("state"), t.path().join("cache"));
    let host = VmHost::new(root, cache.clone());
    let l = host.layout();
    let r = rec(super::super::record::now() - 60);
    super::super::record::private_dir(&l.machine(&r.id)).unwrap();
    l.write_record(&r).unwrap();
    // A kernel in the cache, so start gets past the assets without the network.
    let k = cache.join("kernel/6.1.0-test/boot");
    std::fs::create_dir_all(&k).unwrap();
    std::fs::write(k.join("vmlinuz-6.1.0-test"), b"").unwrap();

    let e = host.start("workspace-a").await.unwrap_err().to_string();
    assert!(
        e.contains("which is gone") && e.contains("berth delete a --keep-volume"),
        "{e}"
    );
    // Made again after the VM (its overlay was written over another one).
    let base = super::super::base_disk::paths(&cache, &r.image_id).disk;
    std::fs::create_dir_all(base.parent().unwrap()).unwrap();
    std::fs::write(&base, b"").unwrap();
    let e = host.start("workspace-a").await.unwrap_err().to_string();
    assert!(e.contains("was made again after the VM"), "{e}");
    // The base the VM was made over: start goes on (and fails later, without QEMU's files).
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&base)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let e = host.start("workspace-a").await.unwrap_err().to_string();
    assert!(!e.contains("base disk"), "{e}");
}
