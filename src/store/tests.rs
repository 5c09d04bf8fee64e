//! The store's async API over a real SQLite file.
use super::*;
use crate::domain::ports::PortRange;
use std::collections::BTreeSet;

/// A fresh database for the SQL modules' tests.
pub(crate) fn conn() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    setup(&c).unwrap();
    c
}

fn store() -> (tempfile::TempDir, Store) {
    let d = tempfile::tempdir().unwrap();
    let s = Store::new(d.path().join("state/berth.db"));
    (d, s)
}

fn lease(name: &str, range: PortRange) -> LeaseRequest {
    LeaseRequest {
        engine: "default".into(),
        name: name.into(),
        token: name.into(),
        range,
        workspaces: BTreeSet::new(),
        skip: BTreeSet::new(),
        probe: None,
    }
}

#[tokio::test]
async fn the_store_is_private_and_answers_from_its_thread() {
    use std::os::unix::fs::PermissionsExt;
    let (d, s) = store();
    s.audit("a", "create", "ok").await.unwrap();
    s.set_identities("default", "a", &[PathBuf::from("/k/id")])
        .await
        .unwrap();
    s.set_identities(
        "default",
        "a",
        &[PathBuf::from("/k/id2"), PathBuf::from("/k/id3")],
    )
    .await
    .unwrap();
    assert_eq!(
        s.identities("default", "a").await.unwrap(),
        [PathBuf::from("/k/id2"), PathBuf::from("/k/id3")]
    );
    s.forget("a", "default").await.unwrap();
    assert!(s.identities("default", "a").await.unwrap().is_empty());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&d.path().join("state")), 0o700);
    // The store's thread keeps its connection open in WAL mode: all three files exist.
    for f in ["berth.db", "berth.db-wal", "berth.db-shm"] {
        let p = d.path().join("state").join(f);
        assert!(p.exists(), "{f} missing");
        assert_eq!(mode(&p), 0o600, "{f}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reservations_from_many_stores_never_collide() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("state/berth.db");
    let r = PortRange::new(4000, 4100).unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        // A store each, as separate berth processes would have.
        let s = Store::new(path.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..10 {
                got.push(
                    s.reserve_port(lease(&format!("w{t}-{i}"), r))
                        .await
                        .unwrap(),
                );
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: BTreeSet<u16> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (80, 80));
    assert_eq!(Store::new(path).lease_count().await.unwrap(), 80);
}

#[tokio::test]
async fn an_older_store_without_creators_is_upgraded() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("berth.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE port_leases (port INTEGER PRIMARY KEY, name TEXT NOT NULL,
                 token TEXT NOT NULL, created_at INTEGER NOT NULL);
             INSERT INTO port_leases VALUES (4000, 'old', 'x', 0);",
        )
        .unwrap();
    }
    let s = Store::new(&path);
    let r = PortRange::new(4000, 4000).unwrap();
    // The old lease's create is long gone: its port is free.
    assert_eq!(s.reserve_port(lease("new", r)).await.unwrap(), 4000);
    s.release_lease("new").await.unwrap();
    assert_eq!(s.lease_count().await.unwrap(), 0);
}

#[tokio::test]
async fn finished_containers_are_remembered_and_pruned() {
    let (_d, s) = store();
    s.record_provisioned(vec!["a".into(), "b".into()], None)
        .await
        .unwrap();
    s.record_provisioned(vec!["a".into()], None).await.unwrap();
    let ids = s.provisioned_ids().await.unwrap();
    assert_eq!(ids.len(), 2);
    s.record_provisioned(vec![], Some(vec!["b".into()]))
        .await
        .unwrap();
    let ids = s.provisioned_ids().await.unwrap();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["b"]);
}

#[tokio::test]
async fn an_unopenable_store_says_where() {
    let s = Store::new("/proc/no-such-dir/berth.db");
    let err = format!("{:#}", s.audit("a", "b", "c").await.unwrap_err());
    assert!(err.contains("/proc/no-such-dir"), "{err}");
}

/// Deleting workspace `web` on one engine must not free the port a create of
/// `web` on another engine holds: a second create there would get it too.
#[tokio::test]
async fn forgetting_a_name_on_one_engine_keeps_another_engines_lease() {
    let (_d, s) = store();
    let r = PortRange::new(4000, 4001).unwrap();
    let mut on_b = lease("web", r);
    on_b.engine = "b".into();
    assert_eq!(s.reserve_port(on_b).await.unwrap(), 4000);
    s.forget("web", "default").await.unwrap();
    let mut next_on_b = lease("api", r);
    next_on_b.engine = "b".into();
    assert_eq!(
        s.reserve_port(next_on_b).await.unwrap(),
        4001,
        "engine b's lease of 4000 was dropped by a delete on another engine"
    );
    // On its own engine the name's lease goes.
    s.forget("web", "b").await.unwrap();
    assert_eq!(s.lease_count().await.unwrap(), 1);
}

/// Deleting `web` on one engine forgets its keys and its create's record there
/// only: `web` on another engine keeps both.
#[tokio::test]
async fn forgetting_a_name_on_one_engine_keeps_another_engines_keys_and_record() {
    let (_d, s) = store();
    for engine in ["a", "b"] {
        s.set_identities(engine, "web", &[PathBuf::from(format!("/k/{engine}"))])
            .await
            .unwrap();
        s.begin_provisioning(engine, "web", &format!("t-{engine}"), 9)
            .await
            .unwrap();
    }
    assert_eq!(
        s.identities("b", "web").await.unwrap(),
        [PathBuf::from("/k/b")]
    );
    s.forget("web", "a").await.unwrap();
    assert!(s.identities("a", "web").await.unwrap().is_empty());
    assert_eq!(
        s.identities("b", "web").await.unwrap(),
        [PathBuf::from("/k/b")]
    );
    assert!(s.provisioning_on("a").await.unwrap().is_empty());
    let all = s.provisioning().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].0.engine.as_str(), all[0].0.token.as_str()),
        ("b", "t-b")
    );
}
