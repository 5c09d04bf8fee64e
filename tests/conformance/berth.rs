//! berth's side: the bytes go through berth's terminal model and the real pane
//! widget into ratatui's TestBackend of the same size; the cells are read back
//! from the buffer.
#![allow(dead_code)]
use super::screen::{Cell, Col, Screen};
use berth::terminal::term::Term;
use berth::tui::panes::term_view;
use ratatui::backend::{Backend, TestBackend};
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use unicode_width::UnicodeWidthStr;

fn col(c: Color) -> Col {
    match c {
        Color::Reset => Col::Default,
        Color::Black => Col::Idx(0),
        Color::Red => Col::Idx(1),
        Color::Green => Col::Idx(2),
        Color::Yellow => Col::Idx(3),
        Color::Blue => Col::Idx(4),
        Color::Magenta => Col::Idx(5),
        Color::Cyan => Col::Idx(6),
        Color::Gray => Col::Idx(7),
        Color::DarkGray => Col::Idx(8),
        Color::LightRed => Col::Idx(9),
        Color::LightGreen => Col::Idx(10),
        Color::LightYellow => Col::Idx(11),
        Color::LightBlue => Col::Idx(12),
        Color::LightMagenta => Col::Idx(13),
        Color::LightCyan => Col::Idx(14),
        Color::White => Col::Idx(15),
        Color::Indexed(i) => Col::Idx(i),
        Color::Rgb(r, g, b) => Col::Rgb(r, g, b),
    }
}

/// The screen as berth draws `term` (default colours: the terminal's own).
pub fn draw(term: &Term) -> Screen {
    let (h, w) = term.size();
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| term_view::draw(f, f.area(), term, Color::Reset, Color::Reset, true))
        .expect("draw");
    let area = ratatui::layout::Rect::new(0, 0, w, h);
    let cursor = term_view::cursor_position(term, area, true);
    if let Some(p) = cursor {
        assert_eq!(
            t.backend_mut().get_cursor_position().expect("cursor"),
            p,
            "the frame put the real cursor elsewhere"
        );
    }
    let buf = t.backend().buffer();
    let mut rows = Vec::new();
    for y in 0..h {
        let mut row = Vec::new();
        let mut covered = 0;
        for x in 0..w {
            let c = &buf[(x, y)];
            if covered > 0 {
                covered -= 1;
                row.push(Cell {
                    text: String::new(),
                    ..Cell::default()
                });
                continue;
            }
            covered = c.symbol().width().saturating_sub(1);
            let m = c.modifier;
            row.push(Cell {
                text: c.symbol().to_string(),
                fg: col(c.fg),
                bg: col(c.bg),
                bold: m.contains(Modifier::BOLD),
                dim: m.contains(Modifier::DIM),
                italic: m.contains(Modifier::ITALIC),
                underline: m.contains(Modifier::UNDERLINED),
                inverse: m.contains(Modifier::REVERSED),
                hidden: m.contains(Modifier::HIDDEN),
                strike: m.contains(Modifier::CROSSED_OUT),
            });
        }
        rows.push(row);
    }
    Screen {
        rows,
        cursor: cursor.map(|p| (p.x, p.y)),
        alternate: term.alternate_screen(),
    }
}

/// What berth's pane shows after `bytes`, at w x h.
pub fn berth_screen(bytes: &[u8], w: u16, h: u16) -> Screen {
    let mut term = Term::new(h, w);
    term.feed(bytes);
    draw(&term)
}
