use super::*;
use crate::domain::naming::WorkspaceName;
use crate::domain::resources::Resources;

fn spec(name: &str) -> WorkspaceSpec {
    WorkspaceSpec {
        name: WorkspaceName::parse(name).unwrap(),
        image: "berth/workspace:latest".into(),
        clone_url: None,
        thread: None,
        platform: None,
        profile: "general".into(),
        post_start: None,
        resources: Resources::default(),
        runtime: None,
        extra_labels: [("berth.test-run".to_string(), "r1".to_string())].into(),
        options: Default::default(),
    }
}

#[test]
fn the_shape_ignores_the_name_and_sees_every_create_time_setting() {
    let pool = Shape::of(&spec("slot"), "1.0");
    assert_eq!(Shape::of(&spec("api"), "1.0"), pool);
    assert_eq!(Shape::of(&spec("api"), "1.0").hash(), pool.hash());
    assert_eq!(mismatch(&spec("api"), "1.0", &pool), None);

    let mut s = spec("api");
    s.profile = "python".into();
    s.options.env = vec![("MODE".into(), "dev".into())];
    let why = mismatch(&s, "1.0", &pool).unwrap();
    assert!(why.starts_with("no warm workspace matches: "), "{why}");
    assert!(
        why.contains("profile python (warm ones have general)"),
        "{why}"
    );
    assert!(why.contains("env MODE=dev (warm ones have none)"), "{why}");
    assert!(why.ends_with("creating it cold"), "{why}");

    // Pass-through names come from the claimer's environment: a claim records
    // them in the workspace, so they never keep a slot from matching.
    let mut s = spec("api");
    s.options.secrets = vec!["OPENAI_API_KEY".into()];
    assert_eq!(mismatch(&s, "1.0", &pool), None);
    let mut s = spec("api");
    s.clone_url = Some("https://example.com/r.git".into());
    assert!(mismatch(&s, "1.0", &pool).unwrap().contains("workdir"));
    let mut s = spec("api");
    s.extra_labels.clear();
    assert!(mismatch(&s, "1.0", &pool)
        .unwrap()
        .contains("berth.test-run"));
    // Another berth version made them: not the same.
    assert_ne!(Shape::of(&spec("api"), "2.0").hash(), pool.hash());
}

#[test]
fn sidecar_and_name_bound_options_are_never_pooled() {
    let pool = Shape::of(&spec("slot"), "1.0");
    let mut s = spec("api");
    s.options.docker = true;
    assert!(mismatch(&s, "1.0", &pool).unwrap().contains("--docker"));
    let mut s = spec("api");
    s.options.net_profile = NetProfile::Proxy;
    assert!(mismatch(&s, "1.0", &pool).unwrap().contains("proxy"));
    let mut s = spec("api");
    s.options.forward.ssh = true;
    assert!(unpoolable(&s).unwrap().contains("ssh-agent"));
    let mut s = spec("api");
    s.thread = Some("t".into());
    assert!(unpoolable(&s).is_some());
    let mut s = spec("api");
    s.options.provider = crate::domain::vm::Provider::Vm;
    assert!(mismatch(&s, "1.0", &pool).unwrap().contains("VM"));
}

#[test]
fn a_pool_born_container_is_named_by_its_container_name_once_claimed() {
    let mut l: BTreeMap<String, String> =
        [(labels::NAME.to_string(), "pool.general.a1".to_string())].into();
    assert_eq!(
        workspace_name(&l, "/workspace-x").as_deref(),
        Some("pool.general.a1")
    );
    l.insert(POOL.into(), "general".into());
    assert_eq!(
        workspace_name(&l, "/berth-pool.general.a1").as_deref(),
        Some("pool.general.a1")
    );
    assert_eq!(workspace_name(&l, "/workspace-api").as_deref(), Some("api"));
    // Not a workspace container name (a sidecar's): the slot name stays.
    assert_eq!(
        workspace_name(&l, "workspace-api.docker").as_deref(),
        Some("pool.general.a1")
    );
    l.remove(labels::NAME);
    assert_eq!(workspace_name(&l, "workspace-api"), None);
}

#[test]
fn slot_and_claim_plans_split_the_cold_plan() {
    let mut s = spec("api");
    s.options.setup = vec!["make".into()];
    s.options.forward.git = true;
    s.post_start = Some("echo hi".into());
    let cold = plan(&s);
    let slot = slot_plan(&s);
    let claim = claim_plan(&s);
    assert_eq!(slot.first(), Some(&Step::Volume));
    assert!(slot.contains(&Step::Profile) && slot.contains(&Step::Ssh));
    assert!(!slot.contains(&Step::Commit) && !slot.contains(&Step::PinHostKey));
    assert!(!slot.contains(&Step::Keys) && claim.contains(&Step::Keys));
    assert_eq!(claim.last(), Some(&Step::Commit));
    for s in [
        Step::PinHostKey,
        Step::Env,
        Step::Secrets,
        Step::Git,
        Step::PostStart("echo hi".into()),
    ] {
        assert!(claim.contains(&s), "{s:?}");
    }
    assert!(!claim.contains(&Step::Container) && !claim.contains(&Step::Port));
    // Every cold step is in exactly one of them.
    for step in &cold {
        assert!(slot.contains(step) != claim.contains(step), "{step:?}");
    }
}

fn slot(c: &str, profile: &str, created: i64) -> SlotView {
    SlotView {
        container: c.into(),
        profile: profile.into(),
        shape: "s1".into(),
        image_id: "i1".into(),
        ready: true,
        healthy: true,
        created,
    }
}

fn want(profile: &str, size: usize) -> PoolWant {
    PoolWant {
        profile: profile.into(),
        size,
        shape: Some("s1".into()),
        image_id: Some("i1".into()),
    }
}

#[test]
fn refill_tops_up_and_removes_what_no_pool_wants() {
    let p = plan_refill(&[want("general", 2)], &[]);
    assert_eq!(p.make["general"], 2);
    assert!(p.remove.is_empty());
    // Full: nothing to do (idempotent).
    let full = [slot("a", "general", 1), slot("b", "general", 2)];
    assert_eq!(
        plan_refill(&[want("general", 2)], &full),
        RefillPlan::default()
    );
    // Size lowered: the newest goes.
    let p = plan_refill(&[want("general", 1)], &full);
    assert_eq!(p.remove.len(), 1);
    assert_eq!(p.remove[0].0, "b");
    assert!(p.make.is_empty());
    // Pool dropped, options changed, image rebuilt, broken, unfinished.
    let mut stale = slot("c", "general", 3);
    stale.shape = "old".into();
    let mut rebuilt = slot("d", "general", 4);
    rebuilt.image_id = "old".into();
    let mut broken = slot("e", "general", 5);
    broken.healthy = false;
    let mut unfinished = slot("f", "general", 6);
    unfinished.ready = false;
    let slots = [slot("a", "python", 1), stale, rebuilt, broken, unfinished];
    let p = plan_refill(&[want("general", 1)], &slots);
    let why: BTreeMap<_, _> = p.remove.iter().cloned().collect();
    assert!(why["a"].contains("no pool of profile python"));
    assert!(why["c"].contains("options"));
    assert!(why["d"].contains("image"));
    assert!(why["e"].contains("sshd"));
    assert!(why["f"].contains("never finished"));
    assert_eq!(p.make["general"], 1);
    // A pool whose slots cannot be made makes none (and its old slots go).
    let mut w = want("general", 2);
    w.shape = None;
    let p = plan_refill(&[w], &[slot("a", "general", 1)]);
    assert!(p.make.is_empty());
    assert_eq!(p.remove.len(), 1);
}
