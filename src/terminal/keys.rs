//! What a terminal sends for keys, mouse and paste (xterm conventions). Pure.
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

/// Input modes the program in the terminal asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputModes {
    /// DECCKM: arrows send ESC O A instead of ESC [ A.
    pub application_cursor: bool,
    pub bracketed_paste: bool,
    pub mouse: MouseMode,
    pub sgr_mouse: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MouseMode {
    #[default]
    Off,
    /// Presses only (X10).
    Press,
    /// Presses and releases.
    PressRelease,
    /// Also motion while a button is held.
    ButtonMotion,
    /// All motion.
    AnyMotion,
}

/// xterm's modifier parameter: 1 + shift + 2*alt + 4*ctrl.
fn modifier_param(m: KeyModifiers) -> u8 {
    1 + u8::from(m.contains(KeyModifiers::SHIFT))
        + 2 * u8::from(m.contains(KeyModifiers::ALT))
        + 4 * u8::from(m.contains(KeyModifiers::CONTROL))
}

/// Bytes for a key, or None for keys a terminal does not send.
pub fn encode_key(k: &KeyEvent, modes: InputModes) -> Option<Vec<u8>> {
    let m = k.modifiers;
    let ctrl = m.contains(KeyModifiers::CONTROL);
    let alt = m.contains(KeyModifiers::ALT);
    let mods = m & (KeyModifiers::SHIFT | KeyModifiers::ALT | KeyModifiers::CONTROL);
    let esc = |s: &str| {
        let mut v = Vec::new();
        if alt {
            v.push(0x1b);
        }
        v.extend_from_slice(s.as_bytes());
        v
    };
    // CSI sequences that take modifiers as a parameter.
    let letter = |c: char| -> Vec<u8> {
        if mods.is_empty() || mods == KeyModifiers::NONE {
            if modes.application_cursor {
                format!("\x1bO{c}").into_bytes()
            } else {
                format!("\x1b[{c}").into_bytes()
            }
        } else {
            format!("\x1b[1;{}{c}", modifier_param(mods)).into_bytes()
        }
    };
    let tilde = |n: u8| -> Vec<u8> {
        if mods.is_empty() {
            format!("\x1b[{n}~").into_bytes()
        } else {
            format!("\x1b[{n};{}~", modifier_param(mods)).into_bytes()
        }
    };
    Some(match k.code {
        KeyCode::Char(c) if ctrl => {
            let b = match c.to_ascii_lowercase() {
                'a'..='z' => c.to_ascii_lowercase() as u8 - b'a' + 1,
                '@' | ' ' | '2' => 0,
                '[' | '3' => 27,
                '\\' | '4' => 28,
                ']' | '5' => 29,
                '^' | '6' => 30,
                '_' | '-' | '7' => 31,
                '?' | '8' => 127,
                _ => return Some(esc(&c.to_string())),
            };
            let mut v = Vec::new();
            if alt {
                v.push(0x1b);
            }
            v.push(b);
            v
        }
        KeyCode::Char(c) => esc(&c.to_string()),
        KeyCode::Enter => esc("\r"),
        KeyCode::Tab => esc("\t"),
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Backspace if ctrl => esc("\x08"),
        KeyCode::Backspace => esc("\x7f"),
        KeyCode::Esc => esc("\x1b"),
        KeyCode::Up => letter('A'),
        KeyCode::Down => letter('B'),
        KeyCode::Right => letter('C'),
        KeyCode::Left => letter('D'),
        KeyCode::Home => letter('H'),
        KeyCode::End => letter('F'),
        KeyCode::Insert => tilde(2),
        KeyCode::Delete => tilde(3),
        KeyCode::PageUp => tilde(5),
        KeyCode::PageDown => tilde(6),
        KeyCode::F(n @ 1..=4) => {
            let c = (b'P' + n - 1) as char;
            if mods.is_empty() {
                format!("\x1bO{c}").into_bytes()
            } else {
                format!("\x1b[1;{}{c}", modifier_param(mods)).into_bytes()
            }
        }
        KeyCode::F(n @ 5..=12) => tilde([15, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)]),
        _ => return None,
    })
}

/// Bytes for a paste: bracketed when the program asked for it; newlines become CR
/// as a terminal sends them.
pub fn encode_paste(text: &str, modes: InputModes) -> Vec<u8> {
    let body = text.replace("\r\n", "\r").replace('\n', "\r");
    if modes.bracketed_paste {
        // A paste must not be able to end the bracket early.
        let body = body.replace("\x1b[201~", "");
        format!("\x1b[200~{body}\x1b[201~").into_bytes()
    } else {
        body.into_bytes()
    }
}

/// Bytes for a mouse event at (col, row) inside the terminal (0-based), if the
/// program asked for such events.
pub fn encode_mouse(ev: &MouseEvent, col: u16, row: u16, modes: InputModes) -> Option<Vec<u8>> {
    let (mut code, release, motion) = match ev.kind {
        MouseEventKind::Down(b) => (button(b), false, false),
        MouseEventKind::Up(b) => (button(b), true, false),
        MouseEventKind::Drag(b) => (button(b) + 32, false, true),
        MouseEventKind::Moved => (3 + 32, false, true),
        MouseEventKind::ScrollUp => (64, false, false),
        MouseEventKind::ScrollDown => (65, false, false),
        _ => return None,
    };
    let wanted = match modes.mouse {
        MouseMode::Off => false,
        MouseMode::Press => !release && !motion,
        MouseMode::PressRelease => !motion,
        MouseMode::ButtonMotion => ev.kind != MouseEventKind::Moved,
        MouseMode::AnyMotion => true,
    };
    if !wanted {
        return None;
    }
    code += 4 * u16::from(ev.modifiers.contains(KeyModifiers::SHIFT))
        + 8 * u16::from(ev.modifiers.contains(KeyModifiers::ALT))
        + 16 * u16::from(ev.modifiers.contains(KeyModifiers::CONTROL));
    let (x, y) = (col + 1, row + 1);
    if modes.sgr_mouse {
        let end = if release { 'm' } else { 'M' };
        return Some(format!("\x1b[<{code};{x};{y}{end}").into_bytes());
    }
    // Legacy encoding: releases are button 3; coordinates capped at 223.
    let code = if release { 3 + (code & !3) } else { code };
    let clamp = |v: u16| (v.min(223) + 32) as u8;
    Some(vec![
        0x1b,
        b'[',
        b'M',
        (code.min(223) + 32) as u8,
        clamp(x),
        clamp(y),
    ])
}

fn button(b: MouseButton) -> u16 {
    match b {
        MouseButton::Left => 0,
        MouseButton::Middle => 1,
        MouseButton::Right => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> Vec<u8> {
        encode_key(&KeyEvent::new(code, m), InputModes::default()).unwrap()
    }
    const N: KeyModifiers = KeyModifiers::NONE;
    const C: KeyModifiers = KeyModifiers::CONTROL;
    const A: KeyModifiers = KeyModifiers::ALT;
    const S: KeyModifiers = KeyModifiers::SHIFT;

    #[test]
    fn printable_and_utf8() {
        assert_eq!(k(KeyCode::Char('a'), N), b"a");
        assert_eq!(k(KeyCode::Char('A'), S), b"A");
        assert_eq!(k(KeyCode::Char('é'), N), "é".as_bytes());
        assert_eq!(k(KeyCode::Char('界'), N), "界".as_bytes());
    }

    #[test]
    fn control_keys() {
        assert_eq!(k(KeyCode::Char('c'), C), [3]);
        assert_eq!(k(KeyCode::Char('d'), C), [4]);
        assert_eq!(k(KeyCode::Char('z'), C), [26]);
        assert_eq!(k(KeyCode::Char(' '), C), [0]);
        assert_eq!(k(KeyCode::Char('['), C), [27]);
        assert_eq!(k(KeyCode::Char('\\'), C), [28]);
        assert_eq!(k(KeyCode::Char('_'), C), [31]);
        assert_eq!(k(KeyCode::Enter, N), b"\r");
        assert_eq!(k(KeyCode::Tab, N), b"\t");
        assert_eq!(k(KeyCode::BackTab, S), b"\x1b[Z");
        assert_eq!(k(KeyCode::Backspace, N), [0x7f]);
        assert_eq!(k(KeyCode::Backspace, C), [0x08]);
        assert_eq!(k(KeyCode::Esc, N), [0x1b]);
    }

    #[test]
    fn alt_prefixes_escape() {
        assert_eq!(k(KeyCode::Char('x'), A), b"\x1bx");
        assert_eq!(k(KeyCode::Char('c'), A | C), [0x1b, 3]);
        assert_eq!(k(KeyCode::Backspace, A), b"\x1b\x7f");
        assert_eq!(k(KeyCode::Enter, A), b"\x1b\r");
    }

    #[test]
    fn arrows_follow_cursor_mode_and_modifiers() {
        assert_eq!(k(KeyCode::Up, N), b"\x1b[A");
        assert_eq!(k(KeyCode::Left, N), b"\x1b[D");
        let app = InputModes {
            application_cursor: true,
            ..Default::default()
        };
        assert_eq!(
            encode_key(&KeyEvent::new(KeyCode::Up, N), app).unwrap(),
            b"\x1bOA"
        );
        assert_eq!(
            encode_key(&KeyEvent::new(KeyCode::Home, N), app).unwrap(),
            b"\x1bOH"
        );
        assert_eq!(k(KeyCode::Right, C), b"\x1b[1;5C");
        assert_eq!(k(KeyCode::Up, S), b"\x1b[1;2A");
        assert_eq!(k(KeyCode::Down, A | S), b"\x1b[1;4B");
        assert_eq!(k(KeyCode::End, N), b"\x1b[F");
    }

    #[test]
    fn editing_and_function_keys() {
        assert_eq!(k(KeyCode::Insert, N), b"\x1b[2~");
        assert_eq!(k(KeyCode::Delete, N), b"\x1b[3~");
        assert_eq!(k(KeyCode::PageUp, N), b"\x1b[5~");
        assert_eq!(k(KeyCode::PageDown, C), b"\x1b[6;5~");
        assert_eq!(k(KeyCode::F(1), N), b"\x1bOP");
        assert_eq!(k(KeyCode::F(4), N), b"\x1bOS");
        assert_eq!(k(KeyCode::F(2), S), b"\x1b[1;2Q");
        assert_eq!(k(KeyCode::F(5), N), b"\x1b[15~");
        assert_eq!(k(KeyCode::F(10), N), b"\x1b[21~");
        assert_eq!(k(KeyCode::F(12), C), b"\x1b[24;5~");
        assert_eq!(
            encode_key(&KeyEvent::new(KeyCode::CapsLock, N), InputModes::default()),
            None
        );
    }

    #[test]
    fn paste_is_bracketed_only_when_asked() {
        assert_eq!(encode_paste("a\nb", InputModes::default()), b"a\rb");
        let br = InputModes {
            bracketed_paste: true,
            ..Default::default()
        };
        assert_eq!(encode_paste("ls\n", br), b"\x1b[200~ls\r\x1b[201~");
        assert_eq!(encode_paste("x\x1b[201~rm", br), b"\x1b[200~xrm\x1b[201~");
    }

    #[test]
    fn mouse_only_when_the_program_asks() {
        let ev = |kind| MouseEvent {
            kind,
            column: 0,
            row: 0,
            modifiers: N,
        };
        let off = InputModes::default();
        assert_eq!(
            encode_mouse(&ev(MouseEventKind::Down(MouseButton::Left)), 4, 2, off),
            None
        );
        let sgr = InputModes {
            mouse: MouseMode::PressRelease,
            sgr_mouse: true,
            ..Default::default()
        };
        assert_eq!(
            encode_mouse(&ev(MouseEventKind::Down(MouseButton::Left)), 4, 2, sgr).unwrap(),
            b"\x1b[<0;5;3M"
        );
        assert_eq!(
            encode_mouse(&ev(MouseEventKind::Up(MouseButton::Left)), 4, 2, sgr).unwrap(),
            b"\x1b[<0;5;3m"
        );
        assert_eq!(
            encode_mouse(&ev(MouseEventKind::ScrollUp), 0, 0, sgr).unwrap(),
            b"\x1b[<64;1;1M"
        );
        assert_eq!(encode_mouse(&ev(MouseEventKind::Moved), 0, 0, sgr), None);
        let x10 = InputModes {
            mouse: MouseMode::Press,
            ..Default::default()
        };
        assert_eq!(
            encode_mouse(&ev(MouseEventKind::Down(MouseButton::Right)), 0, 0, x10).unwrap(),
            [0x1b, b'[', b'M', 34, 33, 33]
        );
        assert_eq!(
            encode_mouse(&ev(MouseEventKind::Up(MouseButton::Right)), 0, 0, x10),
            None
        );
        let any = InputModes {
            mouse: MouseMode::AnyMotion,
            sgr_mouse: true,
            ..Default::default()
        };
        assert_eq!(
            encode_mouse(&ev(MouseEventKind::Moved), 1, 1, any).unwrap(),
            b"\x1b[<35;2;2M"
        );
    }
}
