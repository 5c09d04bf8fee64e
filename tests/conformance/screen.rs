//! A terminal screen as cells (character and attributes) plus the cursor, built
//! from either side of the comparison, and a cell-by-cell diff that reads well.
#![allow(dead_code)]
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Col {
    #[default]
    Default,
    /// Palette index (0-15 are the ANSI colours, however the program named them).
    Idx(u8),
    Rgb(u8, u8, u8),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    /// The character and its combining marks; empty for the right half of a wide one.
    pub text: String,
    pub fg: Col,
    pub bg: Col,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
    pub hidden: bool,
    pub strike: bool,
}

impl Cell {
    pub fn blank() -> Self {
        Cell {
            text: " ".into(),
            ..Cell::default()
        }
    }

    /// The right half of a wide character.
    pub fn is_continuation(&self) -> bool {
        self.text.is_empty()
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_continuation() {
            return write!(f, "(right half of a wide character)");
        }
        write!(f, "{:?} fg={:?} bg={:?}", self.text, self.fg, self.bg)?;
        for (on, name) in [
            (self.bold, "bold"),
            (self.dim, "dim"),
            (self.italic, "italic"),
            (self.underline, "underline"),
            (self.inverse, "inverse"),
            (self.hidden, "hidden"),
            (self.strike, "strike"),
        ] {
            if on {
                write!(f, " +{name}")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub rows: Vec<Vec<Cell>>,
    /// (col, row), None when the program hid the cursor.
    pub cursor: Option<(u16, u16)>,
    pub alternate: bool,
}

impl Screen {
    pub fn blank(w: u16, h: u16) -> Self {
        Screen {
            rows: vec![vec![Cell::blank(); usize::from(w)]; usize::from(h)],
            cursor: Some((0, 0)),
            alternate: false,
        }
    }

    /// The characters only, one line per row (for context in failures).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, row) in self.rows.iter().enumerate() {
            let line: String = row.iter().map(|c| c.text.as_str()).collect();
            out.push_str(&format!("{i:02}|{line}|\n"));
        }
        out
    }
}

/// Cells the comparison leaves out, each with its reason (see the callers).
#[derive(Debug, Clone, Copy, Default)]
pub struct Exclusions {
    /// Only characters are compared, no attributes.
    pub chars_only: bool,
}

/// Every difference between `expected` (the reference) and `got` (berth), as
/// readable lines; empty when the screens agree.
pub fn diff(expected: &Screen, got: &Screen, ex: Exclusions) -> Vec<String> {
    let mut out = Vec::new();
    if expected.rows.len() != got.rows.len() {
        out.push(format!(
            "height: expected {} rows, got {}",
            expected.rows.len(),
            got.rows.len()
        ));
    }
    for (r, (er, gr)) in expected.rows.iter().zip(&got.rows).enumerate() {
        if er.len() != gr.len() {
            out.push(format!(
                "row {r}: expected {} columns, got {}",
                er.len(),
                gr.len()
            ));
        }
        for (c, (e, g)) in er.iter().zip(gr).enumerate() {
            let same = if ex.chars_only {
                e.text == g.text
            } else {
                e == g
            };
            if !same {
                out.push(format!("row {r} col {c}: expected {e}, got {g}"));
            }
        }
    }
    if expected.cursor != got.cursor {
        out.push(format!(
            "cursor (col, row): expected {:?}, got {:?}",
            expected.cursor, got.cursor
        ));
    }
    if expected.alternate != got.alternate {
        out.push(format!(
            "alternate screen: expected {}, got {}",
            expected.alternate, got.alternate
        ));
    }
    out
}

/// Panics with the differences and both screens when they disagree.
pub fn assert_same(case: &str, expected: &Screen, got: &Screen, ex: Exclusions) {
    let d = diff(expected, got, ex);
    if d.is_empty() {
        return;
    }
    let shown: Vec<&String> = d.iter().take(40).collect();
    panic!(
        "{case}: berth's pane differs from the reference terminal in {} places:\n{}\n{}\nreference (tmux):\n{}\nberth:\n{}",
        d.len(),
        shown
            .iter()
            .map(|s| format!("  {s}"))
            .collect::<Vec<_>>()
            .join("\n"),
        if d.len() > 40 { "  ..." } else { "" },
        expected.text(),
        got.text()
    );
}
