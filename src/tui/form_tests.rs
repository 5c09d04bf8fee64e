//! The create form through update(): typed fields, choices, submit, remembered
//! choices. No I/O.
use super::state::{Effect, Overlay};
use super::update::{update, Msg};
use super::update_tests::{code, key, typed, with_list};
use crate::backend::service::Command;
use crate::domain::workspace::WorkspaceState;
use crossterm::event::KeyCode;

#[test]
fn create_form_validates_inline_and_submits() {
    let mut s = with_list(&[("taken", WorkspaceState::Running)]);
    update(&mut s, key('c'));
    assert!(matches!(s.overlay, Overlay::Form(_)));
    // Typed keys go to the field, even ones bound elsewhere (q, s, d).
    typed(&mut s, "taken");
    assert!(
        update(&mut s, code(KeyCode::Enter)).is_empty(),
        "an existing name is refused"
    );
    let Overlay::Form(f) = &s.overlay else {
        panic!()
    };
    assert!(f.submitted);
    for _ in 0..5 {
        update(&mut s, code(KeyCode::Backspace));
    }
    typed(&mut s, "qsd-1");
    // Profile: ←/→ choose, typed letters and pastes do nothing there.
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Right));
    typed(&mut s, "x");
    update(&mut s, Msg::Paste("nope".into()));
    // Passthrough: back from "default" wraps to "none".
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Left));
    update(&mut s, code(KeyCode::Tab));
    typed(&mut s, "https://h/dots.git");
    for _ in 0..2 {
        update(&mut s, code(KeyCode::Tab));
    }
    update(&mut s, Msg::Paste("git://h/r.git\n".into()));
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Tab));
    typed(&mut s, "make");
    let fx = update(&mut s, code(KeyCode::Enter));
    let [Effect::Backend(Command::Create { job: 1, spec }), Effect::RememberForm(choices)] =
        fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(spec.name, "qsd-1");
    assert_eq!(spec.clone_url.as_deref(), Some("git://h/r.git"));
    assert_eq!(spec.post_start.as_deref(), Some("make"));
    assert_eq!(spec.image, None);
    assert_eq!(spec.profile.as_deref(), Some("python"));
    assert_eq!(spec.env_passthrough.as_deref(), Some("none"));
    assert_eq!(spec.dotfiles.url.as_deref(), Some("https://h/dots.git"));
    assert_eq!(s.jobs[0].action, "create");
    // Remembered, and preselected by the next form.
    assert_eq!(choices.profile.as_deref(), Some("python"));
    assert_eq!(&s.form_choices, choices);
    update(&mut s, key('c'));
    let Overlay::Form(f) = &s.overlay else {
        panic!()
    };
    assert_eq!(f.value(crate::tui::form::Field::Profile), "python");
    assert_eq!(f.value(crate::tui::form::Field::Passthrough), "none");
    assert_eq!(
        f.value(crate::tui::form::Field::Dotfiles),
        "https://h/dots.git"
    );
    // The same choices again: nothing new to write.
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(
        fx.first(),
        Some(Effect::Backend(Command::Create { .. }))
    ));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::RememberForm(_))),
        "{fx:?}"
    );
}

#[test]
fn a_create_without_a_name_is_submitted_for_a_made_up_one() {
    let mut s = with_list(&[]);
    update(&mut s, key('c'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let Some(Effect::Backend(Command::Create { spec, .. })) = fx.first() else {
        panic!("{fx:?}")
    };
    assert_eq!(spec.name, "");
    assert_eq!(s.jobs[0].action, "create");
}

#[test]
fn copy_form_opens_for_the_selected_workspace_and_starts_a_copy_job() {
    let mut s = with_list(&[("box", WorkspaceState::Stopped)]);
    update(&mut s, key('C'));
    let Overlay::Copy(f) = &s.overlay else {
        panic!("no copy form")
    };
    assert_eq!(f.name, "box");
    // An empty host path is refused on submit; typed keys go to the path.
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    typed(&mut s, "/tmp/q s");
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, Msg::Paste("notes/\n".into()));
    // Turned round on the direction field: the paths swap sides.
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Right));
    let fx = update(&mut s, code(KeyCode::Enter));
    let [Effect::Backend(Command::Copy { job: 1, src, dst })] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!((src.as_str(), dst.as_str()), ("box:notes/", "/tmp/q s"));
    assert!(matches!(s.overlay, Overlay::None));
    assert_eq!(
        (s.jobs[0].action.as_str(), s.jobs[0].name.as_str()),
        ("copy", "box")
    );
    // Esc closes it; with nothing selected it does not open.
    update(&mut s, key('C'));
    update(&mut s, code(KeyCode::Esc));
    assert!(matches!(s.overlay, Overlay::None));
    let mut empty = with_list(&[]);
    update(&mut empty, key('C'));
    assert!(matches!(empty.overlay, Overlay::None));
}
