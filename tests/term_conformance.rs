//! berth's shell pane draws what a real terminal draws: every crafted feature
//! fixture (tests/conformance/cases.rs) and every recorded vttest screen
//! (tests/fixtures/term/) goes through tmux and through berth's terminal model and
//! pane widget, and the two screens must agree cell by cell (character, colours,
//! bold, dim, italic, underline, inverse, hidden, strikethrough) and on the cursor.
mod conformance;
use conformance::berth::berth_screen;
use conformance::cases::CASES;
use conformance::reference::{tmux_or_skip, tmux_screen};
use conformance::screen::{assert_same, diff, Exclusions, Screen};
use std::fmt::Write;

fn check(name: &str) {
    if !tmux_or_skip(name) {
        return;
    }
    let case = CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    let bytes = case.bytes.as_bytes();
    let expected = tmux_screen(name, bytes, case.w, case.h);
    let got = berth_screen(bytes, case.w, case.h);
    if std::env::var_os("BERTH_SHOW_SCREENS").is_some() {
        eprintln!(
            "{name} (tmux, cursor {:?}):\n{}",
            expected.cursor,
            expected.text()
        );
    }
    assert_same(name, &expected, &got, Exclusions::default());
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
        const TESTED: &[&str] = &[$(stringify!($name)),*];
    };
}

cases!(
    cursor_movement,
    scroll_region,
    origin_mode,
    insert_delete_lines,
    insert_delete_erase_chars,
    erase_display_and_line,
    erase_all_in_colour,
    save_restore_cursor,
    save_restore_origin_mode,
    wide_characters,
    combining_characters,
    alternate_screen_1049,
    alternate_screen_1049_active,
    alternate_screen_47,
    alternate_screen_1047,
    tab_stops,
    autowrap_on,
    autowrap_on_pending_cursor,
    autowrap_off,
    sgr_attributes,
    sgr_colours,
    decaln,
    dec_special_graphics,
    repeat_and_reset,
    cursor_hidden,
);

/// tmux 3.3a keeps its cursor one column past the right margin after writing
/// there, so a BS or CUB that follows lands on the last column; VT100 and xterm keep
/// the cursor on the last column (with a pending wrap), so it lands one before it.
const TMUX_PAST_THE_EDGE: &str =
    "tmux's cursor past the right margin (BS/CUB after the last column)";

/// 132-column mode: neither tmux nor berth changes width on DECCOLM (a pane has the
/// size its layout gives it; both only clear and home), so vttest's 132-column
/// drawings hit the right margin, where tmux's cursor is one past the edge.
const NO_132_COLUMNS: &str = "132-column mode (DECCOLM) changes no width in tmux or berth";

/// vttest screens not compared with tmux, and why. Where tmux is the one that
/// deviates from VT100 and vttest says what the screen must show, berth is checked
/// against vttest's own statement instead (`vttest_expectations`).
const NOT_COMPARED: &[(&str, &str)] = &[
    ("box-132", NO_132_COLUMNS),
    ("autowrap-132", NO_132_COLUMNS),
    ("accordion-132", NO_132_COLUMNS),
    ("delete-lines-132", NO_132_COLUMNS),
    ("insert-mode-132", NO_132_COLUMNS),
    ("delete-char-132", NO_132_COLUMNS),
    ("stagger-132", NO_132_COLUMNS),
    ("stagger-deleted-132", NO_132_COLUMNS),
    ("insert-char-132", NO_132_COLUMNS),
    ("autowrap-80", TMUX_PAST_THE_EDGE),
    // tmux homes the cursor to the screen's top left on DECSTBM even in origin mode
    // (VT100 and xterm: to the top margin), so its first line lands on row 2.
    (
        "origin-bottom",
        "tmux homes to the screen, not the margin, on DECSTBM in origin mode",
    ),
];

/// The bytes of a vttest fixture up to a screen, by name.
fn vttest_screen(file: &str, screen: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/term");
    let bytes = std::fs::read(format!("{dir}/{file}")).expect("fixture");
    let index = std::fs::read_to_string(format!("{dir}/{file}.screens")).expect("screen index");
    let offset = index
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{screen} ")))
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("{file}: no screen {screen}"));
    bytes[..offset].to_vec()
}

/// Rows of a screen as text (right halves of wide characters dropped).
fn lines(s: &Screen) -> Vec<String> {
    s.rows
        .iter()
        .map(|r| r.iter().map(|c| c.text.as_str()).collect::<String>())
        .collect()
}

/// The screens tmux draws differently from VT100, against what vttest says they show.
#[test]
fn vttest_expectations() {
    // "The left/right margins should have letters in order": one row per letter pair
    // (the first rows scrolled away), uppercase on the left, lowercase on the right.
    let s = berth_screen(&vttest_screen("vttest-cursor.bin", "autowrap-80"), 80, 24);
    let l = lines(&s);
    for (i, row) in l[2..20].iter().enumerate() {
        let up = (b'I' + i as u8) as char;
        let expected = format!("{up}{}{}", " ".repeat(78), up.to_ascii_lowercase());
        assert_eq!(row, &expected, "autowrap row {}:\n{}", i + 2, s.text());
    }
    // "This line should be at the bottom of the screen" / "... the one above the bottom".
    let s = berth_screen(&vttest_screen("vttest-screen.bin", "origin-bottom"), 80, 24);
    let l = lines(&s);
    assert!(
        l[23].starts_with("Origin mode test. This line should be at the bottom"),
        "{}",
        s.text()
    );
    assert!(
        l[22].starts_with("This line should be the one above the bottom"),
        "{}",
        s.text()
    );
    assert!(l[..22].iter().all(|r| r.trim().is_empty()), "{}", s.text());
}

/// Every screen recorded in a vttest fixture (scripts/record-vttest.sh), at vttest's
/// 80x24: the bytes up to the screen's offset, in tmux and in berth.
fn vttest(file: &str) {
    if !tmux_or_skip(file) {
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/term");
    let bytes = std::fs::read(format!("{dir}/{file}")).expect("fixture");
    let index = std::fs::read_to_string(format!("{dir}/{file}.screens")).expect("screen index");
    let mut failures = String::new();
    let mut screens = 0;
    for line in index.lines() {
        let (name, offset) = line.split_once(' ').expect("NAME OFFSET");
        if NOT_COMPARED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let prefix = &bytes[..offset.parse::<usize>().expect("offset")];
        let expected = tmux_screen(name, prefix, 80, 24);
        let got = berth_screen(prefix, 80, 24);
        screens += 1;
        let d = diff(&expected, &got, Exclusions::default());
        if !d.is_empty() {
            let _ = write!(
                failures,
                "\n{file} screen {name}: {} differences\n  {}\nreference (tmux):\n{}berth:\n{}",
                d.len(),
                d.iter().take(20).cloned().collect::<Vec<_>>().join("\n  "),
                expected.text(),
                got.text()
            );
        }
    }
    assert!(screens > 0, "{file}: no screens");
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn vttest_cursor_movements() {
    vttest("vttest-cursor.bin");
}

#[test]
fn vttest_screen_features() {
    vttest("vttest-screen.bin");
}

#[test]
fn vttest_character_sets() {
    vttest("vttest-charsets.bin");
}

#[test]
fn vttest_vt102_insert_delete() {
    vttest("vttest-vt102.bin");
}

#[test]
fn every_case_has_a_test() {
    let names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    assert_eq!(names, TESTED);
}

/// The comparison is not blind: a screen that differs in one attribute, one
/// character or the cursor is reported, with the row and column.
#[test]
fn a_different_screen_is_reported() {
    let bytes = b"ab\x1b[1mc\x1b[0m";
    let same = berth_screen(bytes, 6, 2);
    assert!(diff(&same, &berth_screen(bytes, 6, 2), Exclusions::default()).is_empty());
    let d = diff(
        &same,
        &berth_screen(b"ab\x1b[4mc\x1b[0m", 6, 2),
        Exclusions::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].starts_with("row 0 col 2: expected \"c\" fg=Default bg=Default +bold, got \"c\" fg=Default bg=Default +underline"), "{d:?}");
    let d = diff(
        &same,
        &berth_screen(b"aX\x1b[1mc\x1b[0m", 6, 2),
        Exclusions::default(),
    );
    assert!(d[0].starts_with("row 0 col 1: expected \"b\""), "{d:?}");
    let d = diff(
        &same,
        &berth_screen(b"ab\x1b[1mc\x1b[0m\r\n", 6, 2),
        Exclusions::default(),
    );
    assert_eq!(
        d,
        vec!["cursor (col, row): expected Some((3, 0)), got Some((0, 1))"]
    );
    let mut blank = Screen::blank(6, 2);
    blank.rows[1][5].fg = conformance::screen::Col::Idx(3);
    assert_eq!(
        diff(&Screen::blank(6, 2), &blank, Exclusions::default()).len(),
        1
    );
    assert!(diff(
        &Screen::blank(6, 2),
        &blank,
        Exclusions { chars_only: true }
    )
    .is_empty());
}

/// Against tmux too: berth fed different bytes than tmux is caught.
#[test]
fn a_different_stream_fails_against_tmux() {
    if !tmux_or_skip("a_different_stream_fails_against_tmux") {
        return;
    }
    let expected = tmux_screen("negative", b"plain \x1b[31mred\x1b[0m", 12, 2);
    let got = berth_screen(b"plain \x1b[32mred\x1b[0m", 12, 2);
    let d = diff(&expected, &got, Exclusions::default());
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(
        d[0].contains("row 0 col 6") && d[0].contains("fg=Idx(1)") && d[0].contains("fg=Idx(2)"),
        "{d:?}"
    );
    let same = berth_screen(b"plain \x1b[31mred\x1b[0m", 12, 2);
    assert!(diff(&expected, &same, Exclusions::default()).is_empty());
}

/// The recorded vim session (tests/fixtures/vim.bin.typed, 24x80) too.
#[test]
fn recorded_vim_matches_tmux() {
    if !tmux_or_skip("recorded_vim_matches_tmux") {
        return;
    }
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vim.bin.typed"
    ))
    .expect("fixture");
    let expected = tmux_screen("vim", &bytes, 80, 24);
    let got = berth_screen(&bytes, 80, 24);
    assert!(got.text().contains("typed in vim"), "{}", got.text());
    assert_same("vim.bin.typed", &expected, &got, Exclusions::default());
}
