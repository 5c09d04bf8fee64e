//! The emulator's cells, colours and cursor style in berth's own terms
//! (`super::screen`). Pure.
use super::screen::{Attrs, CellView, Colour, CursorShape, Width};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::color::Colors;
use alacritty_terminal::vte::ansi::{
    Color, CursorShape as AlacrittyShape, CursorStyle, NamedColor, Rgb,
};

fn rgb(c: Rgb) -> Colour {
    Colour::Rgb(c.r, c.g, c.b)
}

/// A colour as a terminal shows it: palette entries the program redefined (OSC 4,
/// 10, 11) become their RGB value, the rest stay symbolic so the outer terminal's
/// palette and the theme apply.
pub fn colour(c: Color, palette: &Colors) -> Colour {
    match c {
        Color::Spec(c) => rgb(c),
        Color::Indexed(i) => palette[usize::from(i)].map_or(Colour::Indexed(i), rgb),
        Color::Named(n) => {
            let index = n as usize;
            match n {
                NamedColor::Foreground
                | NamedColor::Background
                | NamedColor::Cursor
                | NamedColor::BrightForeground
                | NamedColor::DimForeground => palette[index].map_or(Colour::Default, rgb),
                NamedColor::DimBlack
                | NamedColor::DimRed
                | NamedColor::DimGreen
                | NamedColor::DimYellow
                | NamedColor::DimBlue
                | NamedColor::DimMagenta
                | NamedColor::DimCyan
                | NamedColor::DimWhite => {
                    let base = index - NamedColor::DimBlack as usize;
                    palette[base].map_or(Colour::Indexed(base as u8), rgb)
                }
                _ => palette[index].map_or(Colour::Indexed(index as u8), rgb),
            }
        }
    }
}

pub fn attrs(f: Flags) -> Attrs {
    Attrs {
        bold: f.contains(Flags::BOLD),
        dim: f.contains(Flags::DIM),
        italic: f.contains(Flags::ITALIC),
        underline: f.intersects(Flags::ALL_UNDERLINES),
        inverse: f.contains(Flags::INVERSE),
        hidden: f.contains(Flags::HIDDEN),
        strikethrough: f.contains(Flags::STRIKEOUT),
    }
}

/// One grid cell as berth draws it.
pub fn view<'a>(cell: &'a Cell, palette: &Colors) -> CellView<'a> {
    let width = if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
        Width::Spacer
    } else if cell.flags.contains(Flags::WIDE_CHAR) {
        Width::Wide
    } else {
        Width::Single
    };
    // The emulator keeps a tab character in the cells a tab crossed (for copying);
    // a leading spacer (a wide character that did not fit) is blank too.
    let ch = if cell.c.is_control()
        || width == Width::Spacer
        || cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER)
    {
        ' '
    } else {
        cell.c
    };
    CellView {
        ch,
        combining: cell.zerowidth().unwrap_or(&[]),
        fg: colour(cell.fg, palette),
        bg: colour(cell.bg, palette),
        underline_colour: cell.underline_color().map(|c| colour(c, palette)),
        attrs: attrs(cell.flags),
        width,
    }
}

/// The program's cursor style; berth's emulator is configured with a hidden
/// default so "never set" can be told apart.
pub fn cursor_shape(style: CursorStyle) -> CursorShape {
    let blinking = style.blinking;
    match style.shape {
        AlacrittyShape::Block | AlacrittyShape::HollowBlock => CursorShape::Block { blinking },
        AlacrittyShape::Underline => CursorShape::Underline { blinking },
        AlacrittyShape::Beam => CursorShape::Bar { blinking },
        AlacrittyShape::Hidden => CursorShape::Default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_stay_symbolic_unless_redefined() {
        let mut p = Colors::default();
        assert_eq!(
            colour(Color::Named(NamedColor::Red), &p),
            Colour::Indexed(1)
        );
        assert_eq!(
            colour(Color::Named(NamedColor::BrightBlue), &p),
            Colour::Indexed(12)
        );
        assert_eq!(
            colour(Color::Named(NamedColor::Foreground), &p),
            Colour::Default
        );
        assert_eq!(
            colour(Color::Named(NamedColor::DimCyan), &p),
            Colour::Indexed(6)
        );
        assert_eq!(colour(Color::Indexed(208), &p), Colour::Indexed(208));
        assert_eq!(
            colour(Color::Spec(Rgb { r: 1, g: 2, b: 3 }), &p),
            Colour::Rgb(1, 2, 3)
        );
        p[1] = Some(Rgb { r: 9, g: 8, b: 7 });
        p[NamedColor::Background as usize] = Some(Rgb { r: 0, g: 0, b: 1 });
        assert_eq!(colour(Color::Indexed(1), &p), Colour::Rgb(9, 8, 7));
        assert_eq!(
            colour(Color::Named(NamedColor::Background), &p),
            Colour::Rgb(0, 0, 1)
        );
    }

    #[test]
    fn cells_hide_tabs_and_spacers() {
        let p = Colors::default();
        let mut c = Cell {
            c: '\t',
            ..Cell::default()
        };
        assert_eq!(view(&c, &p).ch, ' ');
        c.c = '界';
        c.flags = Flags::WIDE_CHAR | Flags::BOLD | Flags::UNDERCURL;
        let v = view(&c, &p);
        assert_eq!((v.ch, v.width), ('界', Width::Wide));
        assert!(v.attrs.bold && v.attrs.underline && !v.attrs.italic);
        c.flags = Flags::WIDE_CHAR_SPACER;
        assert_eq!(view(&c, &p).width, Width::Spacer);
    }
}
