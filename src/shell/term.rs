//! The terminal model of one shell: a vt100 screen with scrollback, plus the
//! replies a real terminal gives to queries (cursor position, device attributes,
//! colours), the window title and the bell. Pure: bytes in, replies out.
use super::keys::{InputModes, MouseMode};

/// Bytes handed to the parser at once.
const FEED_CHUNK: usize = 4096;

/// Lines of scrollback kept per shell.
pub const SCROLLBACK: usize = 5000;

#[derive(Default)]
pub struct Replies {
    pub out: Vec<u8>,
    pub title: Option<String>,
    pub bell: bool,
    /// Colours reported for OSC 10/11 queries, as "rgb:rrrr/gggg/bbbb".
    pub fg: String,
    pub bg: String,
}

impl vt100::Callbacks for Replies {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }

    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = Some(
            String::from_utf8_lossy(title)
                .chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect(),
        );
    }

    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied().unwrap_or(0);
        match (i1, c, first) {
            // DSR: status, cursor position (1-based).
            (None, 'n', 5) => self.out.extend_from_slice(b"\x1b[0n"),
            (None, 'n', 6) => {
                let (r, col) = screen.cursor_position();
                self.out
                    .extend_from_slice(format!("\x1b[{};{}R", r + 1, col + 1).as_bytes());
            }
            (Some(b'?'), 'n', 6) => {
                let (r, col) = screen.cursor_position();
                self.out
                    .extend_from_slice(format!("\x1b[?{};{}R", r + 1, col + 1).as_bytes());
            }
            // Primary DA: a VT220-class terminal with ANSI colour.
            (None, 'c', 0) => self.out.extend_from_slice(b"\x1b[?62;22c"),
            // Secondary DA.
            (Some(b'>'), 'c', 0) => self.out.extend_from_slice(b"\x1b[>1;10;0c"),
            _ => {}
        }
    }

    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        match params {
            [b"10", b"?"] => self
                .out
                .extend_from_slice(format!("\x1b]10;{}\x1b\\", self.fg).as_bytes()),
            [b"11", b"?"] => self
                .out
                .extend_from_slice(format!("\x1b]11;{}\x1b\\", self.bg).as_bytes()),
            _ => {}
        }
    }
}

pub struct Term {
    parser: vt100::Parser<Replies>,
}

impl Term {
    pub fn new(rows: u16, cols: u16) -> Self {
        let replies = Replies {
            fg: "rgb:c0c0/caca/f5f5".into(),
            bg: "rgb:1a1a/1b1b/2626".into(),
            ..Default::default()
        };
        Self {
            parser: vt100::Parser::new_with_callbacks(
                rows.max(1),
                cols.max(1),
                SCROLLBACK,
                replies,
            ),
        }
    }

    /// Processes output; returns what the terminal answers (to write back to the program).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        // Small slices: the parser's scan for the next escape in printable runs costs
        // time proportional to the slice, so a 1 MB batch without ESC went quadratic.
        for chunk in bytes.chunks(FEED_CHUNK) {
            self.parser.process(chunk);
        }
        std::mem::take(&mut self.parser.callbacks_mut().out)
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    pub fn size(&self) -> (u16, u16) {
        self.parser.screen().size()
    }

    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.parser.screen_mut().set_size(rows.max(1), cols.max(1));
    }

    pub fn title(&self) -> Option<&str> {
        self.parser.callbacks().title.as_deref()
    }

    /// True once after a bell.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.parser.callbacks_mut().bell)
    }

    /// Lines scrolled back from the live screen.
    pub fn scrollback(&self) -> usize {
        self.parser.screen().scrollback()
    }

    pub fn set_scrollback(&mut self, lines: usize) {
        self.parser.screen_mut().set_scrollback(lines);
    }

    /// Input modes the program asked for.
    pub fn modes(&self) -> InputModes {
        let s = self.parser.screen();
        InputModes {
            application_cursor: s.application_cursor(),
            bracketed_paste: s.bracketed_paste(),
            mouse: match s.mouse_protocol_mode() {
                vt100::MouseProtocolMode::None => MouseMode::Off,
                vt100::MouseProtocolMode::Press => MouseMode::Press,
                vt100::MouseProtocolMode::PressRelease => MouseMode::PressRelease,
                vt100::MouseProtocolMode::ButtonMotion => MouseMode::ButtonMotion,
                vt100::MouseProtocolMode::AnyMotion => MouseMode::AnyMotion,
            },
            sgr_mouse: s.mouse_protocol_encoding() == vt100::MouseProtocolEncoding::Sgr,
        }
    }

    /// The visible text (for tests and the e2e checks).
    pub fn contents(&self) -> String {
        self.parser.screen().contents()
    }
}
