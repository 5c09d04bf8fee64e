//! VM workspaces (`--provider vm`) against the real engine and real QEMU (TCG on
//! machines without VMX/SVM, as CI's): created, ssh and exec, a home that
//! survives stop/start and a killed QEMU, the console as its log, the PROVIDER
//! in list and the accelerator in status, delete leaving nothing; refusals with
//! their reasons; a VM and a container created at once get distinct ports; an
//! offline VM reaches nothing, an open one reaches the test's own listener on
//! the host's loopback (10.0.2.2 from the guest).
//!
//! Ports 4240-4299 (each test its own part). The VM tests take turns
//! (`common::vm::turn`): each guest is an emulated CPU on a small machine. Every
//! QEMU a test starts is gone when it ends (the sandbox deletes its VMs through
//! berth, then kills any left by the pids under its state directory).
mod common;
use common::vm::{self, host_has_kvm, listed, live_pid, machine_dir, wait_state};
use common::*;
use std::net::TcpListener;
use std::process::Stdio;

/// The file every VM test writes in the home and reads back.
const DATA: &str = "kept-across-power-cycles";

fn create_vm(sb: &Sandbox, name: &str, net: &str) -> serde_json::Value {
    sb.create_ok(
        name,
        &["--provider", "vm", "--net-profile", net, "--disk", "1g"],
    )
}

fn read_data(sb: &Sandbox, name: &str) -> String {
    sb.ok(&["exec", name, "--", "cat", "/home/workspace/data.txt"])
        .trim()
        .to_string()
}

/// Asks the guest to connect to `port` on the host's loopback (10.0.2.2 in
/// QEMU's user-mode network) and says whether the test's listener got it.
fn guest_reaches_host(sb: &Sandbox, name: &str, listener: &TcpListener, port: u16) -> bool {
    let script = format!("timeout 10 bash -c 'echo hello > /dev/tcp/10.0.2.2/{port}'");
    let o = sb.berth(&["exec", name, "--", "sh", "-c", &script]);
    let said_ok = o.status.success();
    listener.set_nonblocking(true).expect("nonblocking");
    let accepted = listener.accept().is_ok();
    assert_eq!(
        said_ok,
        accepted,
        "the guest's connect said {said_ok} but the listener saw {accepted}: {}",
        stderr(&o)
    );
    accepted
}

#[test]
fn a_vm_workspace_lives_like_a_container_one() {
    let _turn = vm::turn();
    let Some(sb) = Sandbox::new("vmlife", (4240, 4249)) else {
        return;
    };
    let name = sb.name("v");
    let created = create_vm(&sb, &name, "open");
    assert_eq!(created["name"], name.as_str(), "{created}");
    let dir = machine_dir(&sb, &name).expect("its machine directory under <state>/vm/machines");
    let pid = live_pid(&dir).expect("its qemu runs");

    // ssh (berth's pinned host key, the sandbox's key) and exec both reach the guest,
    // which runs its own kernel.
    let uname_host = String::from_utf8_lossy(
        &std::process::Command::new("uname")
            .arg("-r")
            .output()
            .expect("uname")
            .stdout,
    )
    .trim()
    .to_string();
    let via_ssh = sb.ok(&["ssh", &name, "--", "uname", "-r"]);
    assert!(!via_ssh.trim().is_empty());
    assert_ne!(via_ssh.trim(), uname_host, "the guest has its own kernel");
    assert_eq!(
        sb.ok(&["exec", &name, "--", "id", "-un"]).trim(),
        "workspace"
    );
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        &format!("echo {DATA} > /home/workspace/data.txt && sync"),
    ]);

    // Its log is the console.
    let logs = sb.ok(&["logs", &name]);
    assert!(
        logs.contains("berth-init:"),
        "console lines in logs:\n{logs}"
    );

    // Listed with its provider (table and JSON); status says the accelerator.
    let w = listed(&sb, &name).expect("listed");
    assert_eq!(w["provider"], "vm", "{w}");
    assert_eq!(w["state"], "running", "{w}");
    let table = sb.ok(&["list"]);
    assert!(table.contains("PROVIDER"), "{table}");
    let row = table
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("{name} in:\n{table}"));
    // The PROVIDER cell: vm/<accel>.
    assert!(
        row.split_whitespace().any(|c| c.starts_with("vm/")),
        "{row}"
    );
    let status = sb.ok(&["status", &name]);
    let accel = if host_has_kvm() { "kvm" } else { "tcg" };
    assert_eq!(w["accel"], accel, "{w}");
    if host_has_kvm() {
        assert!(status.contains("accel kvm"), "{status}");
    } else {
        assert!(status.contains("accel tcg"), "{status}");
        assert!(
            status.contains("no hardware assist"),
            "tcg's warning:\n{status}"
        );
    }

    // An open VM reaches the host's loopback (here: this test's own listener).
    let listener = TcpListener::bind("127.0.0.1:4299").expect("listener on 4299");
    assert!(
        guest_reaches_host(&sb, &name, &listener, 4299),
        "an open VM reaches out"
    );
    drop(listener);

    // stop is a clean power-off: the process ends, the home stays.
    sb.ok(&["stop", &name]);
    assert!(vm::wait_gone(pid, 60), "qemu {pid} still runs after stop");
    assert_eq!(listed(&sb, &name).expect("listed")["state"], "stopped");
    sb.ok(&["start", &name]);
    assert_eq!(read_data(&sb, &name), DATA, "the home survives stop/start");

    // Its qemu killed behind berth's back: shown stopped, disks intact; start
    // brings it back with the data.
    let pid = live_pid(&dir).expect("its qemu runs again");
    vm::kill(pid, "KILL");
    assert!(vm::wait_gone(pid, 30), "qemu {pid} survived SIGKILL");
    wait_state(&sb, &name, "stopped", 30);
    assert!(dir.join("root.qcow2").exists(), "its overlay is kept");
    sb.ok(&["start", &name]);
    assert_eq!(
        read_data(&sb, &name),
        DATA,
        "the home survives a killed qemu"
    );

    // delete removes the process and its disks: nothing left under <state>/vm.
    let pid = live_pid(&dir).expect("running before delete");
    sb.ok(&["delete", &name, "--yes"]);
    assert!(vm::wait_gone(pid, 30), "qemu {pid} outlived delete");
    assert!(listed(&sb, &name).is_none());
    assert_eq!(vm::machine_dirs(&sb), Vec::<std::path::PathBuf>::new());
    assert_eq!(vm::home_dirs(&sb), Vec::<std::path::PathBuf>::new());
}

#[test]
fn refusals_say_why_and_leave_nothing() {
    let _turn = vm::turn();
    let Some(sb) = Sandbox::new("vmrefuse", (4270, 4279)) else {
        return;
    };
    let name = sb.name("r");
    // The default profile (isolated) cannot be given to a VM: said, with what to use.
    let o = sb.create(&name, &["--provider", "vm"]);
    assert_refused(&o, "isolated");
    assert!(stderr(&o).contains("--net-profile open"), "{}", stderr(&o));
    let o = sb.create(&name, &["--provider", "vm", "--net-profile", "proxy"]);
    assert_refused(&o, "--net-profile open or offline");
    // --accel kvm where the host has no VMX/SVM: refused with the reason.
    if host_has_kvm() {
        eprintln!("NOTE: this host has hardware KVM; the --accel kvm refusal is not checked here");
    } else {
        let o = sb.create(
            &name,
            &[
                "--provider",
                "vm",
                "--net-profile",
                "open",
                "--accel",
                "kvm",
            ],
        );
        assert_refused(&o, "--accel kvm cannot be used");
        assert!(
            stderr(&o).contains("kvm_intel nor kvm_amd"),
            "the reason:\n{}",
            stderr(&o)
        );
    }
    assert!(listed(&sb, &name).is_none());
    assert!(!sb.container_exists(&name));
    assert!(vm::machine_dirs(&sb).is_empty() && vm::home_dirs(&sb).is_empty());
}

#[test]
fn vm_and_container_at_once_get_distinct_ports_and_offline_reaches_nothing() {
    let _turn = vm::turn();
    let Some(sb) = Sandbox::new("vmports", (4250, 4259)) else {
        return;
    };
    let (v, c) = (sb.name("v"), sb.name("c"));
    let key = format!("{}.pub", sb.key().display());
    let spawn = |name: &str, extra: &[&str]| {
        let mut args = vec!["create", name, "--ssh-key", key.as_str()];
        args.extend_from_slice(extra);
        sb.cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn berth create")
    };
    let vm_child = spawn(
        &v,
        &[
            "--provider",
            "vm",
            "--net-profile",
            "offline",
            "--disk",
            "1g",
        ],
    );
    let ct_child = spawn(&c, &[]);
    let (vo, co) = (
        vm_child.wait_with_output().expect("vm create"),
        ct_child.wait_with_output().expect("container create"),
    );
    assert!(vo.status.success(), "vm create: {}", stderr(&vo));
    assert!(co.status.success(), "container create: {}", stderr(&co));
    let (wv, wc) = (
        listed(&sb, &v).expect("vm listed"),
        listed(&sb, &c).expect("container listed"),
    );
    assert_eq!(wv["provider"], "vm", "{wv}");
    assert_eq!(wc["provider"], "container", "{wc}");
    let (pv, pc) = (wv["ssh_port"].as_u64(), wc["ssh_port"].as_u64());
    assert!(pv.is_some() && pc.is_some(), "{wv} {wc}");
    assert_ne!(pv, pc, "a VM and a container created at once share a port");
    for p in [pv, pc].into_iter().flatten() {
        assert!((4250..=4259).contains(&p), "port {p} outside the range");
    }

    // Offline: exec works (over the forwarded ssh port), nothing goes out.
    assert_eq!(sb.ok(&["exec", &v, "--", "echo", "in"]).trim(), "in");
    let listener = TcpListener::bind("127.0.0.1:4298").expect("listener on 4298");
    assert!(
        !guest_reaches_host(&sb, &v, &listener, 4298),
        "an offline VM reached the host"
    );
    sb.ok(&["delete", &v, "--yes"]);
    sb.ok(&["delete", &c, "--yes"]);
    assert!(vm::live_pids(&sb).is_empty());
}
