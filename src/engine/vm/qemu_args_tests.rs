use super::*;
use crate::domain::vm::VmShape;
use std::collections::BTreeMap;

fn rec(accel: Accel, net: VmNet) -> VmRecord {
    VmRecord {
        id: "0123456789ab".into(),
        container: "workspace-a".into(),
        hostname: "a".into(),
        volume: "workspace-a".into(),
        image: "berth/workspace:latest".into(),
        image_id: "sha256:ff".into(),
        labels: BTreeMap::new(),
        env: vec![],
        created: 0,
        ssh_port: 2201,
        ports: vec![(8080, 80)],
        bind_address: "127.0.0.1".parse().unwrap(),
        shape: VmShape {
            accel,
            mem_mib: 512,
            cpus: 2,
            disk_bytes: 1 << 30,
            net,
        },
        authorized_key: "ssh-ed25519 AAAAC3Nza+/= berth@host".into(),
        workdir: None,
        host_key_pub: String::new(),
    }
}

fn files() -> MachineFiles {
    MachineFiles {
        dir: "/s/vm/machines/0123456789ab".into(),
        home_disk: "/s/vm/homes/workspace-a/home.ext4".into(),
        kernel: "/c/kernel/6.1/boot/vmlinuz".into(),
        initrd: "/c/initrd-1.gz".into(),
    }
}

fn after<'a>(a: &'a [String], flag: &str) -> Vec<&'a str> {
    a.windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1].as_str())
        .collect()
}

#[test]
fn tcg_follows_the_recipe_with_the_tsc_rate() {
    let a = qemu_args(&rec(Accel::Tcg, VmNet::Open), &files(), Some(2_100_000)).unwrap();
    assert_eq!(after(&a, "-accel"), ["tcg,tb-size=64"]);
    assert_eq!(after(&a, "-cpu"), ["max"]);
    assert_eq!(after(&a, "-M"), ["microvm,isa-serial=on,rtc=on"]);
    let cmdline = after(&a, "-append")[0];
    assert!(cmdline.contains("tsc_early_khz=2100000"), "{cmdline}");
    assert!(
        cmdline.contains("berth.authkey=ssh-ed25519,AAAAC3Nza+/="),
        "{cmdline}"
    );
    assert!(!cmdline.contains("berth@host"), "no comment: {cmdline}");
    assert!(cmdline.contains("berth.hostname=a"));
}

#[test]
fn kvm_uses_the_host_cpu_and_no_tsc_hint() {
    let a = qemu_args(&rec(Accel::Kvm, VmNet::Open), &files(), Some(2_100_000)).unwrap();
    assert_eq!(after(&a, "-accel"), ["kvm"]);
    assert_eq!(after(&a, "-cpu"), ["host"]);
    assert!(after(&a, "-M")[0].contains("pit=off,pic=off"));
    assert!(!after(&a, "-append")[0].contains("tsc_early_khz"));
}

#[test]
fn size_name_and_daemon() {
    let a = qemu_args(&rec(Accel::Tcg, VmNet::Open), &files(), None).unwrap();
    assert_eq!(after(&a, "-smp"), ["2"]);
    assert_eq!(after(&a, "-m"), ["512"]);
    assert_eq!(after(&a, "-name"), ["berth-vm-0123456789ab"]);
    assert_eq!(
        after(&a, "-pidfile"),
        ["/s/vm/machines/0123456789ab/qemu.pid"]
    );
    assert!(a.iter().any(|x| x == "-daemonize"));
    assert!(a.iter().any(|x| x == "-no-reboot"));
}

#[test]
fn forwards_ssh_and_ports_and_restricts_offline() {
    let open = qemu_args(&rec(Accel::Tcg, VmNet::Open), &files(), None).unwrap();
    let net = after(&open, "-netdev")[0];
    assert_eq!(
        net,
        "user,id=n0,hostfwd=tcp:127.0.0.1:2201-:2222,hostfwd=tcp:127.0.0.1:8080-:80"
    );
    let off = qemu_args(&rec(Accel::Tcg, VmNet::Offline), &files(), None).unwrap();
    assert!(after(&off, "-netdev")[0].starts_with("user,id=n0,restrict=on,hostfwd="));
    let mut v6 = rec(Accel::Tcg, VmNet::Open);
    v6.bind_address = "::1".parse().unwrap();
    v6.ports.clear();
    let a = qemu_args(&v6, &files(), None).unwrap();
    assert_eq!(
        after(&a, "-netdev")[0],
        "user,id=n0,hostfwd=tcp:[::1]:2201-:2222"
    );
}

#[test]
fn console_appends_and_sockets_are_servers() {
    let a = qemu_args(&rec(Accel::Tcg, VmNet::Open), &files(), None).unwrap();
    let ch = after(&a, "-chardev");
    assert!(ch.contains(&"file,id=con,path=/s/vm/machines/0123456789ab/console.log,append=on"));
    assert!(
        ch.contains(&"socket,id=ctl,path=/s/vm/machines/0123456789ab/ctl.sock,server=on,wait=off")
    );
    assert!(
        ch.contains(&"socket,id=qmp,path=/s/vm/machines/0123456789ab/qmp.sock,server=on,wait=off")
    );
    assert_eq!(after(&a, "-serial"), ["chardev:con"]);
    assert!(after(&a, "-device").contains(&"virtserialport,chardev=ctl,name=berth.ctl"));
    assert_eq!(after(&a, "-mon"), ["chardev=qmp,mode=control"]);
}

#[test]
fn long_socket_paths_and_commas_are_refused_with_what_to_do() {
    let mut f = files();
    f.dir = PathBuf::from(format!("/{}", "d".repeat(100)));
    let e = qemu_args(&rec(Accel::Tcg, VmNet::Open), &f, None).unwrap_err();
    assert!(e.contains("longer than unix sockets allow"), "{e}");
    assert!(e.contains("XDG_STATE_HOME"), "{e}");
    let mut f = files();
    f.kernel = "/a,b/vmlinuz".into();
    let e = qemu_args(&rec(Accel::Tcg, VmNet::Open), &f, None).unwrap_err();
    assert!(e.contains("comma"), "{e}");
}

#[test]
fn bad_keys_and_hostnames_are_refused() {
    assert!(authkey_param("ssh-ed25519").is_err());
    assert!(authkey_param("ssh-ed25519 AA\"AA").is_err());
    assert_eq!(
        authkey_param("ssh-ed25519 AAAA c").unwrap(),
        "ssh-ed25519,AAAA"
    );
    let mut r = rec(Accel::Tcg, VmNet::Open);
    r.hostname = "a b".into();
    assert!(kernel_cmdline(&r, None).is_err());
}

#[test]
fn qemu_errors_are_read() {
    let e = "qemu-system-x86_64: -netdev user,id=n0,hostfwd=tcp:127.0.0.1:2201-:2222: Could not set up host forwarding rule 'tcp:127.0.0.1:2201-:2222'\n";
    assert_eq!(
        classify_start_error(e),
        StartFailure::PortTaken("tcp:127.0.0.1:2201-:2222".into())
    );
    assert!(matches!(
        classify_start_error("Could not access KVM kernel module: No such file\nqemu-system-x86_64: failed to initialize kvm"),
        StartFailure::NoKvm(_)
    ));
    assert!(matches!(
        classify_start_error("boom"),
        StartFailure::Other(_)
    ));
}
