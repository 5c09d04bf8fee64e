//! What the screen holds, in berth's own terms: a cell's text, colours and
//! attributes, and the cursor. The terminal model hands these to the pane that
//! draws them, so nothing outside `src/terminal/` sees the emulator's types. Pure.

/// A colour as the program asked for it. `Default` is the terminal's own
/// foreground or background (the theme's, in the pane).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Colour {
    #[default]
    Default,
    /// The 256-colour palette: 0-7 normal, 8-15 bright, 16-231 cube, 232-255 grey.
    Indexed(u8),
    Rgb(u8, u8, u8),
}

/// SGR attributes of a cell (the ones a terminal can show).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attrs {
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    /// Any underline style (single, double, curly, dotted, dashed).
    pub underline: bool,
    pub inverse: bool,
    pub hidden: bool,
    pub strikethrough: bool,
}

/// What a cell is in a run of wide characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Width {
    /// An ordinary one-column cell.
    #[default]
    Single,
    /// The first column of a two-column character.
    Wide,
    /// The second column of a wide character: draws nothing of its own.
    Spacer,
}

/// One cell of the visible screen, borrowed from the terminal model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellView<'a> {
    /// The character (a space for an empty cell; never a control character).
    pub ch: char,
    /// Zero-width characters drawn over `ch` (combining marks, ZWJ, variation selectors).
    pub combining: &'a [char],
    pub fg: Colour,
    pub bg: Colour,
    /// Underline colour (SGR 58), when the program set one.
    pub underline_colour: Option<Colour>,
    pub attrs: Attrs,
    pub width: Width,
}

impl CellView<'_> {
    /// The cell's text: the character and its combining marks.
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(4 + 4 * self.combining.len());
        s.push(self.ch);
        s.extend(self.combining);
        s
    }
}

/// The cursor shape the program asked for (DECSCUSR); `Default` is the user's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CursorShape {
    #[default]
    Default,
    Block {
        blinking: bool,
    },
    Underline {
        blinking: bool,
    },
    Bar {
        blinking: bool,
    },
}

/// Where the cursor is on the visible screen and whether the program shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub row: u16,
    pub col: u16,
    /// DECTCEM (`CSI ?25h` / `CSI ?25l`).
    pub visible: bool,
    pub shape: CursorShape,
}
