//! Themes: semantic colour roles loaded from `themes/*.toml` (embedded presets,
//! plus user files in the config directory's `themes/`).
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Embedded presets, in the order `t` cycles through them.
pub const PRESETS: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// What a colour is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Fg,
    Bg,
    Dim,
    Accent,
    Border,
    BorderFocus,
    Title,
    SelectionFg,
    SelectionBg,
    Running,
    Stopped,
    Transitional,
    Error,
    Warning,
    Ok,
    BannerFg,
    BannerBg,
    Key,
    MatchFg,
    MatchBg,
}

const ROLES: &[(&str, Role)] = &[
    ("fg", Role::Fg),
    ("bg", Role::Bg),
    ("dim", Role::Dim),
    ("accent", Role::Accent),
    ("border", Role::Border),
    ("border_focus", Role::BorderFocus),
    ("title", Role::Title),
    ("selection_fg", Role::SelectionFg),
    ("selection_bg", Role::SelectionBg),
    ("running", Role::Running),
    ("stopped", Role::Stopped),
    ("transitional", Role::Transitional),
    ("error", Role::Error),
    ("warning", Role::Warning),
    ("ok", Role::Ok),
    ("banner_fg", Role::BannerFg),
    ("banner_bg", Role::BannerBg),
    ("key", Role::Key),
    ("match_fg", Role::MatchFg),
    ("match_bg", Role::MatchBg),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    colors: BTreeMap<Role, Color>,
    /// NO_COLOR: no colours at all; emphasis by modifiers only.
    pub no_color: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    name: Option<String>,
    colors: BTreeMap<String, toml::Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: line {line}: {msg}")]
pub struct ThemeError {
    pub file: String,
    pub line: usize,
    pub msg: String,
}

/// "#rrggbb", "#rgb", a colour name, an ANSI index, or "reset".
pub fn parse_color(s: &str) -> Option<Color> {
    let t = s.trim().to_ascii_lowercase();
    if let Some(hex) = t.strip_prefix('#') {
        // Byte offsets below are only valid for ASCII ("#éa" is 3 bytes of hex).
        if !hex.is_ascii() {
            return None;
        }
        let v = |i: usize, n: usize| u8::from_str_radix(&hex[i..i + n], 16).ok();
        return match hex.len() {
            6 => Some(Color::Rgb(v(0, 2)?, v(2, 2)?, v(4, 2)?)),
            3 => Some(Color::Rgb(v(0, 1)? * 17, v(1, 1)? * 17, v(2, 1)? * 17)),
            _ => None,
        };
    }
    if let Ok(i) = t.parse::<u8>() {
        return Some(Color::Indexed(i));
    }
    Some(match t.replace(['-', '_', ' '], "").as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return None,
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Theme {
    /// Parses a theme file. Every role must be given, so a theme never half-applies.
    pub fn parse(text: &str, file: &str) -> Result<Self, ThemeError> {
        let err = |line, msg: String| ThemeError {
            file: file.to_string(),
            line,
            msg,
        };
        let raw: RawTheme = toml::from_str(text).map_err(|e| {
            err(
                e.span().map_or(1, |s| line_of(text, s.start)),
                e.message().to_string(),
            )
        })?;
        let mut colors = BTreeMap::new();
        for (key, value) in &raw.colors {
            let line = line_of(text, value.span().start);
            let role = ROLES
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, r)| *r)
                .ok_or_else(|| {
                    let known: Vec<&str> = ROLES.iter().map(|(k, _)| *k).collect();
                    err(
                        line,
                        format!(
                            "unknown colour role `{key}`; known roles: {}",
                            known.join(", ")
                        ),
                    )
                })?;
            let c = parse_color(value.get_ref()).ok_or_else(|| {
                err(line, format!("colors.{key}: {:?} is not a colour (use \"#rrggbb\", a name like \"red\", 0-255, or \"reset\")", value.get_ref()))
            })?;
            colors.insert(role, c);
        }
        if let Some((missing, _)) = ROLES.iter().find(|(_, r)| !colors.contains_key(r)) {
            return Err(err(
                1,
                format!("colors.{missing} is missing; a theme sets every role"),
            ));
        }
        let name = raw.name.unwrap_or_else(|| {
            Path::new(file)
                .file_stem()
                .map_or("custom".into(), |s| s.to_string_lossy().to_string())
        });
        Ok(Self {
            name,
            colors,
            no_color: false,
        })
    }

    pub fn preset(name: &str) -> Option<Self> {
        PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, text)| Self::parse(text, &format!("themes/{n}.toml")).ok())
    }

    pub fn default_theme() -> Self {
        Self::preset("default").unwrap_or_else(|| Self {
            name: "default".into(),
            colors: BTreeMap::new(),
            no_color: false,
        })
    }

    pub fn color(&self, role: Role) -> Color {
        if self.no_color {
            return Color::Reset;
        }
        self.colors.get(&role).copied().unwrap_or(Color::Reset)
    }

    /// Foreground in `role` on the theme background.
    pub fn fg(&self, role: Role) -> Style {
        Style::default()
            .fg(self.color(role))
            .bg(self.color(Role::Bg))
    }

    pub fn base(&self) -> Style {
        self.fg(Role::Fg)
    }

    pub fn selection(&self) -> Style {
        if self.no_color {
            return Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        }
        Style::default()
            .fg(self.color(Role::SelectionFg))
            .bg(self.color(Role::SelectionBg))
            .add_modifier(Modifier::BOLD)
    }

    pub fn banner(&self) -> Style {
        if self.no_color {
            return Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        }
        Style::default()
            .fg(self.color(Role::BannerFg))
            .bg(self.color(Role::BannerBg))
            .add_modifier(Modifier::BOLD)
    }

    pub fn matched(&self) -> Style {
        if self.no_color {
            return Style::default().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED);
        }
        Style::default()
            .fg(self.color(Role::MatchFg))
            .bg(self.color(Role::MatchBg))
    }

    pub fn border(&self, focused: bool) -> Style {
        let s = self.fg(if focused {
            Role::BorderFocus
        } else {
            Role::Border
        });
        if focused {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }
}

/// Every theme a user can pick: the presets plus `<config dir>/themes/*.toml`.
/// Bad user files are skipped and reported.
pub fn available(user_dir: Option<&Path>) -> (Vec<Theme>, Vec<ThemeError>) {
    let mut themes: Vec<Theme> = PRESETS
        .iter()
        .filter_map(|(n, _)| Theme::preset(n))
        .collect();
    let mut errors = Vec::new();
    if let Some(dir) = user_dir {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for f in files {
            let shown = f.display().to_string();
            match std::fs::read_to_string(&f) {
                Ok(text) => match Theme::parse(&text, &shown) {
                    Ok(t) => {
                        themes.retain(|x| x.name != t.name);
                        themes.push(t);
                    }
                    Err(e) => errors.push(e),
                },
                Err(e) => errors.push(ThemeError {
                    file: shown,
                    line: 1,
                    msg: e.to_string(),
                }),
            }
        }
    }
    (themes, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_set_every_role() {
        for (n, text) in PRESETS {
            let t = Theme::parse(text, n).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.name, *n);
        }
    }

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("#ff0080"), Some(Color::Rgb(255, 0, 128)));
        assert_eq!(parse_color("#f08"), Some(Color::Rgb(255, 0, 136)));
        assert_eq!(parse_color("Light-Red"), Some(Color::LightRed));
        assert_eq!(parse_color("42"), Some(Color::Indexed(42)));
        assert_eq!(parse_color("reset"), Some(Color::Reset));
        assert_eq!(parse_color("#12345"), None);
        assert_eq!(parse_color("chartreuse"), None);
        assert_eq!(parse_color("#éa"), None);
        assert_eq!(parse_color("#ééé"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_colour_text_parses_or_is_refused_without_panicking(s in "\\PC{0,12}") {
            let _ = parse_color(&s);
            let _ = parse_color(&format!("#{s}"));
        }
    }

    #[test]
    fn a_theme_with_a_non_ascii_colour_is_an_error_not_a_panic() {
        let base = include_str!("../../themes/default.toml");
        let bad = base.replace("accent = \"#7aa2f7\"", "accent = \"#éa\"");
        let e = Theme::parse(&bad, "t.toml").unwrap_err();
        assert!(e.msg.contains("colors.accent"), "{e}");
    }

    #[test]
    fn bad_themes_say_file_line_and_field() {
        let base = include_str!("../../themes/default.toml");
        let bad = base.replace("accent = \"#7aa2f7\"", "accent = \"bluish\"");
        let e = Theme::parse(&bad, "themes/x.toml").unwrap_err();
        assert!(e.to_string().starts_with("themes/x.toml: line"), "{e}");
        assert!(
            e.msg.contains("colors.accent") && e.msg.contains("bluish"),
            "{e}"
        );
        assert_eq!(
            e.line,
            base.lines().position(|l| l.starts_with("accent")).unwrap() + 1
        );
        let unknown = format!("{base}sparkle = \"red\"\n");
        assert!(Theme::parse(&unknown, "t")
            .unwrap_err()
            .msg
            .contains("unknown colour role `sparkle`"));
        let missing = base.replace("key = \"#e0af68\"\n", "");
        assert!(Theme::parse(&missing, "t")
            .unwrap_err()
            .msg
            .contains("colors.key is missing"));
    }

    #[test]
    fn no_color_drops_colours_but_keeps_emphasis() {
        let mut t = Theme::default_theme();
        t.no_color = true;
        assert_eq!(t.color(Role::Running), Color::Reset);
        assert!(t.selection().add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn user_themes_override_and_bad_ones_are_reported() {
        let d = tempfile::tempdir().unwrap();
        let base = include_str!("../../themes/default.toml");
        std::fs::write(
            d.path().join("mine.toml"),
            base.replace("name = \"default\"", "name = \"mine\""),
        )
        .unwrap();
        std::fs::write(d.path().join("broken.toml"), "name = \n").unwrap();
        let (themes, errors) = available(Some(d.path()));
        assert!(themes.iter().any(|t| t.name == "mine"));
        assert_eq!(themes.len(), 4);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].file.ends_with("broken.toml"));
    }
}
