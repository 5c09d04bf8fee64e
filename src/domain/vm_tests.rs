use super::*;
use proptest::prelude::*;

fn pvm_host() -> HostVirt {
    HostVirt {
        dev_kvm: true,
        hw_module: None,
        other_modules: vec!["kvm_pvm".into()],
    }
}

fn vmx_host() -> HostVirt {
    HostVirt {
        dev_kvm: true,
        hw_module: Some("kvm_intel".into()),
        other_modules: vec![],
    }
}

#[test]
fn kvm_is_refused_where_there_is_no_vmx_or_svm_with_the_reason() {
    let e = choose_accel(AccelChoice::Only(Accel::Kvm), &pvm_host()).unwrap_err();
    assert!(e.contains("kvm_pvm"), "{e}");
    assert!(e.contains("--accel tcg"), "{e}");
    assert_eq!(choose_accel(AccelChoice::Auto, &pvm_host()), Ok(Accel::Tcg));
    assert_eq!(
        choose_accel(AccelChoice::Only(Accel::Tcg), &vmx_host()),
        Ok(Accel::Tcg)
    );
    assert_eq!(choose_accel(AccelChoice::Auto, &vmx_host()), Ok(Accel::Kvm));
}

#[test]
fn kvm_needs_dev_kvm_open_too() {
    let h = HostVirt {
        dev_kvm: false,
        ..vmx_host()
    };
    let e = choose_accel(AccelChoice::Only(Accel::Kvm), &h).unwrap_err();
    assert!(e.contains("kvm group"), "{e}");
}

#[test]
fn only_tcg_warns() {
    assert!(Accel::Tcg.warning().unwrap().contains("slower"));
    assert!(Accel::Kvm.warning().is_none());
}

#[test]
fn profiles_a_vm_cannot_have_are_refused_with_what_to_use() {
    assert_eq!(net_for(NetProfile::Open), Ok(VmNet::Open));
    assert_eq!(net_for(NetProfile::Offline), Ok(VmNet::Offline));
    for p in [NetProfile::Isolated, NetProfile::Proxy] {
        let e = net_for(p).unwrap_err();
        assert!(e.contains("--net-profile open"), "{e}");
    }
}

#[test]
fn providers_parse_and_default_to_containers() {
    assert_eq!(Provider::parse("VM"), Ok(Provider::Vm));
    assert!(Provider::parse("firecracker")
        .unwrap_err()
        .contains("container or vm"));
    assert_eq!(Provider::from_label(None), Provider::Container);
    assert_eq!(Provider::from_label(Some("vm")), Provider::Vm);
    assert_eq!(AccelChoice::parse("auto"), Ok(AccelChoice::Auto));
    assert!(AccelChoice::parse("hvf").is_err());
}

#[test]
fn disk_sizes() {
    assert_eq!(parse_disk("20g"), Ok(20 << 30));
    assert_eq!(parse_disk("512MiB"), Ok(512 << 20));
    assert_eq!(parse_disk("1T"), Ok(1 << 40));
    assert!(parse_disk("10m").unwrap_err().contains("at least"));
    assert!(parse_disk("ten").is_err());
    assert!(parse_disk("5x").unwrap_err().contains("unit"));
    assert!(parse_disk("99999999999t")
        .unwrap_err()
        .contains("too large"));
}

#[test]
fn resources_have_defaults_and_a_floor() {
    assert_eq!(shape_resources(None, None), Ok((DEFAULT_MEM_MIB, 1)));
    assert_eq!(shape_resources(Some(4 << 30), Some(1.5)), Ok((4096, 2)));
    assert!(shape_resources(Some(64 << 20), None).is_err());
}

proptest! {
    #[test]
    fn disk_sizes_round_trip_in_mib(n in 256u64..1_000_000) {
        prop_assert_eq!(parse_disk(&format!("{n}m")), Ok(n << 20));
    }

    #[test]
    fn kvm_is_chosen_only_where_usable(dev in any::<bool>(), hw in any::<bool>(), want_kvm in any::<bool>()) {
        let h = HostVirt { dev_kvm: dev, hw_module: hw.then(|| "kvm_amd".to_string()), other_modules: vec![] };
        let choice = if want_kvm { AccelChoice::Only(Accel::Kvm) } else { AccelChoice::Auto };
        match choose_accel(choice, &h) {
            Ok(Accel::Kvm) => prop_assert!(dev && hw),
            Ok(Accel::Tcg) => prop_assert!(!(want_kvm || dev && hw)),
            Err(_) => prop_assert!(want_kvm && !(dev && hw)),
        }
    }
}
