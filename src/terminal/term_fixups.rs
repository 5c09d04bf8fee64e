//! Finds, in the program's output, the sequences the emulator's parser drops
//! before any handler sees them, so the terminal model can answer right after
//! each one. A small escape-sequence tracker that follows the byte stream across
//! `feed` calls; it never changes the bytes. Pure.

/// Most parameters remembered for one sequence.
const MAX_PARAMS: usize = 16;

/// Something to do after the sequence that ends at the returned offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fixup {
    /// DECXCPR (`CSI ? 6 n`): report the cursor position as `CSI ? row ; col R`.
    ExtendedCursorReport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Ground,
    Escape,
    /// After an escape intermediate: waits for the final byte.
    EscapeIntermediate,
    Csi,
    /// OSC: ends at BEL or ESC.
    Osc,
    /// DCS, SOS, PM, APC: end at ESC (ST is `ESC \`).
    String,
}

/// Follows the escape-sequence state of a byte stream.
#[derive(Debug, Default)]
pub struct Scanner {
    state: State,
    /// The CSI started with a private marker (`<`, `=`, `>` or `?`): which one.
    marker: Option<u8>,
    intermediates: bool,
    params: Vec<u16>,
    /// The parameter being read (None until a digit arrives).
    current: Option<u16>,
}

impl Scanner {
    /// Scans `bytes` up to the end of the next sequence that needs a fixup.
    /// Returns how many bytes to hand to the emulator before applying it (all of
    /// them, and None, when no fixup ends in `bytes`).
    pub fn scan(&mut self, bytes: &[u8]) -> (usize, Option<Fixup>) {
        let mut i = 0;
        while i < bytes.len() {
            if self.state == State::Ground {
                // Fast path: nothing to track until the next ESC.
                match bytes[i..].iter().position(|&b| b == 0x1b) {
                    Some(n) => {
                        i += n + 1;
                        self.state = State::Escape;
                        continue;
                    }
                    None => return (bytes.len(), None),
                }
            }
            let b = bytes[i];
            i += 1;
            if let Some(fix) = self.step(b) {
                return (i, Some(fix));
            }
        }
        (bytes.len(), None)
    }

    fn step(&mut self, b: u8) -> Option<Fixup> {
        // Anywhere: ESC starts a new sequence; CAN and SUB cancel one.
        match b {
            0x1b => {
                self.state = State::Escape;
                return None;
            }
            0x18 | 0x1a => {
                self.state = State::Ground;
                return None;
            }
            _ => {}
        }
        match self.state {
            State::Ground => None,
            State::Escape => {
                self.state = match b {
                    b'[' => {
                        self.marker = None;
                        self.intermediates = false;
                        self.params.clear();
                        self.current = None;
                        State::Csi
                    }
                    b']' => State::Osc,
                    b'P' | b'X' | b'^' | b'_' => State::String,
                    0x20..=0x2f => State::EscapeIntermediate,
                    // C0 controls are executed inside an escape and keep it going.
                    0x00..=0x1f => State::Escape,
                    _ => State::Ground,
                };
                None
            }
            State::EscapeIntermediate => {
                if !(0x00..=0x2f).contains(&b) {
                    self.state = State::Ground;
                }
                None
            }
            State::Csi => self.csi(b),
            State::Osc => {
                if b == 0x07 {
                    self.state = State::Ground;
                }
                None
            }
            State::String => None,
        }
    }

    fn csi(&mut self, b: u8) -> Option<Fixup> {
        match b {
            b'0'..=b'9' => {
                let d = u16::from(b - b'0');
                self.current = Some(
                    self.current
                        .unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(d),
                );
                None
            }
            b';' | b':' => {
                self.push_param();
                None
            }
            b'<'..=b'?' => {
                if self.params.is_empty() && self.current.is_none() && self.marker.is_none() {
                    self.marker = Some(b);
                } else {
                    self.intermediates = true;
                }
                None
            }
            0x20..=0x2f => {
                self.intermediates = true;
                None
            }
            0x40..=0x7e => {
                self.push_param();
                self.state = State::Ground;
                self.dispatch(b)
            }
            // C0 controls run inside a CSI without ending it; DEL is ignored.
            0x00..=0x1f | 0x7f => None,
            _ => {
                self.state = State::Ground;
                None
            }
        }
    }

    fn push_param(&mut self) {
        if self.params.len() < MAX_PARAMS {
            self.params.push(self.current.unwrap_or(0));
        }
        self.current = None;
    }

    fn dispatch(&mut self, fin: u8) -> Option<Fixup> {
        if self.intermediates || self.marker != Some(b'?') {
            return None;
        }
        (fin == b'n' && self.params == [6]).then_some(Fixup::ExtendedCursorReport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fixup with the offset it ends at, scanning `chunks` in turn.
    fn all(chunks: &[&[u8]]) -> Vec<(usize, Fixup)> {
        let mut s = Scanner::default();
        let mut out = Vec::new();
        let mut base = 0;
        for chunk in chunks {
            let mut rest: &[u8] = chunk;
            let mut at = base;
            while !rest.is_empty() {
                let (n, fix) = s.scan(rest);
                at += n;
                if let Some(f) = fix {
                    out.push((at, f));
                }
                rest = &rest[n..];
            }
            base += chunk.len();
        }
        out
    }

    #[test]
    fn finds_the_sequence_and_where_it_ends() {
        let data = b"ab\x1b[?6nc\x1b#8d\x1b[?6n";
        assert_eq!(
            all(&[data]),
            vec![
                (7, Fixup::ExtendedCursorReport),
                (data.len(), Fixup::ExtendedCursorReport),
            ]
        );
    }

    #[test]
    fn ignores_lookalikes() {
        // Plain DSR, another marker, an intermediate, private modes, escapes.
        let data = b"\x1b[6n\x1b[>6n\x1b[?6$n\x1b[?6h\x1b[?16n\x1b#6n\x1b(6n";
        assert!(all(&[data]).is_empty());
    }

    #[test]
    fn follows_sequences_across_chunks() {
        assert_eq!(
            all(&[b"x\x1b", b"[?", b"6", b"n"]),
            vec![(6, Fixup::ExtendedCursorReport)]
        );
    }

    #[test]
    fn strings_hide_sequences_until_they_end() {
        // Inside OSC text "[?6n" is just text; ESC ends the OSC and starts a sequence.
        assert!(all(&[b"\x1b]2;[?6n\x07[?6n"]).is_empty());
        assert_eq!(
            all(&[b"\x1bPq[?6n\x1b\\\x1b[?6n"]),
            vec![(14, Fixup::ExtendedCursorReport)]
        );
        // CAN cancels a CSI; C0 controls inside one do not.
        assert!(all(&[b"\x1b[?6\x18n"]).is_empty());
        assert_eq!(
            all(&[b"\x1b[?\r6n"]),
            vec![(6, Fixup::ExtendedCursorReport)]
        );
    }

    #[test]
    fn plain_text_is_one_slice() {
        let mut s = Scanner::default();
        let text = vec![b'a'; 100_000];
        assert_eq!(s.scan(&text), (100_000, None));
    }
}
