//! The reference terminal: tmux. A private server per screen (its own socket, killed
//! by that socket only) runs a pane of exactly W x H in which `cat` writes the
//! fixture with the tty in raw mode, so the bytes reach tmux untranslated. The
//! screen comes back from `capture-pane -p -e -N` (text with SGR escapes) and
//! `display -p` (cursor, its visibility, the alternate screen).
#![allow(dead_code)]
use super::screen::{Cell, Col, Screen};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use unicode_width::UnicodeWidthChar;

/// Title the pane sets after the fixture: once tmux shows it, every byte before it
/// has been processed (titles change no cell).
const DONE: &str = "berth-fixture-done";

/// Is tmux here? If not: fail under CI or as root (like `engine_or_skip`), else
/// skip loudly.
pub fn tmux_or_skip(test: &str) -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if ci || root || std::env::var("BERTH_REQUIRE_ENGINE").is_ok() {
        panic!("{test}: tmux is not installed, and this run requires it (CI, root or BERTH_REQUIRE_ENGINE): apt-get install tmux");
    }
    eprintln!("\n!!!!!!!! SKIPPED {test}: tmux is not installed. The terminal conformance tests did NOT run. !!!!!!!!\n");
    false
}

struct Server {
    socket: String,
}

impl Server {
    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux")
    }

    fn display(&self, format: &str) -> String {
        let o = self.tmux(&["display", "-p", "-t", "main", format]);
        String::from_utf8_lossy(&o.stdout).trim_end().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only our own server, by its private socket.
        let _ = self.tmux(&["kill-server"]);
    }
}

/// What tmux shows after `bytes`, on a w x h pane.
pub fn tmux_screen(tag: &str, bytes: &[u8], w: u16, h: u16) -> Screen {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("fixture.bin");
    std::fs::write(&fixture, bytes).expect("write fixture");
    // No status line, so the pane is the whole window from the first byte.
    let conf = dir.path().join("tmux.conf");
    std::fs::write(&conf, "set -g status off\n").expect("write tmux.conf");
    let server = Server {
        socket: format!(
            "berth-conf-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ),
    };
    let cmd = format!(
        "stty raw -echo; cat '{}'; printf '\\033]2;{DONE}\\033\\\\'; sleep 600",
        fixture.display()
    );
    let o = Command::new("tmux")
        .arg("-L")
        .arg(&server.socket)
        .arg("-f")
        .arg(&conf)
        .args(["new-session", "-d", "-s", "main", "-x"])
        .arg(w.to_string())
        .arg("-y")
        .arg(h.to_string())
        .arg(&cmd)
        .output()
        .expect("tmux");
    assert!(
        o.status.success(),
        "tmux new-session: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.display("#{pane_title}") != DONE {
        assert!(
            Instant::now() < deadline,
            "{tag}: tmux did not finish the fixture (title {:?})",
            server.display("#{pane_title}")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        server.display("#{pane_width}x#{pane_height}"),
        format!("{w}x{h}"),
        "the reference pane has the wrong size"
    );
    let capture = server.tmux(&["capture-pane", "-p", "-e", "-N", "-t", "main"]);
    let text = String::from_utf8_lossy(&capture.stdout).to_string();
    let state = server.display("#{cursor_x} #{cursor_y} #{cursor_flag} #{alternate_on}");
    let v: Vec<u16> = state
        .split(' ')
        .map(|s| s.parse().expect("tmux display"))
        .collect();
    // tmux keeps the cursor one past the last column after writing there (the
    // pending wrap); a terminal shows it on the last column.
    let col = v[0].min(w - 1);
    Screen {
        rows: parse_capture(&text, w, h),
        cursor: (v[2] == 1).then_some((col, v[1])),
        alternate: v[3] == 1,
    }
}

/// VT100 special graphics (`ESC ( 0`): the Unicode characters for 0x5f-0x7e.
fn dec_graphics(c: char) -> char {
    const TABLE: &str = " ◆▒␉␌␍␊°±␤␋┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·";
    match c {
        '_'..='~' => TABLE.chars().nth(c as usize - '_' as usize).unwrap_or(c),
        _ => c,
    }
}

/// The attributes an SGR sequence sets (as tmux writes them in a capture).
fn sgr(pen: &mut Cell, params: &str) {
    let groups: Vec<&str> = params.split(';').collect();
    let mut i = 0;
    let num = |s: &str| {
        s.split(':')
            .next()
            .and_then(|n| n.parse::<u16>().ok())
            .unwrap_or(0)
    };
    while i < groups.len() {
        let g = groups[i];
        let code = num(g);
        match code {
            0 => *pen = Cell::blank(),
            1 => pen.bold = true,
            2 => pen.dim = true,
            3 => pen.italic = true,
            // 4:0 is "no underline"; 4 and 4:1-5 are styles of underline.
            4 => pen.underline = g != "4:0",
            21 => pen.underline = true,
            7 => pen.inverse = true,
            8 => pen.hidden = true,
            9 => pen.strike = true,
            22 => {
                pen.bold = false;
                pen.dim = false;
            }
            23 => pen.italic = false,
            24 => pen.underline = false,
            27 => pen.inverse = false,
            28 => pen.hidden = false,
            29 => pen.strike = false,
            30..=37 => pen.fg = Col::Idx((code - 30) as u8),
            39 => pen.fg = Col::Default,
            40..=47 => pen.bg = Col::Idx((code - 40) as u8),
            49 => pen.bg = Col::Default,
            90..=97 => pen.fg = Col::Idx((code - 90 + 8) as u8),
            100..=107 => pen.bg = Col::Idx((code - 100 + 8) as u8),
            38 | 48 | 58 => {
                // 38;5;n / 38;2;r;g;b (or the colon forms in one group).
                let parts: Vec<u16> = if g.contains(':') {
                    g.split(':')
                        .skip(1)
                        .filter_map(|p| p.parse().ok())
                        .collect()
                } else {
                    let kind = groups.get(i + 1).map_or(0, |s| num(s));
                    let n = if kind == 5 { 2 } else { 4 };
                    let p: Vec<u16> = groups[i + 1..(i + 1 + n).min(groups.len())]
                        .iter()
                        .map(|s| num(s))
                        .collect();
                    i += n;
                    p
                };
                let colour = match parts.as_slice() {
                    [5, n] => Col::Idx(*n as u8),
                    [2, r, g, b] => Col::Rgb(*r as u8, *g as u8, *b as u8),
                    _ => Col::Default,
                };
                match code {
                    38 => pen.fg = colour,
                    48 => pen.bg = colour,
                    // Underline colour: not compared.
                    _ => {}
                }
            }
            // Blink (5, 6, 25) and overline (53, 55) are not part of the comparison.
            _ => {}
        }
        i += 1;
    }
}

/// Cells from `capture-pane -p -e -N` output: one line per row, SGR state carried
/// from row to row, SO/SI around special graphics; cells after the last one tmux
/// prints on a row are blank.
pub fn parse_capture(text: &str, w: u16, h: u16) -> Vec<Vec<Cell>> {
    let (w, h) = (usize::from(w), usize::from(h));
    let mut rows = vec![vec![Cell::blank(); w]; h];
    let mut pen = Cell::blank();
    let mut graphics = false;
    for (r, line) in text.split('\n').take(h).enumerate() {
        let mut col = 0usize;
        let mut chars = line.chars().peekable();
        while let Some(ch) = chars.next() {
            match ch {
                '\x1b' => {
                    if chars.next() != Some('[') {
                        continue;
                    }
                    let mut params = String::new();
                    for c in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            if c == 'm' {
                                sgr(&mut pen, &params);
                            }
                            break;
                        }
                        params.push(c);
                    }
                }
                '\x0e' => graphics = true,
                '\x0f' => graphics = false,
                c => {
                    let c = if graphics { dec_graphics(c) } else { c };
                    let width = c.width().unwrap_or(0);
                    if width == 0 {
                        // A combining mark: onto the character before it.
                        if let Some(prev) = rows[r][..col.min(w)]
                            .iter_mut()
                            .rev()
                            .find(|c| !c.is_continuation())
                        {
                            prev.text.push(c);
                        }
                        continue;
                    }
                    if col >= w {
                        continue;
                    }
                    rows[r][col] = Cell {
                        text: c.to_string(),
                        ..pen.clone()
                    };
                    if width == 2 && col + 1 < w {
                        rows[r][col + 1] = Cell {
                            text: String::new(),
                            ..Cell::default()
                        };
                    }
                    col += width;
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_text_and_attributes_become_cells() {
        let rows = parse_capture(
            "a\x1b[1;31mb\x1b[0m\x1b[39m\x1b[49m界e\u{301}\n\x1b[7;38;5;200;48;2;1;2;3mx\x0eq\x0f\n",
            8,
            3,
        );
        assert_eq!(rows[0][0].text, "a");
        assert!(rows[0][1].bold && rows[0][1].fg == Col::Idx(1));
        assert_eq!(rows[0][2].text, "界");
        assert!(rows[0][3].is_continuation());
        assert_eq!(rows[0][4].text, "e\u{301}");
        assert_eq!(rows[0][5], Cell::blank());
        let x = &rows[1][0];
        assert!(x.inverse && x.fg == Col::Idx(200) && x.bg == Col::Rgb(1, 2, 3));
        // Attributes carry over to the next cell and the next row.
        assert_eq!(rows[1][1].text, "─");
        assert!(rows[1][1].inverse);
        assert_eq!(rows[2][0], Cell::blank());
    }
}
