//! One crafted byte stream per feature that full-screen programs use. Small and
//! readable; each is drawn by tmux and by berth and compared cell by cell.
//!
//! tmux's capture stops at the last cell written on a row, so the background of
//! cells erased past it is invisible to the reference. The erase cases therefore
//! end erased rows with a marker in the last column (`$`), which makes tmux report
//! every erased cell's colour.
#![allow(dead_code)]

pub struct Case {
    pub name: &'static str,
    pub w: u16,
    pub h: u16,
    pub bytes: &'static str,
}

/// A 10-row screen of numbered lines to scroll, erase and edit.
macro_rules! lines10 {
    () => {
        "line0\r\nline1\r\nline2\r\nline3\r\nline4\r\nline5\r\nline6\r\nline7\r\nline8\r\nline9"
    };
}

pub const CASES: &[Case] = &[
    Case {
        name: "cursor_movement",
        w: 20,
        h: 8,
        bytes: concat!(
            "\x1b[2J\x1b[H",
            "\x1b[3;5HA",          // CUP
            "\x1b[2AB",            // CUU
            "\x1b[3BC",            // CUD
            "\x1b[4CD",            // CUF
            "\x1b[10DE",           // CUB
            "\x1b[15GF",           // CHA
            "\x1b[7dG",            // VPA
            "\x1b[2FH",            // CPL
            "\x1b[EI",             // CNL
            // (HPR `CSI a` and VPR `CSI e`: tmux 3.3a ignores them; xterm's
            // behaviour is unit-tested in src/shell/term_tests.rs instead.)
            "\x1b[99;99HL",        // clamped to the corner
            "\x1b[99AM",           // clamped at the top
            "\x1b[1;1H\x08\x08N",  // BS stops at column 0
            "\x1b[8;1H\x1bDO",     // IND at the bottom scrolls
            "\x1b[1;10H\x1bMP",    // RI at the top scrolls down
            "\x1b[4;18H\x1bEQ",    // NEL
            "\x1b[6;3f",           // HVP, cursor stays here
        ),
    },
    Case {
        name: "scroll_region",
        w: 20,
        h: 10,
        bytes: concat!(
            lines10!(),
            "\x1b[3;7r",                 // DECSTBM rows 3-7 (cursor homes)
            "top",
            "\x1b[7;1H\r\nA\r\nB",       // LF at the bottom margin scrolls the region
            "\x1b[3;1H\x1bMC",           // RI at the top margin scrolls down
            "\x1b[2S",                   // SU
            "\x1b[1T",                   // SD
            "\x1b[10;1H\r\n\r\nlast",    // below the region: LF at the screen bottom
            "\x1b[5;10H\x1b[9AU",          // CUU inside the region stops at its top
            "\x1b[5;12H\x1b[9BD",          // CUD at its bottom
            "\x1b[2;14H\x1b[9BO",          // from above the region: to the screen's bottom
            "\x1b[4;15H\x1b[9EN\x1b[2FP", // CNL, CPL stop too
            "\x1b[r",                    // reset: full screen, cursor home
            "H",
        ),
    },
    Case {
        name: "origin_mode",
        w: 20,
        h: 10,
        bytes: concat!(
            lines10!(),
            "\x1b[4;8r\x1b[?6h",   // region 4-8, DECOM: home is the region's top
            "a",
            "\x1b[3;3Hb",          // CUP relative to the region
            "\x1b[99;2Hc",         // clamped to the region's bottom
            "\x1b[20Ad",           // CUU stops at the top margin
            "\x1b[5;1H\r\n\r\n\r\ne", // scrolls inside the region only
            "\x1b[?6l",            // DECOM off homes to the screen
            "f\x1b[r",
        ),
    },
    Case {
        name: "insert_delete_lines",
        w: 20,
        h: 10,
        bytes: concat!(
            lines10!(),
            "\x1b[44m",
            "\x1b[2;1H\x1b[2L",    // IL: blank lines (in the current background)
            "\x1b[8;1H\x1b[1M",    // DL at row 8
            "\x1b[0m\x1b[2;9r",    // region 2-9
            "\x1b[5;1H\x1b[3M",    // DL inside the region pulls blank lines in at 9
            "\x1b[4;1H\x1b[2L",    // IL inside the region pushes lines out at 9
            "\x1b[10;1H\x1b[L",    // IL outside the region: nothing
            "\x1b[r",
            // Markers: make every erased cell's colour visible in tmux's capture.
            "\x1b[1;20H$\x1b[2;20H$\x1b[3;20H$\x1b[4;20H$\x1b[5;20H$",
            "\x1b[6;20H$\x1b[7;20H$\x1b[8;20H$\x1b[9;20H$\x1b[10;20H$",
        ),
    },
    Case {
        name: "insert_delete_erase_chars",
        w: 20,
        h: 6,
        bytes: concat!(
            "abcdefghijklmnopqrst\r\n",
            "abcdefghijklmnopqrst\r\n",
            "abcdefghijklmnopqrst\r\n",
            "abcdefghijklmnopqrst\r\n",
            "\x1b[42m",
            "\x1b[1;5H\x1b[3@",    // ICH: three blanks, the rest moves right
            "\x1b[2;5H\x1b[3P",    // DCH: the rest moves left, blanks at the end
            "\x1b[3;5H\x1b[4X",    // ECH: four blanks, nothing moves
            // (ICH reaching the right edge: tmux 3.3a leaves the row as it was, xterm
            // blanks it; berth does as xterm, unit-tested in src/shell/term_tests.rs.)
            "\x1b[0m\x1b[4h\x1b[5;1Habc\x1b[5;2HXY\x1b[4l", // IRM insert mode
            "\x1b[2;20H$",
        ),
    },
    Case {
        name: "erase_display_and_line",
        w: 20,
        h: 10,
        bytes: concat!(
            "\x1b[?7l",
            "aaaaaaaaaaaaaaaaaaaa\r\n",
            "bbbbbbbbbbbbbbbbbbbb\r\n",
            "cccccccccccccccccccc\r\n",
            "dddddddddddddddddddd\r\n",
            "eeeeeeeeeeeeeeeeeeee\r\n",
            "ffffffffffffffffffff\r\n",
            "gggggggggggggggggggg\r\n",
            "hhhhhhhhhhhhhhhhhhhh\r\n",
            "iiiiiiiiiiiiiiiiiiii\r\n",
            "jjjjjjjjjjjjjjjjjjjj",
            "\x1b[45m\x1b[4;6H\x1b[1J",  // ED 1 up to row 4 col 6 (magenta)
            "\x1b[41m\x1b[6;6H\x1b[K",   // EL 0 (red)
            "\x1b[42m\x1b[7;6H\x1b[1K",  // EL 1 (green)
            "\x1b[43m\x1b[8;6H\x1b[2K",  // EL 2 (yellow)
            "\x1b[44m\x1b[10;6H\x1b[J",  // ED 0 from row 10 col 6 (blue)
            "\x1b[0m\x1b[5;3H\x1b[?2J\x1b[?K", // DECSED/DECSEL: tmux ignores them (xterm
                                               // would erase; nothing is protected)
            "\x1b[1;20H$\x1b[2;20H$\x1b[3;20H$\x1b[4;20H$\x1b[5;20H$",
            "\x1b[6;20H$\x1b[7;20H$\x1b[8;20H$\x1b[9;20H$\x1b[10;20H$",
            "\x1b[?7h\x1b[7;4H",
        ),
    },
    Case {
        name: "erase_all_in_colour",
        w: 12,
        h: 4,
        bytes: concat!(
            "text\r\nmore",
            "\x1b[46m\x1b[2J",     // ED 2 in cyan; the cursor does not move
            "\x1b[0m\x1b[1;12H$\x1b[2;12H$\x1b[3;12H$\x1b[4;12H$\x1b[2;2H",
        ),
    },
    Case {
        name: "save_restore_cursor",
        w: 20,
        h: 6,
        bytes: concat!(
            "\x1b[2;3H\x1b[1;31m\x1b7",   // DECSC: position and attributes
            "\x1b[0m\x1b[5;10Hplain",
            "\x1b8A",                     // DECRC: back, red and bold again
            "\x1b[0m\x1b[3;4H\x1b[s",     // CSI s
            "\x1b[6;1H\x1b[4mu",
            "\x1b[uB",                    // CSI u: position only
            "\x1b[0m\x1b[1;15H\x1b(0\x1b7\x1b(B\x1b8q", // DECSC keeps the character set
            "\x1b(B\x1b[6;18H",
        ),
    },
    Case {
        name: "save_restore_origin_mode",
        w: 20,
        h: 8,
        bytes: concat!(
            "\x1b[3;6r\x1b[?6h\x1b[2;2H\x1b7", // saved inside the region, DECOM on
            "\x1b[?6l\x1b[8;8H\x1b8",          // restored: DECOM on again
            "a\x1b[1;1Hb",                    // so CUP is relative to the region
            "\x1b[?6l\x1b7\x1b[?6h\x1b8",       // saved with DECOM off
            "\x1b[1;1Hc\x1b[r",
        ),
    },
    Case {
        name: "wide_characters",
        w: 12,
        h: 6,
        bytes: concat!(
            "界a世界\r\n",                   // CJK: two cells each
            "😀b🎉\r\n",                     // emoji
            "0123456789a界\r\n",             // no room in the last column: wraps
            "\r\n",
            "日本語\x1b[5;2Hx",             // overwrite the right half of 日
            "\x1b[5;5Hy",                   // and the left half of 語
            "\x1b[6;1H界\x1b[D",            // the cursor after a wide char, moved back
        ),
    },
    Case {
        name: "combining_characters",
        w: 12,
        h: 4,
        bytes: concat!(
            "e\u{301}a\u{308}o\u{302}\u{323}\r\n", // e acute, a umlaut, o with two marks
            "界\u{301}x\r\n",                       // a mark on a wide character
            "n\u{303}\x1b[1mb\u{301}\x1b[0m",       // marks keep the base's cell
        ),
    },
    Case {
        name: "alternate_screen_1049",
        w: 16,
        h: 5,
        bytes: concat!(
            "main screen\r\nprompt$ ",
            "\x1b[?1049h\x1b[H\x1b[2Jfull screen\x1b[4;4H",
            "\x1b[?1049l",         // back: main content and its cursor restored
            "X",
        ),
    },
    Case {
        name: "alternate_screen_1049_active",
        w: 16,
        h: 5,
        bytes: concat!(
            "main screen\r\nprompt$ ",
            "\x1b[?1049h\x1b[2;2Hin the app\x1b[4;4H",
        ),
    },
    Case {
        name: "alternate_screen_47",
        w: 16,
        h: 5,
        bytes: concat!(
            "main\x1b[3;5H",
            "\x1b[?47hALT\x1b[5;8H",
            "\x1b[?47l",           // back, and the cursor stays where the app left it
            "X",
        ),
    },
    Case {
        name: "alternate_screen_1047",
        w: 16,
        h: 5,
        bytes: concat!(
            "main\x1b[3;5H",
            "\x1b[?1047hALT\x1b[2;2H",
            "\x1b[?1047l",
            "X",
        ),
    },
    Case {
        name: "tab_stops",
        w: 40,
        h: 7,
        bytes: concat!(
            "a\tb\tc\td\te\r\n",                    // default stops every 8
            "\x1b[3g",                              // TBC: clear all
            "\x1b[5G\x1bH\x1b[12G\x1bH\x1b[30G\x1bH", // HTS at 5, 12, 30
            "\r1\t2\t3\t4\r\n",
            "\x1b[12G\x1b[g",                       // TBC at 12
            "\r1\t2\t3\r\n",
            // (CHT `CSI I`: tmux 3.3a ignores it; unit-tested in term_tests.rs.)
            "\x1b[35G\x1b[Z#\x1b[Z\x1b[Z*\r\n",       // CBT
            "\x1b[38G\tT\r\n",                      // tab stops at the last column
            "x\ty",
        ),
    },
    Case {
        name: "autowrap_on",
        w: 10,
        h: 6,
        bytes: concat!(
            "0123456789",          // exactly the width: the cursor waits at the edge
            "A",                   // ... and wraps before this
            "\r\n\r\n0123456789",
            "\r\nB",               // CR LF from the pending wrap: one line only
            // (CUB right after the last column: tmux keeps its cursor one past the
            // edge, so CUB 1 lands on the last column; xterm and VT100 keep the cursor
            // on the last column, so CUB 1 lands before it. berth does as xterm:
            // unit-tested in term_tests.rs.)
            "\r\n0123456789\r\x1b[2CC", // CR from the pending wrap, then CUF
            "\r\n0123456789\x1b[K",  // EL at the pending wrap keeps the last column
        ),
    },
    Case {
        name: "autowrap_on_pending_cursor",
        w: 10,
        h: 3,
        bytes: "abc\r\n0123456789",
    },
    Case {
        name: "autowrap_off",
        w: 10,
        h: 5,
        bytes: concat!(
            "\x1b[?7l",
            "0123456789ABCDEF",    // DECAWM off: the last column is overwritten
            "\r\nxy",
            "\x1b[3;9H界界",        // a wide char that does not fit stays off
            "\x1b[?7h",
            "\x1b[4;1H0123456789G",  // on again: wraps
        ),
    },
    Case {
        name: "sgr_attributes",
        w: 40,
        h: 6,
        bytes: concat!(
            "\x1b[1mbold\x1b[22m \x1b[2mdim\x1b[22m \x1b[3mitalic\x1b[23m ",
            "\x1b[4munder\x1b[24m \x1b[7minverse\x1b[27m\r\n",
            "\x1b[8mhidden\x1b[28m \x1b[9mstrike\x1b[29m \x1b[1;3;4;7;9mall\x1b[0m ",
            "\x1b[1;2mbd\x1b[22mx\r\n",
            "\x1b[4:3mcurly\x1b[4:0m \x1b[21mdouble\x1b[24m \x1b[4mu\x1b[0mreset\r\n",
            "\x1b[7m  inverse blanks  \x1b[m|\r\n",
            "\x1b[1;31mbold red\x1b[m \x1b[2;34mdim blue\x1b[m",
        ),
    },
    Case {
        name: "sgr_colours",
        w: 40,
        h: 8,
        bytes: concat!(
            "\x1b[30m0\x1b[31m1\x1b[32m2\x1b[33m3\x1b[34m4\x1b[35m5\x1b[36m6\x1b[37m7",
            "\x1b[90m8\x1b[91m9\x1b[92ma\x1b[93mb\x1b[94mc\x1b[95md\x1b[96me\x1b[97mf\x1b[39mD\r\n",
            "\x1b[40m0\x1b[41m1\x1b[42m2\x1b[43m3\x1b[44m4\x1b[45m5\x1b[46m6\x1b[47m7",
            "\x1b[100m8\x1b[101m9\x1b[102ma\x1b[103mb\x1b[104mc\x1b[105md\x1b[106me\x1b[107mf\x1b[49mD\r\n",
            "\x1b[38;5;16mA\x1b[38;5;123mB\x1b[38;5;208mC\x1b[38;5;255mD",
            "\x1b[48;5;17mE\x1b[48;5;232mF\x1b[38;5;1mG\x1b[0m\r\n",
            "\x1b[38;2;255;128;0mT\x1b[48;2;1;2;3mU\x1b[38;2;0;0;0mV\x1b[0m\r\n",
            "\x1b[38:5:99mW\x1b[38:2::10:20:30mX\x1b[48:5:45mY\x1b[0m\r\n",
            "\x1b[31;42mred on green\x1b[39mdefault fg\x1b[49mboth\r\n",
            "\x1b[7;33;44minv\x1b[0m\x1b[7mdef\x1b[0m",
        ),
    },
    Case {
        name: "decaln",
        w: 12,
        h: 5,
        bytes: concat!(
            "text",
            "\x1b[2;4r\x1b[31;44m",
            "\x1b#8",              // DECALN: E everywhere, default attributes
            "X",                   // margins reset, cursor home
            "\x1b[0m\x1b[5;5Hyz",
        ),
    },
    Case {
        name: "dec_special_graphics",
        w: 40,
        h: 4,
        bytes: concat!(
            "\x1b(0lqqqwqqqk\x1b(B\r\n",
            "\x1b(0x\x1b(B a \x1b(0x\x1b(B b \x1b(0x\x1b(B\r\n",
            "\x1b(0mqqqvqqqj\x1b(B ok\r\n",
            "\x1b)0\x0e`afgjklmnopqrstuvwxyz{|}~\x0f!",
        ),
    },
    Case {
        name: "repeat_and_reset",
        w: 20,
        h: 4,
        bytes: concat!(
            "x\x1b[5b\r\n",        // REP
            "\x1b[1;31mred\x1bc",  // RIS clears everything
            "after",
        ),
    },
    Case {
        name: "cursor_hidden",
        w: 10,
        h: 3,
        bytes: "shown\x1b[?25l then hidden",
    },
];
