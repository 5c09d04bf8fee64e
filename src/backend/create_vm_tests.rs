//! A VM create end to end over the in-memory engine (which records `spec.vm`):
//! the plan without a volume step, the shape and labels, the refusals before
//! anything is made, and a failed VM create removing the home disk it made.
use super::create::{create, CreateError, CreateOutcome, CreateRequest, CreateSpec};
use super::create_tests::rig;
use super::{Ctx, Progress};
use crate::domain::vm::{HostVirt, Provider, VmNet, ACCEL_LABEL, PROVIDER_LABEL, VM_RUNTIME};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

fn no_hw() -> HostVirt {
    HostVirt {
        dev_kvm: true,
        hw_module: None,
        other_modules: vec!["kvm_pvm".into()],
    }
}

fn hw() -> HostVirt {
    HostVirt {
        dev_kvm: true,
        hw_module: Some("kvm_intel".into()),
        other_modules: vec![],
    }
}

fn vm_spec(name: &str) -> CreateSpec {
    CreateSpec {
        name: name.into(),
        provider: Some("vm".into()),
        net_profile: Some("open".into()),
        ..Default::default()
    }
}

fn request(ctx: &Ctx, s: CreateSpec) -> CreateRequest {
    CreateRequest {
        spec: super::create::workspace_spec(&ctx.config, s, []).unwrap(),
        keys: vec![],
        identities: vec![],
        name_generated: false,
        restore: None,
    }
}

/// The create's outcome and every progress event it reported.
async fn run(ctx: &Ctx, s: CreateSpec) -> (Result<CreateOutcome, CreateError>, Vec<Progress>) {
    let seen = Mutex::new(Vec::new());
    let (_tx, rx) = watch::channel(false);
    let r = create(ctx, request(ctx, s), &|p| seen.lock().unwrap().push(p), rx).await;
    (r, seen.into_inner().unwrap())
}

fn notes(seen: &[Progress]) -> Vec<String> {
    seen.iter()
        .filter_map(|p| match p {
            Progress::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_vm_create_makes_a_labelled_vm_with_its_shape_and_no_volume_step() {
    let mut r = rig((47110, 47111), Duration::ZERO);
    r.ctx.host_virt = no_hw;
    let mut s = vm_spec("box");
    s.disk = Some("2g".into());
    s.memory = Some("512m".into());
    let (out, seen) = run(&r.ctx, s).await;
    let w = match out {
        Ok(CreateOutcome::Created(w)) => w,
        other => panic!("{other:?}"),
    };
    assert_eq!(w.provider(), Provider::Vm);
    assert_eq!(w.labels[PROVIDER_LABEL], "vm");
    assert_eq!(w.labels[ACCEL_LABEL], "tcg");
    assert!(w.provision.is_ready(), "{:?}", w.provision);
    assert!(w.ssh_port.is_some());
    let steps: Vec<String> = seen
        .iter()
        .filter_map(|p| match p {
            Progress::StepStarted { label, .. } => Some(label.clone()),
            _ => None,
        })
        .collect();
    assert!(!steps.iter().any(|l| l == "volume"), "{steps:?}");
    assert_eq!(steps.first().map(String::as_str), Some("ssh port"));
    let n = notes(&seen);
    assert!(
        n.iter()
            .any(|l| l.contains("provider: vm (QEMU microVM, accel tcg)") && l.contains("kvm_pvm")),
        "{n:?}"
    );
    assert!(n.iter().any(|l| l.starts_with("accel tcg:")), "{n:?}");
    let x = r.engine.extras("workspace-box").unwrap();
    let shape = x.vm.expect("made as a VM");
    assert_eq!(
        (shape.mem_mib, shape.disk_bytes, shape.net),
        (512, 2 << 30, VmNet::Open)
    );
    assert_eq!(x.network, None);
    assert_eq!(w.runtime.as_deref(), Some(VM_RUNTIME));
    // Its home disk carries the workspace's labels.
    let home = r.engine.volume_labels("workspace-box").unwrap();
    assert_eq!(home.get(PROVIDER_LABEL).map(String::as_str), Some("vm"));
}

#[tokio::test(start_paused = true)]
async fn kvm_is_taken_where_the_host_has_it_and_refused_with_the_reason_where_not() {
    let mut r = rig((47112, 47113), Duration::ZERO);
    r.ctx.host_virt = hw;
    let (out, _) = run(&r.ctx, vm_spec("fast")).await;
    let Ok(CreateOutcome::Created(w)) = out else {
        panic!("{out:?}")
    };
    assert_eq!(w.labels[ACCEL_LABEL], "kvm");
    r.ctx.host_virt = no_hw;
    let mut s = vm_spec("slow");
    s.accel = Some("kvm".into());
    let (out, _) = run(&r.ctx, s).await;
    let Err(CreateError::Refused(e)) = out else {
        panic!("{out:?}")
    };
    assert!(
        e.contains("--accel kvm cannot be used") && e.contains("kvm_pvm"),
        "{e}"
    );
    assert!(r.engine.extras("workspace-slow").is_none());
    assert!(r.engine.volume_labels("workspace-slow").is_none());
}

#[tokio::test(start_paused = true)]
async fn refusals_come_before_anything_is_made() {
    let mut r = rig((47114, 47115), Duration::ZERO);
    r.ctx.host_virt = no_hw;
    let cases: Vec<(CreateSpec, &str)> = vec![
        (
            CreateSpec {
                net_profile: None,
                ..vm_spec("a")
            },
            "needs --net-profile open or offline, not isolated",
        ),
        (
            CreateSpec {
                docker: true,
                ..vm_spec("a")
            },
            "--docker",
        ),
        (
            CreateSpec {
                provider: None,
                disk: Some("5g".into()),
                ..vm_spec("a")
            },
            "--disk is for a VM workspace",
        ),
    ];
    for (s, want) in cases {
        let (out, _) = run(&r.ctx, s).await;
        let Err(CreateError::Refused(e)) = out else {
            panic!("{out:?}")
        };
        assert!(e.contains(want), "{want}: {e}");
        assert!(r.engine.extras("workspace-a").is_none());
        assert!(r.engine.volume_labels("workspace-a").is_none());
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_vm_create_removes_the_home_disk_it_made() {
    let mut r = rig((47116, 47117), Duration::ZERO);
    r.ctx.host_virt = no_hw;
    let mut s = vm_spec("fails");
    s.post_start = Some("exit 3".into());
    r.engine.set_exec_handler(|c: &crate::engine::memory::ExecCall| {
        let cmd = c.cmd.join(" ");
        crate::engine::memory::ExecReply {
            exit_code: if cmd.contains("exit 3") { 3 } else { 0 },
            stdout: if cmd.contains("ssh_host") {
                b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm h\n"
                    .to_vec()
            } else {
                vec![]
            },
            ..Default::default()
        }
    });
    let (out, _) = run(&r.ctx, s).await;
    assert!(
        matches!(out, Err(CreateError::StepFailed { .. })),
        "{out:?}"
    );
    assert!(r.engine.extras("workspace-fails").is_none());
    assert!(r.engine.volume_labels("workspace-fails").is_none());
}

#[test]
fn the_provider_comes_from_the_flag_over_the_profile_over_the_config() {
    use crate::config::Config;
    use crate::domain::profiles::parse;
    let mut config = Config::parse("provider = \"vm\"\n", "c.toml").unwrap();
    assert_eq!(config.provider, Provider::Vm);
    assert!(config.to_toml().contains("provider = \"vm\"\n"));
    let e = Config::parse("\nprovider = \"qemu\"\n", "c.toml").unwrap_err();
    assert!(
        e.to_string().contains("c.toml: line 2") && e.to_string().contains("pick container or vm"),
        "{e}"
    );
    config
        .profiles
        .insert(parse("boxed", "provider = \"container\"\n", "/p/boxed.toml").unwrap());
    let e = parse("bad", "provider = \"vmm\"\n", "/p/bad.toml").unwrap_err();
    assert!(e.to_string().contains("provider: unknown provider"), "{e}");
    let spec = |profile: &str, flag: Option<&str>| {
        let s = CreateSpec {
            name: "w".into(),
            profile: Some(profile.into()),
            provider: flag.map(String::from),
            ..Default::default()
        };
        super::create::workspace_spec(&config, s, [])
            .unwrap()
            .options
            .provider
    };
    assert_eq!(spec("general", None), Provider::Vm);
    assert_eq!(spec("boxed", None), Provider::Container);
    assert_eq!(spec("boxed", Some("vm")), Provider::Vm);
    assert_eq!(spec("general", Some("container")), Provider::Container);
    let bad = CreateSpec {
        name: "w".into(),
        accel: Some("hvf".into()),
        ..Default::default()
    };
    let e = super::create::workspace_spec(&config, bad, []).unwrap_err();
    assert!(
        e.to_string().contains("--accel") && e.to_string().contains("auto, kvm or tcg"),
        "{e}"
    );
}

/// A home kept by `delete --keep-volume` belongs to its provider: a VM's home
/// disk is no Docker volume (a container create would get an empty volume of
/// that name, and its delete would remove the VM's disk), and a container's
/// volume is no home disk. Either is refused, saying what to do.
#[tokio::test(start_paused = true)]
async fn a_kept_home_of_the_other_provider_is_refused_not_silently_replaced() {
    let mut r = rig((47118, 47119), Duration::ZERO);
    r.ctx.host_virt = no_hw;
    let name = crate::domain::naming::WorkspaceName::parse("kept").unwrap();
    let (out, _) = run(&r.ctx, vm_spec("kept")).await;
    assert!(matches!(out, Ok(CreateOutcome::Created(_))), "{out:?}");
    super::lifecycle::delete(&r.ctx, &name, true).await.unwrap();
    let as_container = CreateSpec {
        name: "kept".into(),
        ..Default::default()
    };
    let (out, _) = run(&r.ctx, as_container).await;
    let Err(CreateError::Refused(e)) = out else {
        panic!("{out:?}")
    };
    assert!(
        e.contains("home disk workspace-kept") && e.contains("--provider vm"),
        "{e}"
    );
    assert!(r.engine.extras("workspace-kept").is_none());
    // The VM's home is still there, and a VM create reuses it.
    let (out, _) = run(&r.ctx, vm_spec("kept")).await;
    assert!(matches!(out, Ok(CreateOutcome::Created(_))), "{out:?}");
    super::lifecycle::delete(&r.ctx, &name, false)
        .await
        .unwrap();

    // The other way round: a container's kept volume and a VM create.
    let c = CreateSpec {
        name: "kept".into(),
        ..Default::default()
    };
    let (out, _) = run(&r.ctx, c).await;
    assert!(matches!(out, Ok(CreateOutcome::Created(_))), "{out:?}");
    super::lifecycle::delete(&r.ctx, &name, true).await.unwrap();
    let (out, _) = run(&r.ctx, vm_spec("kept")).await;
    let Err(CreateError::Refused(e)) = out else {
        panic!("{out:?}")
    };
    assert!(
        e.contains("volume workspace-kept") && e.contains("--provider container"),
        "{e}"
    );
    assert!(r.engine.extras("workspace-kept").is_none());
}

/// `--thread` reuses the thread's workspace only when it has the provider asked
/// for: never a container for a VM (or the other way round).
#[tokio::test(start_paused = true)]
async fn a_thread_never_reuses_a_workspace_of_the_other_provider() {
    let mut r = rig((47120, 47122), Duration::ZERO);
    r.ctx.host_virt = no_hw;
    let c = CreateSpec {
        name: "t-c".into(),
        thread: Some("th".into()),
        ..Default::default()
    };
    let (out, _) = run(&r.ctx, c).await;
    assert!(matches!(out, Ok(CreateOutcome::Created(_))), "{out:?}");
    let v = CreateSpec {
        thread: Some("th".into()),
        ..vm_spec("t-v")
    };
    let (out, _) = run(&r.ctx, v).await;
    let w = match out {
        Ok(CreateOutcome::Created(w)) => w,
        other => panic!("a VM was asked for: {other:?}"),
    };
    assert_eq!(w.provider(), Provider::Vm);
}
