//! The real berth binary in a real terminal: a shell tab on a real workspace `cat`s
//! terminal fixtures, and the pane's interior on berth's screen (captured from the
//! outer tmux) must match a reference tmux pane of the interior's size, cell by
//! cell: characters, colours, attributes and the cursor.
mod common;
#[allow(dead_code)]
mod conformance;
#[path = "common/tmux.rs"]
mod tmux;
use berth::tui::theme::Role;
use common::*;
use conformance::cases::CASES;
use conformance::reference::{parse_capture, tmux_screen};
use conformance::screen::{diff, Col, Exclusions, Screen};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tmux::Tmux;

const W: u16 = 120;
const H: u16 = 40;

fn case(name: &str) -> &'static str {
    CASES
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.bytes)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// Colours, attributes, wide and combining characters, special graphics: crafted
/// cases that only move the cursor by lines, one after the other, after a reset.
fn attributes_fixture() -> Vec<u8> {
    let mut f = b"\x1bc".to_vec();
    for name in ["sgr_attributes", "sgr_colours", "dec_special_graphics"] {
        f.extend_from_slice(case(name).as_bytes());
        f.extend_from_slice(b"\x1b[0m\r\n");
    }
    f.extend_from_slice("界a世界 😀b🎉 e\u{301}a\u{308} \x1b[1;4;38;5;208mend\x1b[0m".as_bytes());
    f
}

/// vttest's first screen: DECALN, erases, cursor addressing, a frame of E's.
fn vttest_box_fixture() -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/term");
    let bytes = std::fs::read(format!("{dir}/vttest-cursor.bin")).expect("fixture");
    let index = std::fs::read_to_string(format!("{dir}/vttest-cursor.bin.screens")).expect("index");
    let offset: usize = index
        .lines()
        .find_map(|l| l.strip_prefix("box-80 "))
        .and_then(|o| o.parse().ok())
        .expect("box-80 in the index");
    bytes[..offset].to_vec()
}

/// Copies `bytes` to `path` in the workspace through `berth exec` (stdin).
fn copy_in(sb: &Sandbox, name: &str, bytes: &[u8], path: &str) {
    let script = format!("cat > {path}");
    let mut child = sb
        .cmd(&["exec", name, "--", "sh", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("berth exec");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write fixture");
    assert!(
        child.wait().expect("berth exec").success(),
        "copying {path}"
    );
}

fn theme_col(c: ratatui::style::Color) -> Col {
    match c {
        ratatui::style::Color::Rgb(r, g, b) => Col::Rgb(r, g, b),
        ratatui::style::Color::Indexed(i) => Col::Idx(i),
        _ => Col::Default,
    }
}

/// The shell pane's interior on berth's screen, as cells, with the real cursor
/// relative to it.
fn pane_interior(t: &Tmux) -> Option<Screen> {
    let rows = parse_capture(&t.screen_with_attributes(), W, H);
    let text: Vec<String> = rows
        .iter()
        .map(|r| r.iter().map(|c| c.text.as_str()).collect())
        .collect();
    let top = text.iter().position(|l| l.starts_with("┌ shell:"))?;
    let bottom = top + text[top..].iter().position(|l| l.starts_with('└'))?;
    let right = text[bottom].chars().position(|c| c == '┘')?;
    // The pane's default colours are the theme's; the reference's are the terminal's.
    let theme = berth::tui::theme::Theme::default_theme();
    let (fg, bg) = (
        theme_col(theme.color(Role::Fg)),
        theme_col(theme.color(Role::Bg)),
    );
    let inner: Vec<Vec<_>> = rows[top + 1..bottom]
        .iter()
        .map(|r| {
            r[1..right]
                .iter()
                .cloned()
                .map(|mut c| {
                    if c.fg == fg {
                        c.fg = Col::Default;
                    }
                    if c.bg == bg {
                        c.bg = Col::Default;
                    }
                    c
                })
                .collect()
        })
        .collect();
    let v: Vec<u16> = t
        .display("#{cursor_x} #{cursor_y} #{cursor_flag}")
        .split(' ')
        .filter_map(|s| s.parse().ok())
        .collect();
    let (x, y) = (v[0], v[1]);
    let inside = x >= 1 && (x as usize) < right && (y as usize) > top && (y as usize) < bottom;
    Some(Screen {
        rows: inner,
        cursor: (v[2] == 1 && inside).then(|| (x - 1, y - top as u16 - 1)),
        // The outer capture cannot tell; the fixtures end on the main screen.
        alternate: false,
    })
}

/// Runs `fixture` in the focused, full-screen shell tab and compares the interior.
fn cat_and_compare(t: &Tmux, tag: &str, path: &str, fixture: &[u8], marker: &str) {
    t.keys(&["M-Enter"]);
    t.wait_for("full screen", 10, |s| {
        s.lines().next().is_some_and(|l| l.starts_with("┌ shell:"))
    });
    t.text(&format!("stty raw -echo; cat {path}; sleep 30"));
    t.keys(&["Enter"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    // The reference for the pane's current size (it changes once full screen applies).
    let mut reference: Option<((u16, u16), Screen)> = None;
    loop {
        let got = pane_interior(t);
        if let Some(got) = &got {
            let (w, h) = (got.rows[0].len() as u16, got.rows.len() as u16);
            if reference.as_ref().is_none_or(|(size, _)| *size != (w, h)) {
                let mut s = tmux_screen(tag, fixture, w, h);
                s.alternate = false;
                reference = Some(((w, h), s));
            }
            let expected = &reference.as_ref().expect("just set").1;
            let d = diff(expected, got, Exclusions::default());
            if d.is_empty() {
                assert!(
                    got.text().contains(marker),
                    "{tag}: {marker:?} not on the pane:\n{}",
                    got.text()
                );
                eprintln!("{tag}: berth's {w}x{h} pane matches tmux:\n{}", got.text());
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{tag}: berth's pane ({w}x{h}) differs from tmux in {} places:\n  {}\nreference:\n{}berth:\n{}\nwhole screen:\n{}",
                    d.len(),
                    d.iter().take(30).cloned().collect::<Vec<_>>().join("\n  "),
                    expected.text(),
                    got.text(),
                    t.screen()
                );
            }
        } else if Instant::now() > deadline {
            panic!("{tag}: no shell pane on screen:\n{}", t.screen());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_pane_matches_tmux_on_real_output() {
    let Some(sb) = Sandbox::new("termconf", (2900, 2904)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    let attrs = attributes_fixture();
    let vt = vttest_box_fixture();
    copy_in(&sb, &name, &attrs, "/tmp/attrs.bin");
    copy_in(&sb, &name, &vt, "/tmp/box.bin");

    // Colours on (crossterm drops every colour under NO_COLOR).
    let t = Tmux::start(
        "termconf",
        W,
        H,
        &format!("unset NO_COLOR; {}", sb.tui_command()),
    );
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    t.keys(&["/"]);
    t.text(&name);
    t.keys(&["Enter"]);
    t.wait_for("the workspace listed", 20, |s| {
        s.contains(&format!("filter: {name})")) && s.lines().any(|l| l.contains("running"))
    });
    let prompt = format!("workspace@{name}");

    t.keys(&["Enter"]);
    t.wait_for("the prompt", 30, |s| {
        s.contains(&prompt) && s.contains("┌ shell:")
    });
    cat_and_compare(&t, "e2e-attrs", "/tmp/attrs.bin", &attrs, "red on green");

    // A second tab for the second fixture (the first is still in raw mode).
    t.keys(&["C-]"]);
    t.keys(&["Enter"]);
    t.wait_for("a second tab's prompt", 30, |s| {
        s.contains("2 ") && s.contains(&prompt) && s.contains("┌ shell:")
    });
    cat_and_compare(&t, "e2e-vttest", "/tmp/box.bin", &vt, "EEEEEEEEEE");
}
