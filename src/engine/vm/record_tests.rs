use super::*;
use crate::domain::vm::{Accel, VmNet, VmShape};

fn rec(id: &str, container: &str) -> VmRecord {
    VmRecord {
        id: id.into(),
        container: container.into(),
        hostname: "a".into(),
        volume: container.into(),
        image: "img".into(),
        image_id: "sha256:1".into(),
        labels: BTreeMap::from([("k".to_string(), "v".to_string())]),
        env: vec!["A=1".into()],
        created: 5,
        ssh_port: 2200,
        ports: vec![(1, 2)],
        bind_address: "127.0.0.1".parse().unwrap(),
        shape: VmShape {
            accel: Accel::Tcg,
            mem_mib: 512,
            cpus: 1,
            disk_bytes: 1 << 30,
            net: VmNet::Offline,
        },
        authorized_key: "ssh-ed25519 AAAA".into(),
        workdir: Some("/w".into()),
        host_key_pub: "ssh-ed25519 BBBB".into(),
    }
}

#[test]
fn records_round_trip_and_list_sorted() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout {
        root: t.path().into(),
    };
    assert!(l.list().unwrap().is_empty());
    for (id, c) in [("b", "workspace-b"), ("a", "workspace-a")] {
        private_dir(&l.machine(id)).unwrap();
        l.write_record(&rec(id, c)).unwrap();
    }
    // a machine being made (no record yet) is not listed
    private_dir(&l.machine("c")).unwrap();
    let all = l.list().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], rec("a", "workspace-a"));
    assert_eq!(l.find("workspace-b").unwrap().unwrap().id, "b");
    assert!(l.find("workspace-x").unwrap().is_none());
}

#[test]
fn a_name_is_claimed_once_and_a_dead_claim_is_taken_over() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout {
        root: t.path().into(),
    };
    private_dir(&l.machine("id1")).unwrap();
    assert!(l.claim_name("workspace-a", "id1").unwrap());
    assert!(!l.claim_name("workspace-a", "id2").unwrap());
    // release by someone else does nothing
    l.release_name("workspace-a", "id2").unwrap();
    assert!(!l.claim_name("workspace-a", "id2").unwrap());
    // the holder's machine directory is gone: the claim is stale
    std::fs::remove_dir(l.machine("id1")).unwrap();
    assert!(l.claim_name("workspace-a", "id2").unwrap());
    l.release_name("workspace-a", "id2").unwrap();
    assert!(l.claim_name("workspace-a", "id3").unwrap());
}

#[test]
fn homes_are_listed_only_when_complete() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout {
        root: t.path().into(),
    };
    private_dir(&l.home("workspace-a")).unwrap();
    private_dir(&l.home("workspace-b")).unwrap();
    let h = HomeRecord {
        volume: "workspace-a".into(),
        labels: BTreeMap::new(),
        host_key_pub: "k".into(),
    };
    write_json(&l.home("workspace-a").join("home.json"), &h).unwrap();
    assert_eq!(l.homes_list().unwrap(), vec![h.clone()]);
    assert_eq!(l.read_home("workspace-a").unwrap(), Some(h));
    assert_eq!(l.read_home("workspace-b").unwrap(), None);
}

#[test]
fn ids_are_12_hex_digits() {
    let a = new_id().unwrap();
    assert_eq!(a.len(), 12);
    assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, new_id().unwrap());
}

#[test]
fn an_unfinished_create_holds_its_name_for_an_hour() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout {
        root: t.path().into(),
    };
    private_dir(&l.machine("id1")).unwrap();
    assert!(l.claim_name("workspace-a", "id1").unwrap());
    // no record yet: a create in progress keeps the name
    assert!(!l.claim_name("workspace-a", "id2").unwrap());
    let claim = t.path().join("names/workspace-a");
    let old = std::time::SystemTime::now() - UNFINISHED - std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&claim)
        .unwrap()
        .set_modified(old)
        .unwrap();
    // a finished VM keeps its name however old
    l.write_record(&rec("id1", "workspace-a")).unwrap();
    assert!(!l.claim_name("workspace-a", "id2").unwrap());
    // an old claim without a record: the create died; its leftovers go
    std::fs::remove_file(l.machine("id1").join("record.json")).unwrap();
    assert!(l.claim_name("workspace-a", "id2").unwrap());
    assert!(!l.machine("id1").exists());
}

#[test]
fn a_claim_comes_with_its_machine_directory() {
    // A claim seen without its directory counts as a dead create's: a second
    // create must never see the first's claim before its directory exists.
    let t = tempfile::tempdir().unwrap();
    let l = Layout {
        root: t.path().into(),
    };
    assert!(l.claim_name("workspace-a", "id1").unwrap());
    assert!(l.machine("id1").is_dir());
    assert!(!l.claim_name("workspace-a", "id2").unwrap());
    assert!(
        !l.machine("id2").exists(),
        "a lost claim leaves no directory"
    );
    l.release_name("workspace-a", "id1").unwrap();
    assert!(l.claim_name("workspace-a", "id2").unwrap());
}
