//! The warm pool over the in-memory engine, in tokio's paused time: refill tops up
//! and is idempotent, a claim renames a slot and it becomes the workspace, two
//! claimers of one slot (exactly one wins), a create that does not match goes cold,
//! drain.
use super::create::{create, CreateOutcome, CreateRequest};
use super::create_tests::{request, rig, Rig};
use super::{inventory, lifecycle, pool, Ctx};
use crate::domain::naming::WorkspaceName;
use crate::domain::pool::{is_slot, POOL};
use crate::domain::provision::Provision;
use crate::engine::Engine;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

fn pooled(r: &Rig, size: usize) -> Ctx {
    let mut ctx = r.ctx.clone();
    ctx.config.pool.sizes.insert("general".into(), size);
    ctx
}

async fn create_noting(
    ctx: &Ctx,
    req: CreateRequest,
) -> (crate::domain::workspace::Workspace, Vec<String>) {
    let notes = Mutex::new(Vec::new());
    let (_tx, rx) = watch::channel(false);
    let progress = |p: super::Progress| {
        if let super::Progress::Note(n) = p {
            notes.lock().unwrap().push(n);
        }
    };
    let w = match create(ctx, req, &progress, rx).await {
        Ok(CreateOutcome::Created(w)) => w,
        Ok(other) => panic!("{other:?}"),
        Err(e) => panic!("{e}"),
    };
    let notes = notes.lock().unwrap().clone();
    (w, notes)
}

async fn slot_count(ctx: &Ctx) -> usize {
    pool::slots(ctx).await.unwrap().len()
}

#[tokio::test(start_paused = true)]
async fn refill_tops_up_once_and_slots_are_nobodys_workspace() {
    let r = rig((3400, 3409), Duration::ZERO);
    let ctx = pooled(&r, 2);
    let rep = pool::refill(&ctx).await.unwrap();
    assert_eq!(rep.made.len(), 2, "{rep:?}");
    assert!(rep.failed.is_empty() && rep.notes.is_empty(), "{rep:?}");
    for c in &rep.made {
        assert!(c.starts_with("berth-pool.general."), "{c}");
    }
    // Idempotent: a full pool is left alone.
    let again = pool::refill(&ctx).await.unwrap();
    assert!(
        again.made.is_empty() && again.removed.is_empty(),
        "{again:?}"
    );
    assert_eq!(slot_count(&ctx).await, 2);
    // Not the user's: not listed, not deleted by delete --all.
    assert!(inventory::list(&ctx).await.unwrap().is_empty());
    assert!(pool::workspaces(&ctx).await.unwrap().is_empty());
    let all = super::delete_all::plan(&ctx, false, false).await.unwrap();
    assert!(all.is_empty());
    let st = pool::status(&ctx, i64::MAX / 2).await.unwrap();
    assert_eq!(
        (st.len(), st[0].size, st[0].ready, st[0].in_flight),
        (1, 2, 2, 0)
    );
    // Size lowered: the extra goes; pool dropped: all go.
    let lowered = pool::refill(&pooled(&r, 1)).await.unwrap();
    assert_eq!(lowered.removed.len(), 1, "{lowered:?}");
    let dropped = pool::refill(&r.ctx).await.unwrap();
    assert_eq!(dropped.removed.len(), 1, "{dropped:?}");
    assert_eq!(slot_count(&ctx).await, 0);
    let vols = r
        .engine
        .volumes_labelled(&[(POOL, "general")])
        .await
        .unwrap();
    assert!(vols.is_empty(), "{vols:?}");
}

#[tokio::test(start_paused = true)]
async fn a_claimed_slot_becomes_the_named_workspace() {
    let r = rig((3410, 3419), Duration::ZERO);
    let ctx = pooled(&r, 1);
    pool::refill(&ctx).await.unwrap();
    let slot = pool::slots(&ctx).await.unwrap().remove(0);
    let (w, notes) = create_noting(&ctx, request(&ctx, "api", None)).await;
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("claimed warm workspace")),
        "{notes:?}"
    );
    assert_eq!(w.name, "api");
    assert_eq!(w.container, "workspace-api");
    assert_eq!(w.container_id, slot.container_id);
    assert_eq!(w.volume, slot.volume);
    assert_eq!(w.ssh_port, slot.ssh_port);
    assert_eq!(w.provision, Provision::Ready);
    assert!(pool::is_warm(&w) && !is_slot(&w));
    // Listed, found and named like a cold one; the slot is gone from the pool.
    let listed = inventory::list(&ctx).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "api");
    let n = WorkspaceName::parse("api").unwrap();
    assert_eq!(
        inventory::find(&ctx, &n).await.unwrap().unwrap().volume,
        slot.volume
    );
    assert_eq!(slot_count(&ctx).await, 0);
    // The claim's commit marked the renamed container provisioned.
    let marker = r
        .engine
        .read_file("workspace-api", crate::domain::provision::MARKER_PATH, 256)
        .await
        .unwrap()
        .unwrap();
    assert!(crate::domain::provision::marker_matches(
        &marker,
        &w.container_id
    ));
    // Stop and start keep it; delete takes its container and the slot-named volume.
    lifecycle::stop(&ctx, &n, &|_| {}).await.unwrap();
    // The memory engine closes the published port when its task next runs.
    tokio::time::sleep(Duration::from_millis(10)).await;
    lifecycle::start(&ctx, &n, &|_| {}).await.unwrap();
    let d = lifecycle::delete(&ctx, &n, false).await.unwrap();
    assert_eq!(d.volume.as_deref(), Some(slot.volume.as_str()));
    assert!(!r.engine.volume_exists(&slot.volume).await.unwrap());
    assert!(r
        .engine
        .inspect_workspace("workspace-api")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test(start_paused = true)]
async fn of_two_claimers_of_one_slot_exactly_one_wins() {
    let r = rig((3420, 3429), Duration::ZERO);
    let ctx = pooled(&r, 1);
    pool::refill(&ctx).await.unwrap();
    let a = request(&ctx, "alpha", None).spec;
    let b = request(&ctx, "beta", None).spec;
    let (ca, cb) = tokio::join!(
        pool::claim(&ctx, &a, &|_| {}),
        pool::claim(&ctx, &b, &|_| {})
    );
    assert!(ca.is_some() != cb.is_some(), "{ca:?} {cb:?}");
    // Both creates finish: one warm, one cold.
    let r2 = rig((3430, 3439), Duration::ZERO);
    let ctx2 = pooled(&r2, 1);
    pool::refill(&ctx2).await.unwrap();
    let (x, y) = tokio::join!(
        create_noting(&ctx2, request(&ctx2, "alpha", None)),
        create_noting(&ctx2, request(&ctx2, "beta", None))
    );
    let warm = [&x.0, &y.0].iter().filter(|w| pool::is_warm(w)).count();
    assert_eq!(warm, 1);
    assert_eq!(inventory::list(&ctx2).await.unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_create_that_does_not_match_goes_cold_and_leaves_the_slot() {
    let r = rig((3440, 3449), Duration::ZERO);
    let ctx = pooled(&r, 1);
    pool::refill(&ctx).await.unwrap();
    let mut req = request(&ctx, "odd", None);
    req.spec.options.env = vec![("MODE".into(), "dev".into())];
    let (w, notes) = create_noting(&ctx, req).await;
    assert!(!pool::is_warm(&w));
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("no warm workspace matches: env MODE=dev")),
        "{notes:?}"
    );
    assert_eq!(w.volume, "workspace-odd");
    assert_eq!(slot_count(&ctx).await, 1);
    // Drain takes the slot (and only the slot).
    let d = pool::drain(&ctx).await.unwrap();
    assert_eq!(d.removed.len(), 1);
    assert_eq!(slot_count(&ctx).await, 0);
    assert_eq!(inventory::list(&ctx).await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn keep_volume_refuses_a_claimed_workspace_whose_home_is_the_slots_volume() {
    let r = rig((3750, 3759), Duration::ZERO);
    let ctx = pooled(&r, 1);
    pool::refill(&ctx).await.unwrap();
    let slot = pool::slots(&ctx).await.unwrap().remove(0);
    let (w, _) = create_noting(&ctx, request(&ctx, "kept", None)).await;
    assert!(pool::is_warm(&w));
    let n = WorkspaceName::parse("kept").unwrap();
    // Kept, the slot-named home would be out of every berth command's reach.
    let e = lifecycle::delete(&ctx, &n, true).await.unwrap_err();
    assert!(
        format!("{e:#}").contains("claimed from the warm pool"),
        "{e:#}"
    );
    assert!(r.engine.volume_exists(&slot.volume).await.unwrap());
    assert!(inventory::find(&ctx, &n).await.unwrap().is_some());
    // delete --all --keep-volume skips it and says why.
    let all = super::delete_all::plan(&ctx, true, false).await.unwrap();
    assert_eq!(all.skipped.len(), 1, "{:?}", all.skipped);
    // Without --keep-volume it goes with its home.
    lifecycle::delete(&ctx, &n, false).await.unwrap();
    assert!(!r.engine.volume_exists(&slot.volume).await.unwrap());
}

/// A wait for the pool lock dropped while another holds it leaves no blocking
/// thread parked in flock: with one blocking thread, later blocking work still runs
/// (and a runtime shutting down does not wait for the holder).
#[test]
fn a_dropped_wait_for_the_pool_lock_parks_no_thread() {
    let r = rig((3760, 3769), Duration::ZERO);
    let ctx = r.ctx.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let held = pool::lock(&ctx).await.unwrap();
        // Another open file description: flock conflicts as with another process.
        let waited = tokio::time::timeout(Duration::from_millis(300), pool::lock(&ctx)).await;
        assert!(waited.is_err(), "the lock is held");
        let free =
            tokio::time::timeout(Duration::from_secs(20), tokio::task::spawn_blocking(|| 42)).await;
        assert_eq!(
            free.ok().and_then(|r| r.ok()),
            Some(42),
            "a thread is parked in flock"
        );
        drop(held);
        drop(pool::lock(&ctx).await.unwrap());
    });
    rt.shutdown_timeout(Duration::from_secs(5));
}

/// A refill killed after it made a slot's volume but before its container leaves a
/// volume no container names: the next refill removes it (and its record).
#[tokio::test(start_paused = true)]
async fn a_refill_removes_the_volume_a_killed_refill_left_without_a_container() {
    let r = rig((3770, 3779), Duration::ZERO);
    let ctx = pooled(&r, 1);
    let name = WorkspaceName::pool_slot("general", "dead0001");
    let token = "killed-refill";
    ctx.store
        .begin_provisioning(&ctx.engine_name(), name.as_str(), token, 7)
        .await
        .unwrap();
    ctx.store
        .provision_made_volume(name.as_str(), token, true)
        .await
        .unwrap();
    let labels = std::collections::BTreeMap::from([(POOL.to_string(), "general".to_string())]);
    r.engine
        .create_volume(&name.volume(), &labels)
        .await
        .unwrap();
    // Killed: its process is gone (nobody's record).
    ctx.store
        .abandon_provisioning(name.as_str(), token)
        .await
        .unwrap();
    // A claimed workspace's slot-named home is never touched.
    pool::refill(&ctx).await.unwrap();
    let (w, _) = create_noting(&ctx, request(&ctx, "home", None)).await;
    assert!(pool::is_warm(&w));
    let rep = pool::refill(&ctx).await.unwrap();
    assert!(
        !r.engine.volume_exists(&name.volume()).await.unwrap(),
        "{rep:?}"
    );
    assert!(r.engine.volume_exists(&w.volume).await.unwrap());
    assert!(ctx
        .store
        .provisioning()
        .await
        .unwrap()
        .iter()
        .all(|(rec, _)| rec.name != name.as_str()));
}
