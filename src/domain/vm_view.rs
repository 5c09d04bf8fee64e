//! How a workspace's provider is shown (status, list, create, the TUI): read
//! from its labels (`PROVIDER_LABEL`, `ACCEL_LABEL`), pure.
use super::vm::{Accel, Provider, ACCEL_LABEL};
use super::workspace::Workspace;

/// A VM workspace's accelerator (`None`: a container, or a VM without the label).
pub fn accel(w: &Workspace) -> Option<Accel> {
    if w.provider() != Provider::Vm {
        return None;
    }
    w.labels.get(ACCEL_LABEL).and_then(|a| Accel::parse(a))
}

/// "container", or "vm (QEMU microVM, accel tcg)".
pub fn describe(w: &Workspace) -> String {
    match (w.provider(), accel(w)) {
        (Provider::Container, _) => Provider::Container.as_str().into(),
        (Provider::Vm, Some(a)) => format!("vm (QEMU microVM, accel {})", a.as_str()),
        (Provider::Vm, None) => "vm (QEMU microVM)".into(),
    }
}

/// The warning its accelerator carries (tcg), if any.
pub fn warning(w: &Workspace) -> Option<&'static str> {
    accel(w).and_then(Accel::warning)
}

/// Does the listing need a PROVIDER column (any of them a VM)?
pub fn any_vm(ws: &[Workspace]) -> bool {
    ws.iter().any(|w| w.provider() == Provider::Vm)
}

/// The PROVIDER cell: "vm/tcg", "vm/kvm", "container".
pub fn cell(w: &Workspace) -> String {
    match (w.provider(), accel(w)) {
        (Provider::Vm, Some(a)) => format!("vm/{}", a.as_str()),
        (p, _) => p.as_str().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vm::PROVIDER_LABEL;

    fn ws(labels: &[(&str, &str)]) -> Workspace {
        let mut w = crate::tui::update_tests::ws(
            "w",
            crate::domain::workspace::WorkspaceState::Running,
            2201,
        );
        for (k, v) in labels {
            w.labels.insert((*k).into(), (*v).into());
        }
        w
    }

    #[test]
    fn a_container_and_a_vm_are_described_from_their_labels() {
        let c = ws(&[]);
        assert_eq!(
            (describe(&c), cell(&c), warning(&c), accel(&c)),
            ("container".into(), "container".into(), None, None)
        );
        let v = ws(&[(PROVIDER_LABEL, "vm"), (ACCEL_LABEL, "tcg")]);
        assert_eq!(describe(&v), "vm (QEMU microVM, accel tcg)");
        assert_eq!(cell(&v), "vm/tcg");
        assert!(warning(&v).unwrap().contains("emulated"));
        let k = ws(&[(PROVIDER_LABEL, "vm"), (ACCEL_LABEL, "kvm")]);
        assert_eq!((cell(&k), warning(&k)), ("vm/kvm".into(), None));
        // An accel label on a container means nothing.
        assert_eq!(accel(&ws(&[(ACCEL_LABEL, "tcg")])), None);
        assert!(!any_vm(std::slice::from_ref(&c)) && any_vm(&[c, v]));
    }
}
