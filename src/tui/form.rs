//! The create form: one-line text fields with inline validation using the same
//! rules as the CLI, and choice fields (profile, passthrough mode) cycled with
//! ←/→. The last choices are remembered (see `form_memory`).
use super::form_memory::FormChoices;
use crate::backend::service::CreateSpec;
use crate::domain::naming::WorkspaceName;
use ratatui_textarea::TextArea;

/// berth's own profiles, in the order the form offers them.
pub const PROFILES: [&str; 7] = [
    "general", "python", "node", "rust", "go", "clean", "try-repo",
];
/// Passthrough modes; "default" leaves it to the profile and the config.
pub const PASSTHROUGH: [&str; 4] = ["default", "auto", "all", "none"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Profile,
    Passthrough,
    Dotfiles,
    Image,
    Clone,
    Thread,
    PostStart,
    /// Where it runs (only when berth knows several engines; not in `ALL`).
    Engine,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Name,
        Field::Profile,
        Field::Passthrough,
        Field::Dotfiles,
        Field::Image,
        Field::Clone,
        Field::Thread,
        Field::PostStart,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Profile => "Profile",
            Field::Passthrough => "Env pass",
            Field::Dotfiles => "Dotfiles",
            Field::Image => "Image",
            Field::Clone => "Clone URL",
            Field::Thread => "Thread id",
            Field::PostStart => "Post-start",
            Field::Engine => "Engine",
        }
    }
    pub fn hint(self) -> &'static str {
        match self {
            Field::Name => "empty: a readable name is made up",
            Field::Profile => "←/→ to choose; try-repo picks from the clone",
            Field::Passthrough => "←/→: host variables passed through as secrets",
            Field::Dotfiles => "optional: a dotfiles repository URL",
            Field::Image => "empty: the configured image",
            Field::Clone => "optional: cloned into ~/repo",
            Field::Thread => "optional: reuse this thread's workspace",
            Field::PostStart => "optional: run with /bin/sh -lc",
            Field::Engine => "←/→: the engine it runs on",
        }
    }
    /// Chosen from a list with ←/→ rather than typed.
    pub fn is_choice(self) -> bool {
        matches!(self, Field::Profile | Field::Passthrough | Field::Engine)
    }
}

pub struct CreateForm {
    pub fields: Vec<(Field, TextArea<'static>)>,
    pub focus: usize,
    /// Names that already exist (checked inline).
    pub taken: Vec<String>,
    /// Shown after a refused submit.
    pub submitted: bool,
    /// The profiles offered (berth's, then a remembered or configured one of the user's).
    pub profiles: Vec<String>,
    /// The engines offered (several engines only; the first preselected).
    pub engines: Vec<String>,
    /// (engine, name) of the workspaces that exist, for the name check on the
    /// chosen engine (several engines only).
    pub taken_on: Vec<(String, String)>,
}

impl CreateForm {
    /// `choices`: the last ones (or the config's profile), preselected.
    pub fn new(taken: Vec<String>, default_image: &str, choices: &FormChoices) -> Self {
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
        let mut profiles: Vec<String> = PROFILES.iter().map(|p| p.to_string()).collect();
        if let Some(p) = &choices.profile {
            if !profiles.contains(p) && WorkspaceName::parse(p).is_ok() {
                profiles.push(p.clone());
            }
        }
        let mut form = Self {
            fields,
            focus: 0,
            taken,
            submitted: false,
            profiles,
            engines: Vec::new(),
            taken_on: Vec::new(),
        };
        let profile = choices.profile.as_deref().unwrap_or(PROFILES[0]);
        let profile = if form.profiles.iter().any(|p| p == profile) {
            profile
        } else {
            PROFILES[0]
        };
        form.set(Field::Profile, profile);
        let pass = choices
            .passthrough
            .as_deref()
            .filter(|p| PASSTHROUGH.contains(p))
            .unwrap_or(PASSTHROUGH[0]);
        form.set(Field::Passthrough, pass);
        if let Some(d) = &choices.dotfiles {
            form.set(Field::Dotfiles, d);
        }
        form
    }

    /// Adds the engine field (last), offering `engines`, the first preselected;
    /// names are then checked against `taken_on` on the chosen engine.
    pub fn with_engines(mut self, engines: Vec<String>, taken_on: Vec<(String, String)>) -> Self {
        let first = engines.first().cloned().unwrap_or_default();
        self.fields.push((Field::Engine, TextArea::default()));
        self.engines = engines;
        self.taken_on = taken_on;
        self.set(Field::Engine, &first);
        self
    }

    /// The engine chosen (`None`: the form has no engine field).
    pub fn engine(&self) -> Option<String> {
        (!self.engines.is_empty()).then(|| self.value(Field::Engine))
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

    /// The options of a choice field.
    pub fn options(&self, f: Field) -> Vec<String> {
        match f {
            Field::Profile => self.profiles.clone(),
            Field::Passthrough => PASSTHROUGH.iter().map(|p| p.to_string()).collect(),
            Field::Engine => self.engines.clone(),
            _ => vec![],
        }
    }

    /// Moves the focused choice field `step` options on (wrapping); no-op on text.
    pub fn cycle(&mut self, step: isize) {
        let f = self.focused();
        let opts = self.options(f);
        if opts.is_empty() {
            return;
        }
        let cur = self.value(f);
        let i = opts.iter().position(|o| *o == cur).unwrap_or(0) as isize;
        let n = opts.len() as isize;
        let next = opts[(i + step).rem_euclid(n) as usize].clone();
        self.set(f, &next);
    }

    /// The problem with a field's current value, if any.
    pub fn error(&self, f: Field) -> Option<String> {
        let v = self.value(f);
        match f {
            Field::Name if v.is_empty() => None,
            Field::Name => match WorkspaceName::parse(&v) {
                Err(e) => Some(e.to_string()),
                Ok(n) => match self.engine() {
                    Some(e)
                        if self
                            .taken_on
                            .iter()
                            .any(|(te, t)| *te == e && t == n.as_str()) =>
                    {
                        Some(format!("workspace {n} already exists on engine {e}"))
                    }
                    Some(_) => None,
                    None if self.taken.iter().any(|t| t == n.as_str()) => {
                        Some(format!("workspace {n} already exists"))
                    }
                    None => None,
                },
            },
            Field::Profile if v == "try-repo" && self.value(Field::Clone).is_empty() => {
                Some("try-repo needs a Clone URL to pick the profile from".into())
            }
            Field::Profile | Field::Passthrough | Field::Engine => None,
            Field::Dotfiles | Field::Image | Field::Clone | Field::Thread => v
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

    /// The choices to remember for the next form.
    pub fn choices(&self) -> FormChoices {
        let opt = |f| Some(self.value(f)).filter(|v| !v.is_empty());
        FormChoices {
            profile: opt(Field::Profile),
            passthrough: opt(Field::Passthrough).filter(|p| p != PASSTHROUGH[0]),
            dotfiles: opt(Field::Dotfiles),
        }
        .safe()
    }

    /// The spec to create, or None while a field is invalid.
    pub fn spec(&self) -> Option<CreateSpec> {
        if !self.errors().is_empty() {
            return None;
        }
        let opt = |f| Some(self.value(f)).filter(|v| !v.is_empty());
        let mut spec = CreateSpec {
            name: self.value(Field::Name),
            image: opt(Field::Image),
            clone_url: opt(Field::Clone),
            thread: opt(Field::Thread),
            post_start: opt(Field::PostStart),
            profile: opt(Field::Profile),
            env_passthrough: opt(Field::Passthrough).filter(|p| p != PASSTHROUGH[0]),
            ..Default::default()
        };
        spec.dotfiles.url = opt(Field::Dotfiles);
        Some(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_the_cli() {
        let mut f = CreateForm::new(vec!["taken".into()], "img", &FormChoices::default());
        // No name: one is made up.
        assert_eq!(f.error(Field::Name), None);
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
        // The defaults: the first profile, passthrough left to profile and config.
        assert_eq!(s.profile.as_deref(), Some("general"));
        assert_eq!(s.env_passthrough, None);
        assert_eq!(s.dotfiles.url, None);
    }

    #[test]
    fn choices_cycle_and_reach_the_spec() {
        let mut f = CreateForm::new(vec![], "img", &FormChoices::default());
        f.next();
        assert_eq!(f.focused(), Field::Profile);
        f.cycle(1);
        assert_eq!(f.value(Field::Profile), "python");
        f.cycle(-2);
        assert_eq!(f.value(Field::Profile), "try-repo");
        assert!(f.error(Field::Profile).unwrap().contains("Clone URL"));
        f.set(Field::Clone, "git://h/r.git");
        assert_eq!(f.error(Field::Profile), None);
        f.next();
        f.cycle(1);
        f.cycle(1);
        assert_eq!(f.value(Field::Passthrough), "all");
        f.set(Field::Dotfiles, "https://h/dots.git");
        let s = f.spec().unwrap();
        assert_eq!(s.profile.as_deref(), Some("try-repo"));
        assert_eq!(s.env_passthrough.as_deref(), Some("all"));
        assert_eq!(s.dotfiles.url.as_deref(), Some("https://h/dots.git"));
        assert_eq!(
            f.choices(),
            FormChoices {
                profile: Some("try-repo".into()),
                passthrough: Some("all".into()),
                dotfiles: Some("https://h/dots.git".into()),
            }
        );
        // A text field does not cycle.
        f.focus = 0;
        f.cycle(1);
        assert_eq!(f.value(Field::Name), "");
    }

    #[test]
    fn remembered_choices_are_preselected() {
        let c = FormChoices {
            profile: Some("mine".into()),
            passthrough: Some("none".into()),
            dotfiles: Some("git@h:me/dots".into()),
        };
        let f = CreateForm::new(vec![], "img", &c);
        assert_eq!(f.value(Field::Profile), "mine");
        assert!(f.profiles.contains(&"mine".to_string()));
        assert_eq!(f.value(Field::Passthrough), "none");
        assert_eq!(f.value(Field::Dotfiles), "git@h:me/dots");
        assert_eq!(f.choices(), c);
        // Something odd remembered falls back to the defaults.
        let odd = FormChoices {
            profile: Some("Not A Profile".into()),
            passthrough: Some("sometimes".into()),
            dotfiles: None,
        };
        let f = CreateForm::new(vec![], "img", &odd);
        assert_eq!(f.value(Field::Profile), "general");
        assert_eq!(f.value(Field::Passthrough), "default");
    }

    #[test]
    fn focus_cycles() {
        let mut f = CreateForm::new(vec![], "img", &FormChoices::default());
        f.prev();
        assert_eq!(f.focused(), Field::PostStart);
        f.next();
        f.next();
        assert_eq!(f.focused(), Field::Profile);
    }
}
