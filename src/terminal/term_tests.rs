//! Screen tests: byte streams replayed into the terminal model.
use super::keys::MouseMode;
use super::screen::{Colour, Width};
use super::term::Term;

#[test]
fn text_colours_and_cursor() {
    let mut t = Term::new(5, 20);
    t.feed(b"hello \x1b[31mred\x1b[0m \x1b[38;5;208mx\x1b[38;2;1;2;3my\r\nline2");
    assert_eq!(t.contents(), "hello red xy\nline2");
    assert_eq!(t.cell(0, 6).unwrap().fg, Colour::Indexed(1));
    assert_eq!(t.cell(0, 10).unwrap().fg, Colour::Indexed(208));
    assert_eq!(t.cell(0, 11).unwrap().fg, Colour::Rgb(1, 2, 3));
    assert_eq!(t.cell(0, 12).unwrap().fg, Colour::Default);
    assert_eq!((t.cursor().row, t.cursor().col), (1, 5));
}

#[test]
fn alternate_screen_and_back() {
    let mut t = Term::new(5, 20);
    t.feed(b"shell prompt$ ");
    t.feed(b"\x1b[?1049h\x1b[H\x1b[2Jfull screen app");
    assert!(t.alternate_screen());
    assert_eq!(t.contents(), "full screen app");
    t.feed(b"\x1b[?1049l");
    assert!(!t.alternate_screen());
    // Text without trailing blanks; the cursor is back after the prompt's space.
    assert_eq!(t.contents(), "shell prompt$");
    assert_eq!((t.cursor().row, t.cursor().col), (0, 14));
}

#[test]
fn answers_cursor_position_and_device_attribute_queries() {
    let mut t = Term::new(24, 80);
    assert_eq!(t.feed(b"\x1b[5;10H\x1b[6n"), b"\x1b[5;10R");
    assert_eq!(t.feed(b"\x1b[c"), b"\x1b[?62;22c");
    assert_eq!(t.feed(b"\x1b[0c"), b"\x1b[?62;22c");
    assert_eq!(t.feed(b"\x1b[>c"), b"\x1b[>1;10;0c");
    assert_eq!(t.feed(b"\x1b[5n"), b"\x1b[0n");
    assert!(t.feed(b"\x1b]11;?\x07").starts_with(b"\x1b]11;rgb:"));
    // Several queries in one chunk: each answered at its own cursor position.
    assert_eq!(
        t.feed(b"\x1b[1;1H\x1b[6n\x1b[2;3H\x1b[6n"),
        b"\x1b[1;1R\x1b[2;3R"
    );
}

#[test]
fn wide_characters_take_two_cells() {
    let mut t = Term::new(3, 10);
    t.feed("界a".as_bytes());
    assert_eq!(t.cell(0, 0).unwrap().width, Width::Wide);
    assert_eq!(t.cell(0, 1).unwrap().width, Width::Spacer);
    assert_eq!(t.cell(0, 2).unwrap().text(), "a");
    assert_eq!((t.cursor().row, t.cursor().col), (0, 3));
}

#[test]
fn modes_follow_the_program() {
    let mut t = Term::new(5, 20);
    assert!(!t.modes().application_cursor);
    t.feed(b"\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?1006h");
    let m = t.modes();
    assert!(m.application_cursor && m.bracketed_paste && m.sgr_mouse);
    assert_eq!(m.mouse, MouseMode::PressRelease);
    t.feed(b"\x1b[?1l\x1b[?2004l\x1b[?1000l");
    assert_eq!(t.modes().mouse, MouseMode::Off);
}

#[test]
fn resize_keeps_content_and_scrollback_pages() {
    let mut t = Term::new(5, 20);
    for i in 0..30 {
        t.feed(format!("line {i}\r\n").as_bytes());
    }
    t.resize(10, 40);
    assert_eq!(t.size(), (10, 40));
    t.set_scrollback(10);
    assert_eq!(t.scrollback(), 10);
    let back = t.contents();
    assert!(
        back.contains("line 16") && !back.contains("line 29"),
        "{back}"
    );
    t.set_scrollback(0);
    assert!(t.contents().contains("line 29"));
}

#[test]
fn title_and_bell() {
    let mut t = Term::new(5, 20);
    t.feed(b"\x1b]2;vim - notes.txt\x07\x07");
    assert_eq!(t.title(), Some("vim - notes.txt"));
    assert!(t.take_bell());
    assert!(!t.take_bell());
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The screen as text, with the cursor marked, for snapshots.
fn screen_text(t: &Term) -> String {
    let c = t.cursor();
    let (rows, cols) = t.size();
    let mut out = format!(
        "{rows}x{cols} cursor {},{} alt={}\n",
        c.row,
        c.col,
        t.alternate_screen()
    );
    for i in 0..rows {
        let line: String = t
            .row(i)
            .filter(|c| c.width != Width::Spacer)
            .map(|c| c.text())
            .collect();
        out.push_str(&format!("{i:02}|{}\n", line.trim_end()));
    }
    out
}

#[test]
fn replay_vim_typing_resize_and_quit() {
    let typed = fixture("vim.bin.typed");
    let resized = fixture("vim.bin.resized");
    let all = fixture("vim.bin");
    let mut t = Term::new(24, 80);
    let replies = t.feed(&typed);
    assert!(t.alternate_screen());
    assert!(t.contents().contains("typed in vim"));
    insta::assert_snapshot!("vim_typed_24x80", screen_text(&t));
    // vim asked for the cursor position (twice) and the terminal version: all answered.
    let replies = String::from_utf8_lossy(&replies).to_string();
    assert_eq!(replies.matches('R').count(), 2, "{replies:?}");
    assert!(replies.contains("\x1b[>1;10;0c"), "{replies:?}");
    t.resize(30, 100);
    t.feed(&resized[typed.len()..]);
    insta::assert_snapshot!("vim_resized_30x100", screen_text(&t));
    t.feed(&all[resized.len()..]);
    assert!(
        !t.alternate_screen(),
        "vim left the alternate screen on :q!"
    );
    assert!(!t.contents().contains("typed in vim"));
}

#[test]
fn replay_colours_and_wide_characters() {
    let mut t = Term::new(10, 60);
    t.feed(&fixture("colors.bin"));
    let find = |needle: &str| {
        let row = t
            .contents()
            .lines()
            .position(|l| l.contains(needle))
            .unwrap() as u16;
        let col = t
            .contents()
            .lines()
            .nth(row as usize)
            .unwrap()
            .find(needle)
            .unwrap() as u16;
        t.cell(row, col).unwrap()
    };
    let red = find("bold red");
    assert_eq!(red.fg, Colour::Indexed(1));
    assert!(red.attrs.bold);
    assert_eq!(find("green256").fg, Colour::Indexed(118));
    assert_eq!(find("truecolor").fg, Colour::Rgb(255, 128, 0));
    assert!(find("reverse").attrs.inverse);
    insta::assert_snapshot!("colours_10x60", screen_text(&t));
}

#[test]
fn garbage_is_parsed_quickly() {
    // Pseudo-random bytes (an LCG), ESC included and not.
    let mut x: u32 = 12345;
    let mut data: Vec<u8> = (0..300_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    for with_esc in [true, false] {
        if !with_esc {
            data.retain(|b| *b != 0x1b);
        }
        let mut t = Term::new(40, 120);
        let started = std::time::Instant::now();
        // One big batch, as the loop hands over a flood.
        t.feed(&data);
        let took = started.elapsed();
        eprintln!("300 KB garbage (esc: {with_esc}): {took:?}");
        t.feed(b"\x0f\x1bcafter");
        assert!(
            t.contents().starts_with("after"),
            "{:?}",
            &t.contents()[..20.min(t.contents().len())]
        );
    }
}

/// Pseudo-random bytes without ESC (an LCG): invalid UTF-8 and controls galore.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 777;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            match (x >> 16) as u8 {
                0x1b => b'.',
                b => b,
            }
        })
        .collect()
}

/// Fastest of three runs of feeding `data` in one batch.
fn feed_time(data: &[u8]) -> std::time::Duration {
    (0..3)
        .map(|_| {
            let mut t = Term::new(40, 120);
            let started = std::time::Instant::now();
            t.feed(data);
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn a_megabyte_burst_without_escape_is_linear() {
    let quarter = feed_time(&noise(256 * 1024));
    let whole = feed_time(&noise(1024 * 1024));
    eprintln!("256 KB: {quarter:?}, 1 MB: {whole:?}");
    // Linear: about 4x. Quadratic would be 16x.
    assert!(
        whole < quarter * 8 + std::time::Duration::from_millis(100),
        "1 MB took {whole:?}, 256 KB {quarter:?}"
    );
}

/// The visible rows as text, blanks kept (for exact checks).
fn rows(t: &Term) -> Vec<String> {
    (0..t.size().0)
        .map(|r| {
            t.row(r)
                .filter(|c| c.width != Width::Spacer)
                .map(|c| c.text())
                .collect()
        })
        .collect()
}

/// What tmux 3.3a, the conformance reference, lacks or gets wrong; berth does as xterm.
#[test]
fn xterm_behaviour_where_tmux_differs() {
    // HPR (CSI a) and VPR (CSI e) move right and down; CHT (CSI I) tabs forward.
    let mut t = Term::new(4, 20);
    t.feed(b"a\x1b[3aB\x1b[2eC\r\x1b[2ID");
    assert_eq!(rows(&t)[0], "a   B               ");
    assert_eq!(rows(&t)[2], "     C          D   ");
    // ICH reaching the right edge blanks the rest of the row.
    let mut t = Term::new(2, 10);
    t.feed(b"0123456789\x1b[1;8H\x1b[5@");
    assert_eq!(rows(&t)[0], "0123456   ");
    // CUB right after the last column: the cursor was on the last column.
    let mut t = Term::new(2, 10);
    t.feed(b"0123456789\x1b[DC");
    assert_eq!(rows(&t)[0], "01234567C9");
    // Mode 1048 saves and restores the cursor.
    let mut t = Term::new(4, 10);
    t.feed(b"\x1b[2;3H\x1b[?1048h\x1b[4;8H\x1b[?1048lX");
    assert_eq!(rows(&t)[1], "  X       ");
}

#[test]
fn sgr_21_is_a_double_underline_and_22_ends_bold() {
    let mut t = Term::new(2, 10);
    t.feed(b"\x1b[1ma\x1b[21mb\x1b[22mc\x1b[24md");
    let a = |col| t.cell(0, col).unwrap().attrs;
    assert!(a(0).bold && !a(0).underline);
    assert!(a(1).bold && a(1).underline);
    assert!(!a(2).bold && a(2).underline);
    assert!(!a(3).underline);
}

#[test]
fn synchronized_output_is_not_held_back() {
    let mut t = Term::new(2, 20);
    t.feed(b"\x1b[?2026hinside");
    assert_eq!(t.contents(), "inside");
    t.feed(b"\x1b[?2026l");
    assert_eq!(t.contents(), "inside");
}

#[test]
fn cursor_shape_is_carried() {
    use super::screen::CursorShape;
    let mut t = Term::new(2, 10);
    assert_eq!(t.cursor().shape, CursorShape::Default);
    t.feed(b"\x1b[5 q");
    assert_eq!(t.cursor().shape, CursorShape::Bar { blinking: true });
    t.feed(b"\x1b[2 q");
    assert_eq!(t.cursor().shape, CursorShape::Block { blinking: false });
    t.feed(b"\x1b[0 q");
    assert_eq!(t.cursor().shape, CursorShape::Default);
}

#[test]
fn decxcpr_and_colour_queries() {
    let mut t = Term::new(10, 40);
    assert_eq!(t.feed(b"\x1b[3;7H\x1b[?6n"), b"\x1b[?3;7R");
    assert_eq!(
        t.feed(b"\x1b]10;?\x1b\\"),
        b"\x1b]10;rgb:c0c0/caca/f5f5\x1b\\"
    );
    assert_eq!(
        t.feed(b"\x1b]4;1;?\x07"),
        b"\x1b]4;1;rgb:cdcd/0000/0000\x07"
    );
    // A colour the program set is the one reported.
    t.feed(b"\x1b]11;rgb:12/34/56\x07");
    assert_eq!(t.feed(b"\x1b]11;?\x07"), b"\x1b]11;rgb:1212/3434/5656\x07");
}

#[test]
fn margins_survive_a_resize_to_the_same_size_and_reset_on_a_real_one() {
    let mut t = Term::new(6, 10);
    t.feed(b"\x1b[2;4r\x1b[4;1H\x1b[5A");
    assert_eq!(t.cursor().row, 1, "CUU stops at the top margin");
    t.resize(6, 10);
    t.feed(b"\x1b[4;1H\x1b[5A");
    assert_eq!(t.cursor().row, 1, "same size: margins kept");
    t.resize(8, 10);
    t.feed(b"\x1b[4;1H\x1b[5A");
    assert_eq!(t.cursor().row, 0, "new size: margins reset");
}
