use super::*;
use crate::domain::provision::Provision;
use crate::domain::workspace::WorkspaceState;
use chrono::TimeZone;
use proptest::prelude::*;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap()
}

fn ws(labels: &[(&str, &str)]) -> Workspace {
    Workspace {
        engine: String::new(),
        name: "api".into(),
        state: WorkspaceState::Running,
        ssh_port: Some(2201),
        image: "berth/workspace:latest".into(),
        container: "workspace-api".into(),
        container_id: "c1".into(),
        volume: "workspace-api".into(),
        thread: None,
        platform: None,
        profile: None,
        created: 0,
        started_at: None,
        runtime: Some("runsc".into()),
        memory_limit: None,
        pids_limit: None,
        cpus_limit: None,
        provision: Provision::Ready,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn names_follow_the_workspace_rules_and_default_to_a_utc_stamp() {
    assert_eq!(
        SnapshotName::parse("before-x").unwrap().as_str(),
        "before-x"
    );
    for bad in ["", "Rm", "1a", "a_b", &"a".repeat(64)] {
        let e = SnapshotName::parse(bad).unwrap_err().to_string();
        assert!(e.contains("not a valid snapshot name"), "{e}");
    }
    let w = WorkspaceName::parse("api").unwrap();
    let s = SnapshotName::default_for(&w, at());
    assert_eq!(s.as_str(), "api-20260304-050607");
    assert_eq!(s.image(), "berth/snapshot:api-20260304-050607");
    assert_eq!(s.volume(), "berth-snapshot-api-20260304-050607");
    assert_eq!(
        SnapshotName::for_fork(&w, at()).as_str(),
        "api-fork-20260304-050607"
    );
    assert_eq!(helper_name("v"), "berth-copy-v");
}

proptest! {
    #[test]
    fn default_names_are_always_valid(raw in "[a-z][a-z0-9-]{0,62}") {
        let w = WorkspaceName::parse(&raw).unwrap();
        for s in [SnapshotName::default_for(&w, at()), SnapshotName::for_fork(&w, at())] {
            prop_assert!(SnapshotName::parse(s.as_str()).is_ok(), "{}", s);
            prop_assert!(s.as_str().ends_with("20260304-050607"));
        }
    }
}

#[test]
fn a_snapshot_keeps_the_spec_labels_and_never_the_identity() {
    let w = ws(&[
        (labels::ROLE, labels::ROLE_WORKSPACE),
        (labels::NAME, "api"),
        (labels::SSH_PORT, "2201"),
        (labels::THREAD, "t-1"),
        (labels::CREATE, "tok"),
        (labels::PROFILE, "python"),
        (labels::FORWARD, "git,gh"),
        (labels::SECRETS, "OPENAI_API_KEY"),
        (labels::WORKDIR, "/home/workspace/repo"),
        (crate::domain::net_profile::LABEL, "offline"),
    ]);
    let snap = SnapshotName::parse("s1").unwrap();
    let extra = [("berth.test-run".to_string(), "r1".to_string())].into();
    let vol = snapshot_labels(&w, &snap, at(), &extra, "0.1.0");
    assert_eq!(vol[labels::ROLE], ROLE_SNAPSHOT);
    assert_eq!(vol[SNAPSHOT], "s1");
    assert_eq!(vol[SNAPSHOT_OF], "api");
    assert_eq!(vol[SNAPSHOT_CREATED], "2026-03-04T05:06:07Z");
    assert_eq!(vol[RUNTIME], "runsc");
    assert_eq!(vol["berth.test-run"], "r1");
    assert_eq!(vol[labels::PROFILE], "python");
    assert_eq!(vol[crate::domain::net_profile::LABEL], "offline");
    for k in [
        labels::NAME,
        labels::SSH_PORT,
        labels::THREAD,
        labels::CREATE,
    ] {
        assert!(!vol.contains_key(k), "{k}");
    }
    // The image drops nothing it cannot: the container's identity is emptied.
    let img = image_labels(&vol, &w.labels, 4096);
    assert_eq!(img[SNAPSHOT_HOME_BYTES], "4096");
    assert_eq!(img[labels::ROLE], ROLE_SNAPSHOT);
    for k in [
        labels::NAME,
        labels::SSH_PORT,
        labels::THREAD,
        labels::CREATE,
    ] {
        assert_eq!(img[k], "", "{k}");
    }
    // A restore's container inherits none of the snapshot's own labels.
    let own: BTreeMap<String, String> = [(labels::NAME.to_string(), "copy".to_string())].into();
    let r = restored_labels(own, "s1", &img);
    assert_eq!(r[labels::NAME], "copy");
    assert_eq!(r[RESTORED_FROM], "s1");
    assert_eq!(r[SNAPSHOT], "");
    assert_eq!(r[labels::THREAD], "");
    assert!(!r.contains_key("berth.test-run"));
}

#[test]
fn a_restore_gets_the_snapshots_spec_and_runs_nothing_a_create_would() {
    let l: BTreeMap<String, String> = [
        (labels::PROFILE, "node"),
        (labels::FORWARD, "gh,ssh"),
        (labels::SECRETS, "A_TOKEN,B_KEY"),
        (labels::WORKDIR, "/home/workspace/repo"),
        (RUNTIME, "runsc"),
        (labels::PLATFORM, "linux/amd64"),
        (crate::domain::net_profile::LABEL, "offline"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let snap = SnapshotName::parse("s1").unwrap();
    let name = WorkspaceName::parse("copy").unwrap();
    let s = restore_spec(name, &snap, &l, Resources::default(), None, BTreeMap::new());
    assert_eq!(s.image, "berth/snapshot:s1");
    assert_eq!(s.profile, "node");
    assert_eq!(s.runtime.as_deref(), Some("runsc"));
    assert_eq!(s.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(s.options.secrets, ["A_TOKEN", "B_KEY"]);
    assert!(s.options.forward.gh && s.options.forward.ssh && !s.options.forward.git);
    assert_eq!(s.options.workdir.as_deref(), Some("/home/workspace/repo"));
    use crate::domain::net_profile::NetProfile;
    assert_eq!(s.options.net_profile, NetProfile::Offline);
    assert!(s.clone_url.is_none() && s.post_start.is_none() && s.thread.is_none());
    assert!(s.options.dotfiles.is_empty() && s.options.setup.is_empty());
    // Empty labels (a snapshot's emptied ones) count as absent.
    let bare: BTreeMap<String, String> = [(labels::PROFILE.to_string(), String::new())].into();
    let s = restore_spec(
        WorkspaceName::parse("c").unwrap(),
        &snap,
        &bare,
        Resources::default(),
        Some("runc".into()),
        BTreeMap::new(),
    );
    assert_eq!(s.profile, DEFAULT_PROFILE);
    assert_eq!(s.options.forward, Forward::NONE);
    assert_eq!(s.runtime.as_deref(), Some("runc"));
    // A snapshot taken before profiles: the workspace was on the default bridge.
    assert_eq!(s.options.net_profile, NetProfile::Open);
}

#[test]
fn a_restore_keeps_the_proxy_profile_and_its_allowlist() {
    use crate::domain::net_profile::{self, NetProfile};
    use crate::domain::proxy::ALLOW_LABEL;
    let l: BTreeMap<String, String> = [
        (net_profile::LABEL, "proxy"),
        (ALLOW_LABEL, "a.test,.b.test"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let snap = SnapshotName::parse("s1").unwrap();
    let s = restore_spec(
        WorkspaceName::parse("c").unwrap(),
        &snap,
        &l,
        Resources::default(),
        None,
        BTreeMap::new(),
    );
    assert_eq!(s.options.net_profile, NetProfile::Proxy);
    assert_eq!(s.options.allow_domains, ["a.test", ".b.test"]);
    let plan = crate::domain::provision::restore_plan("s1", &s);
    assert!(plan.contains(&crate::domain::provision::Step::Proxy));
}

#[test]
fn sizes_read_well() {
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(999), "999 B");
    assert_eq!(human_bytes(4096), "4.1 KB");
    assert_eq!(human_bytes(1_073_741_824), "1.1 GB");
    assert_eq!(human_bytes(52_000_000), "52 MB");
    let mut i = SnapshotInfo {
        name: "s".into(),
        workspace: "w".into(),
        created: String::new(),
        image: None,
        volume: None,
        home_bytes: None,
        image_bytes: None,
        complete: false,
    };
    assert_eq!(i.size(), None);
    i.home_bytes = Some(10);
    i.image_bytes = Some(5);
    assert_eq!(i.size(), Some(15));
}
