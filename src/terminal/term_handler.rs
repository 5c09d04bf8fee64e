//! Where berth's terminal differs from the emulator as shipped: the parser drives
//! this handler, which passes every action to alacritty_terminal's `Term` except
//! the few it gets wrong against xterm and tmux (the conformance tests found them):
//!
//! - CUU/CUD/CNL/CPL stop at the scroll margins when the cursor is inside them, and
//!   in origin mode they (and CHA) move relative to the screen, not twice offset;
//! - resetting origin mode (DECOM) homes the cursor, like setting it;
//! - DECSC/DECRC save and restore origin mode too;
//! - DECALN also resets the margins and homes the cursor;
//! - SGR 21 is a double underline (ECMA-48, xterm, tmux), not "bold off";
//! - modes 47 and 1047 (alternate screen sharing the cursor) and 1048 (save/restore
//!   the cursor), which the emulator ignores.
use super::term_events::Inbox;
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::{Term as Emulator, TermMode};
use alacritty_terminal::vte::ansi::{
    Attr, CharsetIndex, ClearMode, CursorShape, CursorStyle, Handler, Hyperlink, KeyboardModes,
    KeyboardModesApplyBehavior, LineClearMode, Mode, ModifyOtherKeys, NamedPrivateMode,
    PrivateMode, Rgb, ScpCharPath, ScpUpdateMode, StandardCharset, TabulationClearMode,
};

const ALT_47: u16 = 47;
const ALT_1047: u16 = 1047;
const SAVE_CURSOR_1048: u16 = 1048;

/// The scroll margins (0-based, inclusive), tracked alongside the emulator's own
/// (which it does not expose). `None`: the whole screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Margins {
    region: Option<(usize, usize)>,
    /// DECOM as DECSC saved it.
    saved_origin: bool,
}

impl Margins {
    /// Forgets the margins (resize, reset).
    pub fn reset(&mut self) {
        self.region = None;
    }

    fn bounds(&self, lines: usize) -> (usize, usize) {
        self.region.unwrap_or((0, lines.saturating_sub(1)))
    }
}

/// The emulator with berth's corrections, for one slice of output.
pub struct Corrected<'a> {
    pub emu: &'a mut Emulator<Inbox>,
    pub margins: &'a mut Margins,
}

impl Corrected<'_> {
    fn line(&self) -> usize {
        self.emu.grid().cursor.point.line.0.max(0) as usize
    }

    fn origin(&self) -> bool {
        self.emu.mode().contains(TermMode::ORIGIN)
    }

    fn place(&mut self, line: usize, col: Option<usize>) {
        let lines = self.emu.screen_lines();
        let cols = self.emu.columns();
        let c = &mut self.emu.grid_mut().cursor;
        c.point.line = Line(line.min(lines - 1) as i32);
        if let Some(col) = col {
            c.point.column = Column(col.min(cols - 1));
        }
        c.input_needs_wrap = false;
    }

    /// Vertical motion: inside the margins it stops at them, outside at the screen.
    fn vertical(&mut self, up: bool, n: usize, col: Option<usize>) {
        let lines = self.emu.screen_lines();
        let (top, bottom) = self.margins.bounds(lines);
        let cur = self.line();
        let line = if up {
            let limit = if cur >= top { top } else { 0 };
            cur.saturating_sub(n.max(1)).max(limit)
        } else {
            let limit = if cur <= bottom { bottom } else { lines - 1 };
            (cur + n.max(1)).min(limit)
        };
        self.place(line, col);
    }

    fn alternate(&mut self, on: bool) {
        let alt = self.emu.mode().contains(TermMode::ALT_SCREEN);
        if on && !alt {
            self.emu.swap_alt();
        } else if !on && alt {
            // The screens share the cursor (unlike 1049): it stays where it is.
            let p = self.emu.grid().cursor.point;
            self.emu.swap_alt();
            self.place(p.line.0.max(0) as usize, Some(p.column.0));
        }
    }
}

/// Passes each listed action straight to the emulator.
macro_rules! pass {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $name(&mut self, $($arg: $ty),*) {
                Handler::$name(&mut *self.emu, $($arg),*)
            }
        )*
    };
}

impl Handler for Corrected<'_> {
    pass! {
        set_title(t: Option<String>);
        set_cursor_style(s: Option<CursorStyle>);
        set_cursor_shape(s: CursorShape);
        input(c: char);
        goto(line: i32, col: usize);
        goto_line(line: i32);
        insert_blank(n: usize);
        identify_terminal(i: Option<char>);
        device_status(n: usize);
        move_forward(n: usize);
        move_backward(n: usize);
        put_tab(n: u16);
        backspace();
        carriage_return();
        linefeed();
        bell();
        substitute();
        newline();
        set_horizontal_tabstop();
        scroll_up(n: usize);
        scroll_down(n: usize);
        insert_blank_lines(n: usize);
        delete_lines(n: usize);
        erase_chars(n: usize);
        delete_chars(n: usize);
        move_backward_tabs(n: u16);
        move_forward_tabs(n: u16);
        clear_line(m: LineClearMode);
        clear_screen(m: ClearMode);
        clear_tabs(m: TabulationClearMode);
        set_tabs(n: u16);
        reverse_index();
        set_mode(m: Mode);
        unset_mode(m: Mode);
        report_mode(m: Mode);
        report_private_mode(m: PrivateMode);
        set_keypad_application_mode();
        unset_keypad_application_mode();
        set_active_charset(i: CharsetIndex);
        configure_charset(i: CharsetIndex, c: StandardCharset);
        set_color(i: usize, c: Rgb);
        dynamic_color_sequence(p: String, i: usize, t: &str);
        reset_color(i: usize);
        clipboard_store(c: u8, b: &[u8]);
        clipboard_load(c: u8, t: &str);
        push_title();
        pop_title();
        text_area_size_pixels();
        text_area_size_chars();
        set_hyperlink(h: Option<Hyperlink>);
        report_keyboard_mode();
        push_keyboard_mode(m: KeyboardModes);
        pop_keyboard_modes(n: u16);
        set_keyboard_mode(m: KeyboardModes, b: KeyboardModesApplyBehavior);
        set_modify_other_keys(m: ModifyOtherKeys);
        report_modify_other_keys();
        set_scp(p: ScpCharPath, u: ScpUpdateMode);
    }

    fn move_up(&mut self, n: usize) {
        self.vertical(true, n, None);
    }

    fn move_down(&mut self, n: usize) {
        self.vertical(false, n, None);
    }

    fn move_up_and_cr(&mut self, n: usize) {
        self.vertical(true, n, Some(0));
    }

    fn move_down_and_cr(&mut self, n: usize) {
        self.vertical(false, n, Some(0));
    }

    fn goto_col(&mut self, col: usize) {
        let line = self.line();
        self.place(line, Some(col));
    }

    fn save_cursor_position(&mut self) {
        self.margins.saved_origin = self.origin();
        Handler::save_cursor_position(&mut *self.emu);
    }

    fn restore_cursor_position(&mut self) {
        Handler::restore_cursor_position(&mut *self.emu);
        if self.margins.saved_origin != self.origin() {
            let p = self.emu.grid().cursor.point;
            let mode = PrivateMode::Named(NamedPrivateMode::Origin);
            if self.margins.saved_origin {
                Handler::set_private_mode(&mut *self.emu, mode);
            } else {
                Handler::unset_private_mode(&mut *self.emu, mode);
            }
            self.place(p.line.0.max(0) as usize, Some(p.column.0));
        }
    }

    fn set_scrolling_region(&mut self, top: usize, bottom: Option<usize>) {
        let lines = self.emu.screen_lines();
        let bottom = bottom.unwrap_or(lines).min(lines);
        // The emulator ignores a region that is not at least two lines.
        if top.max(1) < bottom {
            self.margins.region =
                Some((top.max(1) - 1, bottom - 1)).filter(|r| *r != (0, lines - 1));
        }
        Handler::set_scrolling_region(&mut *self.emu, top, Some(bottom));
    }

    fn reset_state(&mut self) {
        *self.margins = Margins::default();
        Handler::reset_state(&mut *self.emu);
    }

    fn decaln(&mut self) {
        Handler::decaln(&mut *self.emu);
        self.set_scrolling_region(1, None);
    }

    fn terminal_attribute(&mut self, attr: Attr) {
        // The parser reads SGR 21 as "bold off"; ECMA-48, xterm and tmux draw a double underline.
        let attr = match attr {
            Attr::CancelBold => Attr::DoubleUnderline,
            a => a,
        };
        Handler::terminal_attribute(&mut *self.emu, attr);
    }

    fn set_private_mode(&mut self, mode: PrivateMode) {
        match mode {
            PrivateMode::Unknown(ALT_47 | ALT_1047) => self.alternate(true),
            PrivateMode::Unknown(SAVE_CURSOR_1048) => Handler::save_cursor_position(&mut *self.emu),
            PrivateMode::Named(NamedPrivateMode::ColumnMode) => {
                self.margins.reset();
                Handler::set_private_mode(&mut *self.emu, mode);
            }
            _ => Handler::set_private_mode(&mut *self.emu, mode),
        }
    }

    fn unset_private_mode(&mut self, mode: PrivateMode) {
        match mode {
            PrivateMode::Unknown(ALT_47 | ALT_1047) => self.alternate(false),
            PrivateMode::Unknown(SAVE_CURSOR_1048) => {
                Handler::restore_cursor_position(&mut *self.emu)
            }
            PrivateMode::Named(NamedPrivateMode::ColumnMode) => {
                self.margins.reset();
                Handler::unset_private_mode(&mut *self.emu, mode);
            }
            PrivateMode::Named(NamedPrivateMode::Origin) => {
                Handler::unset_private_mode(&mut *self.emu, mode);
                self.place(0, Some(0));
            }
            _ => Handler::unset_private_mode(&mut *self.emu, mode),
        }
    }
}
