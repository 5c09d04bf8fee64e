//! Keys in the copy form: ←/→ (or space) on the direction turns it round, typing
//! edits a path, submit starts the copy as a backend job.
use super::copy_form::CopyField;
use super::keymap::Action;
use super::state::{Effect, Overlay, State};
use super::update::new_job;
use crate::backend::service::Command;
use crossterm::event::{KeyCode, KeyEvent};

pub(super) fn on_key(s: &mut State, action: Option<Action>, k: KeyEvent) -> Vec<Effect> {
    let Overlay::Copy(form) = &mut s.overlay else {
        return vec![];
    };
    match action {
        Some(Action::Cancel) => s.overlay = Overlay::None,
        Some(Action::NextField) => form.next(),
        Some(Action::PrevField) => form.prev(),
        Some(Action::Submit) => match form.request() {
            Some((src, dst)) => {
                let name = form.name.clone();
                s.overlay = Overlay::None;
                let job = new_job(s, "copy", &name);
                return vec![Effect::Backend(Command::Copy { job, src, dst })];
            }
            None => form.submitted = true,
        },
        _ if form.focused() == CopyField::Direction => {
            if matches!(k.code, KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')) {
                form.flip();
            }
        }
        _ => {
            if let Some(t) = form.focused_mut() {
                t.input(k);
            }
        }
    }
    vec![]
}
