//! The create form: one-line text fields with inline validation using the same
//! rules as the CLI.
use crate::backend::service::CreateSpec;
use crate::domain::naming::WorkspaceName;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Image,
    Clone,
    Thread,
    PostStart,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Name,
        Field::Image,
        Field::Clone,
        Field::Thread,
        Field::PostStart,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Image => "Image",
            Field::Clone => "Clone URL",
            Field::Thread => "Thread id",
            Field::PostStart => "Post-start",
        }
    }
    pub fn hint(self) -> &'static str {
        match self {
            Field::Name => "lowercase letters, digits, hyphens; starts with a letter",
            Field::Image => "empty: the configured image",
            Field::Clone => "optional: cloned into ~/repo",
            Field::Thread => "optional: reuse this thread's workspace",
            Field::PostStart => "optional: run with /bin/sh -lc",
        }
    }
}

pub struct CreateForm {
    pub fields: Vec<(Field, TextArea<'static>)>,
    pub focus: usize,
    /// Names that already exist (checked inline).
    pub taken: Vec<String>,
    /// Shown after a refused submit.
    pub submitted: bool,
}

impl CreateForm {
    pub fn new(taken: Vec<String>, default_image: &str) -> Self {
        let fields = Field::ALL
            .iter()
            .map(|f| {
                let mut t = TextArea::default();
                if *f == Field::Image {
                    t.set_placeholder_text(default_image);
                } else {
                    t.set_placeholder_text(f.hint());
                }
                (*f, t)
            })
            .collect();
        Self {
            fields,
            focus: 0,
            taken,
            submitted: false,
        }
    }

    pub fn value(&self, f: Field) -> String {
        self.fields
            .iter()
            .find(|(x, _)| *x == f)
            .map(|(_, t)| t.lines().join("").trim().to_string())
            .unwrap_or_default()
    }

    pub fn focused(&self) -> Field {
        self.fields[self.focus].0
    }

    pub fn focused_mut(&mut self) -> &mut TextArea<'static> {
        &mut self.fields[self.focus].1
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len();
    }

    pub fn prev(&mut self) {
        self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
    }

    /// Typed text for a field (pastes, tests).
    pub fn set(&mut self, f: Field, text: &str) {
        if let Some((_, t)) = self.fields.iter_mut().find(|(x, _)| *x == f) {
            *t = TextArea::new(vec![text.to_string()]);
        }
    }

    /// The problem with a field's current value, if any.
    pub fn error(&self, f: Field) -> Option<String> {
        let v = self.value(f);
        match f {
            Field::Name => match WorkspaceName::parse(&v) {
                Err(e) => Some(e.to_string()),
                Ok(n) if self.taken.iter().any(|t| t == n.as_str()) => {
                    Some(format!("workspace {n} already exists"))
                }
                Ok(_) => None,
            },
            Field::Image | Field::Clone | Field::Thread => v
                .chars()
                .any(char::is_whitespace)
                .then(|| format!("{} cannot contain spaces", f.label())),
            Field::PostStart => None,
        }
    }

    pub fn errors(&self) -> Vec<(Field, String)> {
        Field::ALL
            .iter()
            .filter_map(|f| self.error(*f).map(|e| (*f, e)))
            .collect()
    }

    /// The spec to create, or None while a field is invalid.
    pub fn spec(&self) -> Option<CreateSpec> {
        if !self.errors().is_empty() {
            return None;
        }
        let opt = |f| Some(self.value(f)).filter(|v| !v.is_empty());
        Some(CreateSpec {
            name: self.value(Field::Name),
            image: opt(Field::Image),
            clone_url: opt(Field::Clone),
            thread: opt(Field::Thread),
            post_start: opt(Field::PostStart),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_the_cli() {
        let mut f = CreateForm::new(vec!["taken".into()], "img");
        assert!(f.error(Field::Name).unwrap().contains("cannot be empty"));
        f.set(Field::Name, "Bad_Name");
        assert!(f
            .error(Field::Name)
            .unwrap()
            .contains("must start with a lowercase letter"));
        f.set(Field::Name, "taken");
        assert!(f.error(Field::Name).unwrap().contains("already exists"));
        f.set(Field::Name, "good-1");
        assert_eq!(f.error(Field::Name), None);
        f.set(Field::Clone, "has space");
        assert!(f.spec().is_none());
        f.set(Field::Clone, "git://h/r.git");
        f.set(Field::PostStart, "make setup && echo ok");
        let s = f.spec().unwrap();
        assert_eq!(s.name, "good-1");
        assert_eq!(s.image, None);
        assert_eq!(s.clone_url.as_deref(), Some("git://h/r.git"));
        assert_eq!(s.post_start.as_deref(), Some("make setup && echo ok"));
    }

    #[test]
    fn focus_cycles() {
        let mut f = CreateForm::new(vec![], "img");
        f.prev();
        assert_eq!(f.focused(), Field::PostStart);
        f.next();
        f.next();
        assert_eq!(f.focused(), Field::Image);
    }
}
