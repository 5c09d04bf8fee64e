//! One key with modifiers as written in config files (`ctrl-c`, `G`, `pagedown`),
//! parsed, printed, and matched against crossterm's key events.
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// One key with modifiers, e.g. `ctrl-c`, `G`, `pagedown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Chord {
    pub code: KeyCodeKey,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// A comparable subset of crossterm's KeyCode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyCodeKey {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Home,
    End,
    PageUp,
    PageDown,
    Up,
    Down,
    Left,
    Right,
}

const NAMED: &[(&str, KeyCodeKey)] = &[
    ("enter", KeyCodeKey::Enter),
    ("esc", KeyCodeKey::Esc),
    ("tab", KeyCodeKey::Tab),
    ("backtab", KeyCodeKey::BackTab),
    ("backspace", KeyCodeKey::Backspace),
    ("delete", KeyCodeKey::Delete),
    ("insert", KeyCodeKey::Insert),
    ("home", KeyCodeKey::Home),
    ("end", KeyCodeKey::End),
    ("pageup", KeyCodeKey::PageUp),
    ("pagedown", KeyCodeKey::PageDown),
    ("up", KeyCodeKey::Up),
    ("down", KeyCodeKey::Down),
    ("left", KeyCodeKey::Left),
    ("right", KeyCodeKey::Right),
    ("space", KeyCodeKey::Char(' ')),
];

impl Chord {
    pub fn parse(s: &str) -> Option<Chord> {
        let mut c = Chord {
            code: KeyCodeKey::Esc,
            ctrl: false,
            alt: false,
            shift: false,
        };
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if lower.len() > 5 && lower.starts_with("ctrl-") {
                c.ctrl = true;
                rest = &rest[5..];
            } else if lower.len() > 4 && lower.starts_with("alt-") {
                c.alt = true;
                rest = &rest[4..];
            } else if lower.len() > 6 && lower.starts_with("shift-") {
                c.shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        c.code = if let Some((_, k)) = NAMED.iter().find(|(n, _)| *n == lower) {
            *k
        } else if let Some(n) = lower
            .strip_prefix('f')
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=12).contains(n))
        {
            KeyCodeKey::F(n)
        } else {
            let mut chars = rest.chars();
            let ch = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            if c.shift && ch.is_ascii_alphabetic() {
                c.shift = false;
                KeyCodeKey::Char(ch.to_ascii_uppercase())
            } else if c.ctrl {
                KeyCodeKey::Char(ch.to_ascii_lowercase())
            } else {
                KeyCodeKey::Char(ch)
            }
        };
        if c.shift && c.code == KeyCodeKey::Tab {
            c.shift = false;
            c.code = KeyCodeKey::BackTab;
        }
        Some(c)
    }

    /// The chord a key event is, normalised (shift is part of a typed character).
    pub fn from_event(k: &KeyEvent) -> Option<Chord> {
        let code = match k.code {
            // Terminals send ctrl-\\ ctrl-] ctrl-^ ctrl-_ as 0x1c-0x1f, which crossterm
            // reports as ctrl-4 .. ctrl-7.
            KeyCode::Char(ch) if k.modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCodeKey::Char(match ch {
                    '4' => '\\',
                    '5' => ']',
                    '6' => '^',
                    '7' => '_',
                    c => c.to_ascii_lowercase(),
                })
            }
            KeyCode::Char(ch) => KeyCodeKey::Char(ch),
            KeyCode::F(n) => KeyCodeKey::F(n),
            KeyCode::Enter => KeyCodeKey::Enter,
            KeyCode::Esc => KeyCodeKey::Esc,
            KeyCode::Tab => KeyCodeKey::Tab,
            KeyCode::BackTab => KeyCodeKey::BackTab,
            KeyCode::Backspace => KeyCodeKey::Backspace,
            KeyCode::Delete => KeyCodeKey::Delete,
            KeyCode::Insert => KeyCodeKey::Insert,
            KeyCode::Home => KeyCodeKey::Home,
            KeyCode::End => KeyCodeKey::End,
            KeyCode::PageUp => KeyCodeKey::PageUp,
            KeyCode::PageDown => KeyCodeKey::PageDown,
            KeyCode::Up => KeyCodeKey::Up,
            KeyCode::Down => KeyCodeKey::Down,
            KeyCode::Left => KeyCodeKey::Left,
            KeyCode::Right => KeyCodeKey::Right,
            _ => return None,
        };
        let is_char = matches!(code, KeyCodeKey::Char(_));
        Some(Chord {
            code,
            ctrl: k.modifiers.contains(KeyModifiers::CONTROL),
            alt: k.modifiers.contains(KeyModifiers::ALT),
            shift: k.modifiers.contains(KeyModifiers::SHIFT)
                && !is_char
                && code != KeyCodeKey::BackTab,
        })
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCodeKey::Char(' ') => f.write_str("space"),
            KeyCodeKey::Char(c) => write!(f, "{c}"),
            KeyCodeKey::F(n) => write!(f, "f{n}"),
            other => {
                let name = NAMED
                    .iter()
                    .find(|(_, k)| *k == other)
                    .map_or("?", |(n, _)| n);
                f.write_str(name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chords_parse_and_print() {
        for s in [
            "j", "G", "ctrl-c", "alt-x", "pagedown", "f5", "space", "?", "/", "backtab",
            "shift-up", "enter",
        ] {
            let c = Chord::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(c.to_string(), s);
        }
        assert_eq!(Chord::parse("shift-g"), Chord::parse("G"));
        assert_eq!(Chord::parse("shift-tab"), Chord::parse("backtab"));
        assert_eq!(Chord::parse("Ctrl-C"), Chord::parse("ctrl-c"));
        // crossterm reports ctrl-] (0x1d) as ctrl-5.
        let ev = KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL);
        assert_eq!(Chord::from_event(&ev), Chord::parse("ctrl-]"));
        for bad in ["", "ctrl-", "jj", "f13", "hyper-x"] {
            assert_eq!(Chord::parse(bad), None, "{bad}");
        }
    }
}
