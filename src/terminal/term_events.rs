//! What the emulator tells its owner while it parses: replies for the program
//! (device attributes, status, colour queries), the window title and the bell.
//! Collected in order and drained after each slice of output. Pure.
use alacritty_terminal::event::{Event, EventListener};
use alacritty_terminal::vte::ansi::Rgb;
use std::sync::{Arc, Mutex};

/// Primary device attributes: a VT220-class terminal with ANSI colour.
pub const PRIMARY_DA: &[u8] = b"\x1b[?62;22c";
/// Secondary device attributes.
pub const SECONDARY_DA: &[u8] = b"\x1b[>1;10;0c";

/// Longest window title kept (characters).
const TITLE_MAX: usize = 80;

type ColourFormat = Arc<dyn Fn(Rgb) -> String + Sync + Send + 'static>;

/// A reply to write back to the program, in the order the queries came.
pub enum Reply {
    Bytes(Vec<u8>),
    /// A colour query (OSC 4/10/11/12): answered once the colour is looked up.
    Colour(usize, ColourFormat),
}

#[derive(Default)]
pub struct Pending {
    pub replies: Vec<Reply>,
    /// `Some(None)`: the program reset the title.
    pub title: Option<Option<String>>,
    pub bell: bool,
}

/// The emulator's event sink. Shared: the emulator owns one handle (and reports
/// through `&self`), the model keeps another to drain it. Never contended: both
/// live on the thread that feeds the model.
#[derive(Default, Clone)]
pub struct Inbox(Arc<Mutex<Pending>>);

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn take(&self) -> Pending {
        std::mem::take(&mut *self.lock())
    }
}

impl EventListener for Inbox {
    fn send_event(&self, event: Event) {
        let mut p = self.lock();
        match event {
            Event::PtyWrite(text) => p.replies.push(Reply::Bytes(rewrite_reply(text))),
            Event::ColorRequest(index, format) => p.replies.push(Reply::Colour(index, format)),
            Event::Title(t) => p.title = Some(Some(clean_title(&t))),
            Event::ResetTitle => p.title = Some(None),
            Event::Bell => p.bell = true,
            // Clipboard, pixel sizes, mouse cursor and wakeups: nothing to do in a pane.
            _ => {}
        }
    }
}

/// berth answers device attributes as it always has (a VT220 with colour), not as
/// alacritty (a VT102 with alacritty's version).
fn rewrite_reply(text: String) -> Vec<u8> {
    if text == "\x1b[?6c" {
        PRIMARY_DA.to_vec()
    } else if text.starts_with("\x1b[>0;") && text.ends_with(";1c") {
        SECONDARY_DA.to_vec()
    } else {
        text.into_bytes()
    }
}

/// Titles lose control characters and are cut to a sane length.
fn clean_title(t: &str) -> String {
    t.chars()
        .filter(|c| !c.is_control())
        .take(TITLE_MAX)
        .collect()
}

/// xterm's default palette entry for a 256-colour index.
pub fn xterm_palette(i: u8) -> Rgb {
    const BASE: [(u8, u8, u8); 16] = [
        (0x00, 0x00, 0x00),
        (0xcd, 0x00, 0x00),
        (0x00, 0xcd, 0x00),
        (0xcd, 0xcd, 0x00),
        (0x00, 0x00, 0xee),
        (0xcd, 0x00, 0xcd),
        (0x00, 0xcd, 0xcd),
        (0xe5, 0xe5, 0xe5),
        (0x7f, 0x7f, 0x7f),
        (0xff, 0x00, 0x00),
        (0x00, 0xff, 0x00),
        (0xff, 0xff, 0x00),
        (0x5c, 0x5c, 0xff),
        (0xff, 0x00, 0xff),
        (0x00, 0xff, 0xff),
        (0xff, 0xff, 0xff),
    ];
    let (r, g, b) = match i {
        0..=15 => BASE[usize::from(i)],
        16..=231 => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            let n = i - 16;
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
    };
    Rgb { r, g, b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_attributes_are_berths() {
        assert_eq!(rewrite_reply("\x1b[?6c".into()), PRIMARY_DA);
        assert_eq!(rewrite_reply("\x1b[>0;2600;1c".into()), SECONDARY_DA);
        assert_eq!(rewrite_reply("\x1b[3;7R".into()), b"\x1b[3;7R");
    }

    #[test]
    fn titles_are_cleaned() {
        assert_eq!(clean_title("a\x07b\tc"), "abc");
        assert_eq!(clean_title(&"x".repeat(200)).len(), TITLE_MAX);
    }

    #[test]
    fn palette_matches_xterm() {
        assert_eq!(
            xterm_palette(1),
            Rgb {
                r: 0xcd,
                g: 0,
                b: 0
            }
        );
        assert_eq!(xterm_palette(16), Rgb { r: 0, g: 0, b: 0 });
        assert_eq!(xterm_palette(196), Rgb { r: 255, g: 0, b: 0 });
        assert_eq!(
            xterm_palette(231),
            Rgb {
                r: 255,
                g: 255,
                b: 255
            }
        );
        assert_eq!(xterm_palette(232), Rgb { r: 8, g: 8, b: 8 });
        assert_eq!(
            xterm_palette(255),
            Rgb {
                r: 238,
                g: 238,
                b: 238
            }
        );
    }
}
