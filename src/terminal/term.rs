//! The terminal model of one shell: alacritty_terminal's emulator with scrollback,
//! plus the replies a real terminal gives to queries (cursor position, device
//! attributes, colours), the window title and the bell. Pure: bytes in, replies out.
//!
//! alacritty_terminal stays behind this type: the rest of berth sees sizes, modes
//! and `screen::CellView`s.
use super::keys::{InputModes, MouseMode};
use super::screen::{CellView, Cursor};
use super::term_cells;
use super::term_events::{xterm_palette, Inbox, Reply};
use super::term_fixups::{Fixup, Scanner};
use super::term_handler::{Corrected, Margins};
use alacritty_terminal::grid::{Dimensions, Scroll};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::{Config, Term as Emulator, TermMode};
use alacritty_terminal::vte::ansi::{
    CursorShape as AlacrittyShape, CursorStyle, NamedColor, Processor, Rgb, Timeout,
};
use std::time::Duration;

/// Bytes handed to the parser at once.
const FEED_CHUNK: usize = 1024;

/// Lines of scrollback kept per shell.
pub const SCROLLBACK: usize = 5000;

/// Colours reported for OSC 10/11 queries (the default theme's).
const QUERY_FG: Rgb = Rgb {
    r: 0xc0,
    g: 0xca,
    b: 0xf5,
};
const QUERY_BG: Rgb = Rgb {
    r: 0x1a,
    g: 0x1b,
    b: 0x26,
};

/// Synchronized output (mode 2026) is not held back: berth already draws at most
/// one frame per batch of output, and a pure model has no timer to end a stuck update.
#[derive(Default)]
struct NoSync;

impl Timeout for NoSync {
    fn set_timeout(&mut self, _: Duration) {}
    fn clear_timeout(&mut self) {}
    fn pending_timeout(&self) -> bool {
        false
    }
}

#[derive(Clone, Copy)]
struct Size {
    rows: usize,
    cols: usize,
}

impl Dimensions for Size {
    fn total_lines(&self) -> usize {
        self.rows
    }
    fn screen_lines(&self) -> usize {
        self.rows
    }
    fn columns(&self) -> usize {
        self.cols
    }
}

fn size(rows: u16, cols: u16) -> Size {
    Size {
        rows: usize::from(rows.max(1)),
        cols: usize::from(cols.max(1)),
    }
}

pub struct Term {
    emu: Emulator<Inbox>,
    inbox: Inbox,
    parser: Processor<NoSync>,
    scanner: Scanner,
    margins: Margins,
    title: Option<String>,
    bell: bool,
}

impl Term {
    pub fn new(rows: u16, cols: u16) -> Self {
        let config = Config {
            scrolling_history: SCROLLBACK,
            // Hidden by default, so a cursor style the program never set reads as "default".
            default_cursor_style: CursorStyle {
                shape: AlacrittyShape::Hidden,
                blinking: false,
            },
            ..Config::default()
        };
        let inbox = Inbox::default();
        Self {
            emu: Emulator::new(config, &size(rows, cols), inbox.clone()),
            inbox,
            parser: Processor::new(),
            scanner: Scanner::default(),
            margins: Margins::default(),
            title: None,
            bell: false,
        }
    }

    /// Processes output; returns what the terminal answers (to write back to the program).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (n, fixup) = self.scanner.scan(rest);
            // Small slices: the parser scans printable runs for the next ESC again
            // after every invalid UTF-8 byte, so a 1 MB batch without ESC went quadratic.
            let mut handler = Corrected {
                emu: &mut self.emu,
                margins: &mut self.margins,
            };
            for chunk in rest[..n].chunks(FEED_CHUNK) {
                self.parser.advance(&mut handler, chunk);
            }
            self.drain(&mut out);
            if let Some(f) = fixup {
                self.apply(f, &mut out);
            }
            rest = &rest[n..];
        }
        out
    }

    /// Moves what the emulator reported into `out` and the title and bell.
    fn drain(&mut self, out: &mut Vec<u8>) {
        let pending = self.inbox.take();
        for r in pending.replies {
            match r {
                Reply::Bytes(b) => out.extend_from_slice(&b),
                Reply::Colour(index, format) => {
                    out.extend_from_slice(format(self.query_colour(index)).as_bytes())
                }
            }
        }
        if let Some(t) = pending.title {
            self.title = t;
        }
        self.bell |= pending.bell;
    }

    fn query_colour(&self, index: usize) -> Rgb {
        if let Some(c) = self.emu.colors()[index] {
            return c;
        }
        match u8::try_from(index) {
            Ok(i) => xterm_palette(i),
            Err(_) if index == NamedColor::Background as usize => QUERY_BG,
            Err(_) => QUERY_FG,
        }
    }

    /// Answers a query the emulator's parser drops.
    fn apply(&mut self, f: Fixup, out: &mut Vec<u8>) {
        match f {
            Fixup::ExtendedCursorReport => {
                let p = self.emu.grid().cursor.point;
                out.extend_from_slice(
                    format!("\x1b[?{};{}R", p.line.0 + 1, p.column.0 + 1).as_bytes(),
                );
            }
        }
    }

    /// (rows, cols).
    pub fn size(&self) -> (u16, u16) {
        let clamp = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        (clamp(self.emu.screen_lines()), clamp(self.emu.columns()))
    }

    pub fn resize(&mut self, rows: u16, cols: u16) {
        if self.size() == (rows.max(1), cols.max(1)) {
            return;
        }
        // The emulator resets its margins on a resize.
        self.margins.reset();
        self.emu.resize(size(rows, cols));
    }

    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// True once after a bell.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.bell)
    }

    /// Lines scrolled back from the live screen.
    pub fn scrollback(&self) -> usize {
        self.emu.grid().display_offset()
    }

    /// Scrolls the view back `lines` from the live screen (as far as history goes).
    pub fn set_scrollback(&mut self, lines: usize) {
        let delta = lines as i64 - self.scrollback() as i64;
        let delta = delta.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        if delta != 0 {
            self.emu.scroll_display(Scroll::Delta(delta));
        }
    }

    /// Input modes the program asked for.
    pub fn modes(&self) -> InputModes {
        let m = *self.emu.mode();
        InputModes {
            application_cursor: m.contains(TermMode::APP_CURSOR),
            bracketed_paste: m.contains(TermMode::BRACKETED_PASTE),
            mouse: if m.contains(TermMode::MOUSE_MOTION) {
                MouseMode::AnyMotion
            } else if m.contains(TermMode::MOUSE_DRAG) {
                MouseMode::ButtonMotion
            } else if m.contains(TermMode::MOUSE_REPORT_CLICK) {
                MouseMode::PressRelease
            } else {
                MouseMode::Off
            },
            sgr_mouse: m.contains(TermMode::SGR_MOUSE),
        }
    }

    pub fn alternate_screen(&self) -> bool {
        self.emu.mode().contains(TermMode::ALT_SCREEN)
    }

    /// The cursor on the live screen (row, col from the top left) and whether the
    /// program shows it. After the last column it stays on the last column.
    pub fn cursor(&self) -> Cursor {
        let p = self.emu.grid().cursor.point;
        Cursor {
            row: u16::try_from(p.line.0.max(0)).unwrap_or(u16::MAX),
            col: u16::try_from(p.column.0).unwrap_or(u16::MAX),
            visible: self.emu.mode().contains(TermMode::SHOW_CURSOR),
            shape: term_cells::cursor_shape(self.emu.cursor_style()),
        }
    }

    /// The cells of visible row `row` (0 = top of the view, scrollback included).
    pub fn row(&self, row: u16) -> impl Iterator<Item = CellView<'_>> + '_ {
        let rows = self.emu.screen_lines();
        let line = Line(i32::from(row) - self.scrollback() as i32);
        let cells = (usize::from(row) < rows).then(|| &self.emu.grid()[line][..]);
        let palette = self.emu.colors();
        cells
            .into_iter()
            .flatten()
            .map(move |c| term_cells::view(c, palette))
    }

    /// One visible cell.
    pub fn cell(&self, row: u16, col: u16) -> Option<CellView<'_>> {
        self.row(row).nth(usize::from(col))
    }

    /// The visible text: rows without trailing blanks, trailing empty rows dropped
    /// (for tests and the e2e checks).
    pub fn contents(&self) -> String {
        let (rows, _) = self.size();
        let mut lines: Vec<String> = (0..rows)
            .map(|r| {
                let mut s = String::new();
                for c in self.row(r) {
                    if c.width != super::screen::Width::Spacer {
                        s.push(c.ch);
                        s.extend(c.combining);
                    }
                }
                s.trim_end().to_string()
            })
            .collect();
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines.join("\n")
    }
}
