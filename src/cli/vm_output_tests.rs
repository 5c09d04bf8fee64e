//! The provider in `berth list`, `status` and `--json` (pure output).
use super::output::{details, table, workspace_json};
use crate::domain::vm::{ACCEL_LABEL, PROVIDER_LABEL};
use crate::domain::workspace::{Workspace, WorkspaceState};

fn vm(name: &str, accel: &str) -> Workspace {
    let mut w = crate::tui::update_tests::ws(name, WorkspaceState::Running, 2201);
    w.labels.insert(PROVIDER_LABEL.into(), "vm".into());
    w.labels.insert(ACCEL_LABEL.into(), accel.into());
    w
}

fn container(name: &str) -> Workspace {
    crate::tui::update_tests::ws(name, WorkspaceState::Running, 2202)
}

#[test]
fn the_list_has_a_provider_column_only_when_a_vm_is_listed() {
    let none = Default::default();
    let plain = table(&[container("web")], &none, &Default::default());
    assert!(!plain.contains("PROVIDER"), "{plain}");
    let mixed = table(
        &[container("web"), vm("box", "tcg")],
        &none,
        &Default::default(),
    );
    let lines: Vec<&str> = mixed.lines().collect();
    assert!(lines[0].starts_with("NAME  PROVIDER   STATE"), "{mixed}");
    assert!(lines[1].contains("web   container  running"), "{mixed}");
    assert!(lines[2].contains("box   vm/tcg     running"), "{mixed}");
}

#[test]
fn json_always_names_the_provider_and_a_vms_accel() {
    let c = workspace_json(&container("web"));
    assert_eq!(
        (c["provider"].as_str(), c["accel"].is_null()),
        (Some("container"), true)
    );
    let v = workspace_json(&vm("box", "tcg"));
    assert_eq!(
        (v["provider"].as_str(), v["accel"].as_str()),
        (Some("vm"), Some("tcg"))
    );
}

#[test]
fn status_says_the_provider_and_the_tcg_warning() {
    let d = details(&vm("box", "tcg"), "runc");
    assert!(
        d.contains("provider   vm (QEMU microVM, accel tcg)\n"),
        "{d}"
    );
    assert!(d.contains("warning    accel tcg: "), "{d}");
    let k = details(&vm("box", "kvm"), "runc");
    assert!(k.contains("accel kvm") && !k.contains("warning"), "{k}");
    let c = details(&container("web"), "runc");
    assert!(
        c.contains("provider   container\n") && !c.contains("warning"),
        "{c}"
    );
}
