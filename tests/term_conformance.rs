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
