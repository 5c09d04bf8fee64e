use super::*;

fn all_there() -> VmFacts {
    VmFacts {
        qemu: Some("QEMU emulator version 7.2.19".into()),
        qemu_img: true,
        mkfs_ext4: true,
        missing_tools: vec![],
        busybox_static: Some(true),
        kernel_cached: true,
        apt_get: true,
        cache: PathBuf::from("/c/berth/vm"),
        virt: Some(HostVirt {
            dev_kvm: true,
            hw_module: Some("kvm_intel".into()),
            other_modules: vec![],
        }),
        state_free: Some(50 << 30),
        cache_free: Some(50 << 30),
        root: true,
    }
}

fn status_of<'a>(v: &'a [Check], name: &str) -> &'a Check {
    v.iter().find(|c| c.check == format!("vm: {name}")).unwrap()
}

#[test]
fn a_ready_host_is_all_ok() {
    let v = checks_from(&all_there());
    assert!(v.iter().all(|c| c.status == Status::Ok), "{v:?}");
    assert!(status_of(&v, "qemu").detail.contains("7.2"));
}

#[test]
fn what_is_missing_is_a_warning_naming_the_package_never_a_failure() {
    let f = VmFacts {
        qemu: None,
        qemu_img: false,
        mkfs_ext4: false,
        busybox_static: Some(false),
        kernel_cached: false,
        virt: Some(HostVirt {
            dev_kvm: true,
            hw_module: None,
            other_modules: vec!["kvm_pvm".into()],
        }),
        state_free: Some(1 << 30),
        root: false,
        missing_tools: vec!["cpio", "depmod", "modprobe"],
        ..all_there()
    };
    let v = checks_from(&f);
    assert!(v.iter().all(|c| c.status != Status::Fail), "{v:?}");
    for name in ["qemu", "qemu-img", "mkfs.ext4", "busybox"] {
        let c = status_of(&v, name);
        assert_eq!(c.status, Status::Warn, "{name}");
        assert!(c
            .fix
            .as_deref()
            .unwrap()
            .contains("qemu-system-x86 qemu-utils busybox-static e2fsprogs"));
    }
    assert!(status_of(&v, "mkfs.ext4").detail.contains("e2fsprogs"));
    // The rest a create needs (it refuses without them): one line, each package once.
    let t = status_of(&v, "tools");
    assert_eq!(t.status, Status::Warn);
    assert!(
        t.detail.contains("cpio, depmod, modprobe") && t.detail.contains("packages cpio kmod)"),
        "{t:?}"
    );
    assert!(t.fix.as_deref().unwrap().contains("cpio kmod"), "{t:?}");
    let accel = status_of(&v, "accel");
    assert!(
        accel.detail.contains("tcg only")
            && accel.detail.contains("kvm_pvm")
            && accel.detail.contains("slower"),
        "{accel:?}"
    );
    // Not cached but fetchable: said, not a warning.
    let k = status_of(&v, "kernel");
    assert!(
        k.status == Status::Ok && k.detail.contains("needs apt-get and the mirror"),
        "{k:?}"
    );
    assert_eq!(status_of(&v, "disk (state)").status, Status::Warn);
    assert_eq!(status_of(&v, "disk (cache)").status, Status::Ok);
    assert!(status_of(&v, "root").detail.contains("needs root"));
}

#[test]
fn static_and_dynamic_elf_files_are_told_apart() {
    // A 64-bit little-endian ELF header with one program header at 0x40.
    let elf = |kind: u32| {
        let mut b = vec![0u8; 0x40 + 56];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        b[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes());
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        b[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        b[0x40..0x44].copy_from_slice(&kind.to_le_bytes());
        b
    };
    assert_eq!(elf_is_static(&elf(1)), Some(true));
    assert_eq!(elf_is_static(&elf(3)), Some(false));
    assert_eq!(elf_is_static(b"#!/bin/sh\n"), None);
    assert_eq!(elf_is_static(&elf(3)[..0x41]), None);
    // The real one here, when installed.
    if let Ok(b) = std::fs::read(BUSYBOX) {
        assert!(elf_is_static(&b).is_some());
    }
}
