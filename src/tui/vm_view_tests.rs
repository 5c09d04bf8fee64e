//! VM workspaces in the TUI: the PROVIDER column in the list (only when a VM is
//! listed) and the provider line with the tcg warning in the status pane.
use super::agents_view_tests::text;
use super::state::State;
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::Event;
use crate::domain::vm::{ACCEL_LABEL, PROVIDER_LABEL};
use crate::domain::workspace::WorkspaceState;

fn with(list: Vec<crate::domain::workspace::Workspace>) -> State {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = (120, 30);
    s.now = 10_000;
    update(
        &mut s,
        Msg::Backend(Event::Connected {
            endpoint: "unix:///run/docker.sock".into(),
        }),
    );
    update(&mut s, Msg::Backend(Event::Workspaces(list)));
    s
}

fn vm(name: &str, port: u16) -> crate::domain::workspace::Workspace {
    let mut w = ws(name, WorkspaceState::Running, port);
    w.labels.insert(PROVIDER_LABEL.into(), "vm".into());
    w.labels.insert(ACCEL_LABEL.into(), "tcg".into());
    w
}

#[test]
fn a_vm_brings_the_provider_column_and_its_status_says_tcg() {
    let s = with(vec![
        vm("box", 2201),
        ws("web", WorkspaceState::Running, 2202),
    ]);
    let t = text(&s);
    assert!(
        t.contains("PROVIDER") && t.contains("vm/tcg") && t.contains("container"),
        "{t}"
    );
    assert!(
        t.contains("vm (QEMU microVM, accel tcg)") && t.contains("accel tcg: the VM"),
        "{t}"
    );
    insta::assert_snapshot!("vm_list_and_status", t);
}

#[test]
fn containers_alone_have_no_provider_column() {
    let t = text(&with(vec![ws("web", WorkspaceState::Running, 2202)]));
    assert!(!t.contains("PROVIDER") && !t.contains("QEMU"), "{t}");
}
