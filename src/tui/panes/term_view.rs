//! Draws a shell's screen into the frame: every cell with its character (wide and
//! combining ones included), colours and attributes, and the outer terminal's own
//! cursor where the program's cursor is. Reads the model, never changes it.
use crate::terminal::screen::{Attrs, CellView, Colour, Width};
use crate::terminal::term::Term;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Widget;
use ratatui::Frame;

/// The screen of a terminal model as a widget. Default colours are the theme's.
pub struct TermView<'a> {
    term: &'a Term,
    fg: Color,
    bg: Color,
}

impl<'a> TermView<'a> {
    pub fn new(term: &'a Term, fg: Color, bg: Color) -> Self {
        Self { term, fg, bg }
    }
}

/// A palette colour or RGB as ratatui says it: the 16 ANSI colours by name.
pub fn colour(c: Colour, default: Color) -> Color {
    const NAMED: [Color; 16] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match c {
        Colour::Default => default,
        Colour::Indexed(i) => NAMED
            .get(usize::from(i))
            .copied()
            .unwrap_or(Color::Indexed(i)),
        Colour::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

pub fn modifiers(a: Attrs) -> Modifier {
    let mut m = Modifier::empty();
    for (on, flag) in [
        (a.bold, Modifier::BOLD),
        (a.dim, Modifier::DIM),
        (a.italic, Modifier::ITALIC),
        (a.underline, Modifier::UNDERLINED),
        (a.inverse, Modifier::REVERSED),
        (a.hidden, Modifier::HIDDEN),
        (a.strikethrough, Modifier::CROSSED_OUT),
    ] {
        if on {
            m |= flag;
        }
    }
    m
}

impl TermView<'_> {
    fn style(&self, c: &CellView) -> Style {
        let mut s = Style::new()
            .fg(colour(c.fg, self.fg))
            .bg(colour(c.bg, self.bg))
            .add_modifier(modifiers(c.attrs));
        if let Some(u) = c.underline_colour {
            s = s.underline_color(colour(u, self.fg));
        }
        s
    }
}

impl Widget for TermView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        let (rows, _) = self.term.size();
        let mut text = String::new();
        for row in 0..rows.min(area.height) {
            let y = area.y + row;
            for (col, cell) in self.term.row(row).take(usize::from(area.width)).enumerate() {
                let x = area.x + col as u16;
                let style = self.style(&cell);
                let out = &mut buf[(x, y)];
                match cell.width {
                    // Hidden under the wide character before it (ratatui skips it too).
                    Width::Spacer => {
                        out.reset();
                        out.set_style(style);
                    }
                    // Half a wide character does not fit at the area's edge.
                    Width::Wide if col + 1 >= usize::from(area.width) => {
                        out.set_char(' ').set_style(style);
                    }
                    _ if cell.combining.is_empty() => {
                        out.set_char(cell.ch).set_style(style);
                    }
                    _ => {
                        text.clear();
                        text.push(cell.ch);
                        text.extend(cell.combining);
                        out.set_symbol(&text).set_style(style);
                    }
                }
            }
        }
    }
}

/// Where the outer terminal's cursor goes for a terminal drawn at `area`: only
/// when the pane wants it (`show`: focused, live, not scrolled back), the program
/// shows it (DECTCEM) and it is inside the area.
pub fn cursor_position(term: &Term, area: Rect, show: bool) -> Option<Position> {
    let c = term.cursor();
    (show && c.visible && term.scrollback() == 0 && c.row < area.height && c.col < area.width)
        .then(|| Position::new(area.x + c.col, area.y + c.row))
}

/// Draws `term` into `area` and places the real cursor (see `cursor_position`).
pub fn draw(f: &mut Frame, area: Rect, term: &Term, fg: Color, bg: Color, show_cursor: bool) {
    f.render_widget(TermView::new(term, fg, bg), area);
    if let Some(p) = cursor_position(term, area, show_cursor) {
        f.set_cursor_position(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn render(term: &Term, show: bool) -> Terminal<TestBackend> {
        let (rows, cols) = term.size();
        let mut t = Terminal::new(TestBackend::new(cols, rows)).unwrap();
        t.draw(|f| draw(f, f.area(), term, Color::Reset, Color::Reset, show))
            .unwrap();
        t
    }

    #[test]
    fn cells_carry_text_colours_and_attributes() {
        let mut term = Term::new(3, 12);
        term.feed(
            "\x1b[1;4;31mR\x1b[0m\x1b[7;48;5;200mI\x1b[0m界e\u{301}\x1b[38;2;1;2;3;9mS".as_bytes(),
        );
        let t = render(&term, true);
        let b = t.backend().buffer();
        assert_eq!(b[(0, 0)].symbol(), "R");
        assert_eq!(b[(0, 0)].fg, Color::Red);
        assert!(b[(0, 0)]
            .modifier
            .contains(Modifier::BOLD | Modifier::UNDERLINED));
        assert_eq!(b[(1, 0)].bg, Color::Indexed(200));
        assert!(b[(1, 0)].modifier.contains(Modifier::REVERSED));
        assert_eq!(b[(2, 0)].symbol(), "界");
        assert_eq!(b[(4, 0)].symbol(), "e\u{301}");
        assert_eq!(b[(5, 0)].fg, Color::Rgb(1, 2, 3));
        assert!(b[(5, 0)].modifier.contains(Modifier::CROSSED_OUT));
        assert_eq!(b[(6, 0)].fg, Color::Reset);
    }

    #[test]
    fn the_real_cursor_follows_the_program_and_no_glyph_is_painted() {
        let mut term = Term::new(3, 10);
        term.feed(b"ab\r\ncd");
        let mut t = render(&term, true);
        t.backend_mut().assert_cursor_position((2, 1));
        assert_eq!(t.backend().buffer()[(2, 1)].symbol(), " ");
        assert_eq!(
            cursor_position(&term, Rect::new(5, 5, 10, 3), true),
            Some(Position::new(7, 6))
        );
        assert_eq!(cursor_position(&term, Rect::new(0, 0, 10, 3), false), None);
        term.feed(b"\x1b[?25l");
        assert_eq!(cursor_position(&term, Rect::new(0, 0, 10, 3), true), None);
    }

    #[test]
    fn a_smaller_area_clips() {
        let mut term = Term::new(3, 10);
        term.feed("abc界".as_bytes());
        let mut t = Terminal::new(TestBackend::new(4, 2)).unwrap();
        t.draw(|f| draw(f, f.area(), &term, Color::Reset, Color::Reset, true))
            .unwrap();
        assert_eq!(t.backend().buffer()[(3, 0)].symbol(), " ");
    }
}
