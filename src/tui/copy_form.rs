//! The copy form (`berth cp` for the selected workspace): the direction, chosen
//! with ←/→, and the two paths, checked as you type with the command line's rules.
use crate::domain::copy::{parse, CopyRequest, Local};
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyField {
    Direction,
    From,
    To,
}

impl CopyField {
    pub const ALL: [CopyField; 3] = [CopyField::Direction, CopyField::From, CopyField::To];
}

/// The two directions, as the form shows them.
pub const INTO: &str = "host → workspace";
pub const OUT_OF: &str = "workspace → host";

pub struct CopyForm {
    /// The workspace copied to or from.
    pub name: String,
    /// Host to workspace (else workspace to host).
    pub into: bool,
    /// The source and destination paths (`From`, `To`), as typed.
    pub from: TextArea<'static>,
    pub to: TextArea<'static>,
    pub focus: usize,
    /// Shown after a refused submit.
    pub submitted: bool,
}

const HOST_HINT: &str = "a host path (absolute, or relative to where berth started)";
const WS_HINT: &str = "a workspace path (relative to /home/workspace; empty: the home)";

fn line(text: &str, hint: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_string()]);
    t.set_placeholder_text(hint);
    t
}

impl CopyForm {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            into: true,
            from: line("", HOST_HINT),
            to: line("", WS_HINT),
            focus: 1,
            submitted: false,
        }
    }

    pub fn focused(&self) -> CopyField {
        CopyField::ALL[self.focus]
    }

    pub fn label(&self, f: CopyField) -> String {
        match (f, self.into) {
            (CopyField::Direction, _) => "Direction".into(),
            (CopyField::From, true) => "From (host)".into(),
            (CopyField::From, false) => format!("From ({})", self.name),
            (CopyField::To, true) => format!("To ({})", self.name),
            (CopyField::To, false) => "To (host)".into(),
        }
    }

    pub fn direction(&self) -> &'static str {
        if self.into {
            INTO
        } else {
            OUT_OF
        }
    }

    /// The focused text field (`None` on the direction).
    pub fn focused_mut(&mut self) -> Option<&mut TextArea<'static>> {
        match self.focused() {
            CopyField::Direction => None,
            CopyField::From => Some(&mut self.from),
            CopyField::To => Some(&mut self.to),
        }
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % CopyField::ALL.len();
    }

    pub fn prev(&mut self) {
        self.focus = (self.focus + CopyField::ALL.len() - 1) % CopyField::ALL.len();
    }

    /// Turns the direction round; the paths swap with it, so each stays on its side.
    pub fn flip(&mut self) {
        self.into = !self.into;
        let (from, to) = (self.value(CopyField::From), self.value(CopyField::To));
        let (fh, th) = if self.into {
            (HOST_HINT, WS_HINT)
        } else {
            (WS_HINT, HOST_HINT)
        };
        self.from = line(&to, fh);
        self.to = line(&from, th);
    }

    pub fn value(&self, f: CopyField) -> String {
        match f {
            CopyField::Direction => self.direction().into(),
            CopyField::From => self.from.lines().join(""),
            CopyField::To => self.to.lines().join(""),
        }
    }

    /// Typed text for a path field (tests, pastes).
    pub fn set(&mut self, f: CopyField, text: &str) {
        let hint = |host: bool| if host { HOST_HINT } else { WS_HINT };
        match f {
            CopyField::Direction => {}
            CopyField::From => self.from = line(text, hint(self.into)),
            CopyField::To => self.to = line(text, hint(!self.into)),
        }
    }

    /// `SRC DST` as `berth cp` takes them.
    pub fn args(&self) -> (String, String) {
        let (from, to) = (self.value(CopyField::From), self.value(CopyField::To));
        if self.into {
            (from, format!("{}:{to}", self.name))
        } else {
            (format!("{}:{from}", self.name), to)
        }
    }

    /// The problem with a field, if any.
    pub fn error(&self, f: CopyField) -> Option<String> {
        // Only the host's side can be wrong: any workspace path is one to try.
        let host = match f {
            CopyField::Direction => return None,
            CopyField::From => self.into,
            CopyField::To => !self.into,
        };
        let v = self.value(f);
        if !host {
            return None;
        }
        if v.trim().is_empty() {
            return Some("a host path is needed".into());
        }
        if v == "-" {
            return Some("- (a tar on stdin or stdout) works on the command line only".into());
        }
        let (src, dst) = self.args();
        parse(&src, &dst).err().map(|e| e.to_string())
    }

    /// `(src, dst)` to copy, or `None` while a field has a problem.
    pub fn request(&self) -> Option<(String, String)> {
        if CopyField::ALL.iter().any(|f| self.error(*f).is_some()) {
            return None;
        }
        let (src, dst) = self.args();
        match parse(&src, &dst).ok()? {
            CopyRequest::In {
                from: Local::Stdio, ..
            }
            | CopyRequest::Out {
                to: Local::Stdio, ..
            } => None,
            _ => Some((src, dst)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_berth_cp_arguments() {
        let mut f = CopyForm::new("box");
        assert_eq!(f.focused(), CopyField::From);
        assert!(f.request().is_none(), "a host path is needed");
        f.set(CopyField::From, "/tmp/notes");
        assert_eq!(f.request(), Some(("/tmp/notes".into(), "box:".into())));
        f.set(CopyField::To, "docs/");
        assert_eq!(f.request(), Some(("/tmp/notes".into(), "box:docs/".into())));
        f.flip();
        assert_eq!(f.direction(), OUT_OF);
        assert_eq!(f.request(), Some(("box:docs/".into(), "/tmp/notes".into())));
        assert_eq!(f.label(CopyField::From), "From (box)");
        f.set(CopyField::To, "-");
        assert!(f
            .error(CopyField::To)
            .unwrap()
            .contains("command line only"));
        assert!(f.request().is_none());
        f.set(CopyField::To, "");
        assert_eq!(
            f.error(CopyField::To).as_deref(),
            Some("a host path is needed")
        );
        assert_eq!(f.error(CopyField::From), None);
    }

    #[test]
    fn focus_cycles_through_the_three_fields() {
        let mut f = CopyForm::new("box");
        f.next();
        assert_eq!(f.focused(), CopyField::To);
        f.next();
        assert_eq!(f.focused(), CopyField::Direction);
        assert!(f.focused_mut().is_none());
        f.prev();
        assert_eq!(f.focused(), CopyField::To);
    }
}
