use super::*;
use crate::domain::create_options::parse_mount;
use crate::domain::naming::WorkspaceName;
use crate::domain::net_profile::NetProfile;
use crate::domain::resources::Resources;
use crate::domain::vm::Accel;

fn spec(provider: Provider) -> WorkspaceSpec {
    let mut s = WorkspaceSpec {
        name: WorkspaceName::parse("w").unwrap(),
        image: "i".into(),
        clone_url: None,
        thread: None,
        platform: None,
        profile: "general".into(),
        post_start: None,
        resources: Resources::default(),
        runtime: None,
        extra_labels: Default::default(),
        options: Default::default(),
    };
    s.options.provider = provider;
    s.options.net_profile = NetProfile::Open;
    s
}

#[test]
fn a_plain_vm_and_a_plain_container_pass() {
    assert_eq!(check(&spec(Provider::Vm), false), Ok(()));
    assert_eq!(check(&spec(Provider::Container), false), Ok(()));
    let mut s = spec(Provider::Vm);
    s.options.net_profile = NetProfile::Offline;
    s.options.accel = AccelChoice::Only(Accel::Tcg);
    s.options.disk = Some(1 << 30);
    assert_eq!(check(&s, false), Ok(()));
    assert_eq!(vm_net(&s), Ok(VmNet::Offline));
}

#[test]
fn vm_flags_on_a_container_are_refused() {
    let mut s = spec(Provider::Container);
    s.options.accel = AccelChoice::Only(Accel::Kvm);
    let e = check(&s, false).unwrap_err();
    assert!(
        e.contains("--accel kvm") && e.contains("--provider vm"),
        "{e}"
    );
    // `--accel auto` is what it would be anyway.
    s.options.accel = AccelChoice::Auto;
    assert_eq!(check(&s, false), Ok(()));
    s.options.disk = Some(1 << 30);
    let e = check(&s, false).unwrap_err();
    assert!(e.contains("--disk") && e.contains("--provider vm"), "{e}");
}

#[test]
fn what_a_vm_cannot_have_is_refused_with_what_to_do() {
    type Set = Box<dyn Fn(&mut WorkspaceSpec)>;
    let cases: Vec<(&str, Set)> = vec![
        ("--docker", Box::new(|s| s.options.docker = true)),
        (
            "--mount /src:/home/workspace/src",
            Box::new(|s| s.options.mounts = vec![parse_mount("/src:/home/workspace/src").unwrap()]),
        ),
        (
            "--runtime runsc",
            Box::new(|s| s.runtime = Some("runsc".into())),
        ),
        (
            "--platform linux/arm64",
            Box::new(|s| s.platform = Some("linux/arm64".into())),
        ),
        (
            "--network team",
            Box::new(|s| {
                s.options.networks = crate::domain::networks::parse_list(&["team".into()]).unwrap()
            }),
        ),
        ("--forward-ssh", Box::new(|s| s.options.forward.ssh = true)),
        (
            "--forward-logs",
            Box::new(|s| {
                s.options.forward_logs =
                    crate::domain::log_forward::Target::parse("/tmp/x.log").unwrap()
            }),
        ),
    ];
    for (flag, set) in cases {
        let mut s = spec(Provider::Vm);
        set(&mut s);
        let e = check(&s, false).unwrap_err();
        assert!(
            e.contains(flag) && e.contains("--provider vm") && e.contains("container"),
            "{flag}: {e}"
        );
        // The same on a container is not this check's business.
        s.options.provider = Provider::Container;
        assert_eq!(check(&s, false), Ok(()), "{flag}");
    }
    let e = check(&spec(Provider::Vm), true).unwrap_err();
    assert!(e.contains("snapshot"), "{e}");
}

#[test]
fn the_isolated_and_proxy_profiles_ask_for_open_or_offline() {
    for p in [NetProfile::Isolated, NetProfile::Proxy] {
        let mut s = spec(Provider::Vm);
        s.options.net_profile = p;
        let e = check(&s, false).unwrap_err();
        assert!(
            e.contains("needs --net-profile open or offline") && e.contains(&p.to_string()),
            "{e}"
        );
    }
}

#[test]
fn too_little_memory_for_a_guest_is_refused() {
    let mut s = spec(Provider::Vm);
    s.resources.memory_bytes = 128 << 20;
    let e = check(&s, false).unwrap_err();
    assert!(e.contains("--memory"), "{e}");
}

#[test]
fn a_vm_workspace_refuses_snapshots_and_services_with_what_to_do() {
    let mut w = crate::tui::update_tests::ws(
        "box",
        crate::domain::workspace::WorkspaceState::Running,
        2201,
    );
    assert_eq!(refuse_snapshot(&w), Ok(()));
    assert_eq!(refuse_service(&w), Ok(()));
    w.labels
        .insert(crate::domain::vm::PROVIDER_LABEL.into(), "vm".into());
    let e = refuse_snapshot(&w).unwrap_err();
    assert!(
        e.contains("workspace box is a VM") && e.contains("berth cp"),
        "{e}"
    );
    let e = refuse_service(&w).unwrap_err();
    assert!(
        e.contains("cannot have services") && e.contains("inside the VM"),
        "{e}"
    );
}

#[test]
fn a_vm_plan_has_no_volume_step_and_always_an_ssh_port() {
    use crate::domain::provision::{plan, publishes_ssh_port, Step};
    let mut s = spec(Provider::Vm);
    s.clone_url = Some("git://h/r".into());
    for profile in [NetProfile::Open, NetProfile::Offline] {
        s.options.net_profile = profile;
        let p = plan(&s);
        assert!(!p.contains(&Step::Volume), "{p:?}");
        assert_eq!(p.first(), Some(&Step::Port), "{profile}");
        assert!(p.contains(&Step::Container) && p.contains(&Step::Clone("git://h/r".into())));
        assert_eq!(p.last(), Some(&Step::Commit));
        assert!(publishes_ssh_port(&s));
    }
    // Everything else as for a container.
    s.options.net_profile = NetProfile::Open;
    let mut c = s.clone();
    c.options.provider = Provider::Container;
    assert_eq!(plan(&s)[..], plan(&c)[1..]);
    assert_eq!(plan(&c)[0], Step::Volume);
}
