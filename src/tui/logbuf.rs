//! The logs pane's model: a bounded ring of sanitised lines with follow/pause,
//! scrollback and search. Pure: no I/O, no clock.
use std::collections::VecDeque;

/// Longest line kept (bytes of text); the rest is summarised so a huge line cannot
/// stall drawing.
pub const MAX_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Monotonic number, so positions survive eviction.
    pub seq: u64,
    /// "workspace" or a sidecar's name.
    pub source: String,
    pub stream: Stream,
    /// Engine timestamp (RFC 3339), when known.
    pub ts: Option<String>,
    pub text: String,
}

/// Makes raw output safe to draw: drops escape sequences and control characters,
/// expands tabs, and caps the length.
pub fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_LINE + 64));
    let mut chars = raw.chars().peekable();
    let mut dropped = 0usize;
    while let Some(c) = chars.next() {
        if out.len() >= MAX_LINE {
            dropped += c.len_utf8();
            continue;
        }
        match c {
            '\x1b' => {
                // CSI: ESC [ params final; OSC: ESC ] ... BEL/ST; others: ESC + one char.
                match chars.peek() {
                    Some('[') => {
                        chars.next();
                        for n in chars.by_ref() {
                            if ('\x40'..='\x7e').contains(&n) {
                                break;
                            }
                        }
                    }
                    Some(']') => {
                        chars.next();
                        while let Some(n) = chars.next() {
                            if n == '\x07' || (n == '\x1b' && chars.peek() == Some(&'\\')) {
                                if n == '\x1b' {
                                    chars.next();
                                }
                                break;
                            }
                        }
                    }
                    Some(_) => {
                        chars.next();
                    }
                    None => {}
                }
            }
            '\t' => out.push_str("    "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    if dropped > 0 {
        out.push_str(&format!(" … [{dropped} more bytes]"));
    }
    out
}

#[derive(Debug, Clone)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    capacity: usize,
    next_seq: u64,
    /// Lines between the bottom of the view and the newest line (0 = following).
    pub from_bottom: usize,
    pub paused: bool,
    pub query: Option<String>,
    /// The current match (a line's seq).
    pub current: Option<u64>,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> Self {
        Self {
            lines: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            next_seq: 0,
            from_bottom: 0,
            paused: false,
            query: None,
            current: None,
        }
    }

    pub fn clear(&mut self) {
        self.lines.clear();
        self.from_bottom = 0;
        self.current = None;
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn lines(&self) -> &VecDeque<LogLine> {
        &self.lines
    }

    /// Appends lines; while paused (or scrolled back) the view stays where it is.
    pub fn push(&mut self, source: &str, stream: Stream, ts: Option<String>, text: &str) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(LogLine {
            seq: self.next_seq,
            source: source.to_string(),
            stream,
            ts,
            text: sanitize(text),
        });
        self.next_seq += 1;
        if self.paused || self.from_bottom > 0 {
            self.from_bottom = (self.from_bottom + 1).min(self.lines.len().saturating_sub(1));
        }
    }

    /// The lines visible in a view `height` lines tall, oldest first.
    pub fn visible(&self, height: usize) -> impl Iterator<Item = &LogLine> {
        let end = self.lines.len().saturating_sub(self.from_bottom);
        let start = end.saturating_sub(height);
        self.lines.range(start..end)
    }

    pub fn scroll_up(&mut self, n: usize, height: usize) {
        let max = self.lines.len().saturating_sub(height.max(1));
        self.from_bottom = (self.from_bottom + n).min(max);
        self.paused = true;
    }

    pub fn scroll_down(&mut self, n: usize) {
        self.from_bottom = self.from_bottom.saturating_sub(n);
    }

    pub fn to_top(&mut self, height: usize) {
        self.scroll_up(usize::MAX / 2, height);
    }

    /// Back to the newest line, following again.
    pub fn follow(&mut self) {
        self.from_bottom = 0;
        self.paused = false;
    }

    pub fn toggle_pause(&mut self) {
        if self.paused {
            self.follow();
        } else {
            self.paused = true;
        }
    }

    fn matches(&self, l: &LogLine) -> bool {
        match &self.query {
            Some(q) if !q.is_empty() => l.text.to_lowercase().contains(&q.to_lowercase()),
            _ => false,
        }
    }

    /// Sets the query and jumps to the newest match.
    pub fn search(&mut self, query: &str, height: usize) -> bool {
        self.query = Some(query.to_string());
        self.current = None;
        self.step_match(false, height)
    }

    /// Next (`forward`: newer) or previous (older) match; scrolls it into view.
    pub fn step_match(&mut self, forward: bool, height: usize) -> bool {
        let cur = self.current;
        let found = if forward {
            self.lines
                .iter()
                .find(|l| cur.is_none_or(|c| l.seq > c) && self.matches(l))
        } else {
            self.lines
                .iter()
                .rev()
                .find(|l| cur.is_none_or(|c| l.seq < c) && self.matches(l))
        };
        let Some(seq) = found.map(|l| l.seq) else {
            return false;
        };
        self.current = Some(seq);
        let idx = self.lines.iter().position(|l| l.seq == seq).unwrap_or(0);
        // Put the match in the middle of the view when scrolling is needed.
        let end = self.lines.len() - self.from_bottom;
        if idx >= end || idx + height.max(1) < end + 1 {
            let want_end = (idx + height / 2 + 1).min(self.lines.len());
            self.from_bottom = self.lines.len() - want_end;
        }
        self.paused = true;
        true
    }

    pub fn clear_search(&mut self) {
        self.query = None;
        self.current = None;
    }

    pub fn is_match(&self, l: &LogLine) -> bool {
        self.matches(l)
    }

    /// Every kept line as text (for saving to a file).
    pub fn export(&self, timestamps: bool) -> String {
        let mut s = String::new();
        for l in &self.lines {
            if timestamps {
                if let Some(ts) = &l.ts {
                    s.push_str(ts);
                    s.push(' ');
                }
            }
            s.push_str(&format!("[{}] {}\n", l.source, l.text));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn buf(n: usize, cap: usize) -> LogBuffer {
        let mut b = LogBuffer::new(cap);
        for i in 0..n {
            b.push("workspace", Stream::Out, None, &format!("line {i}"));
        }
        b
    }

    #[test]
    fn sanitize_strips_escapes_and_caps_length() {
        assert_eq!(sanitize("\x1b[31mred\x1b[0m\tx\r"), "red    x");
        assert_eq!(sanitize("a\x1b]0;title\x07b"), "ab");
        let long = "x".repeat(100_000);
        let s = sanitize(&long);
        assert!(
            s.len() < MAX_LINE + 40 && s.ends_with("[95904 more bytes]"),
            "{}",
            &s[s.len() - 30..]
        );
    }

    #[test]
    fn ring_is_bounded_and_follows() {
        let b = buf(25, 10);
        assert_eq!(b.len(), 10);
        let v: Vec<&str> = b.visible(3).map(|l| l.text.as_str()).collect();
        assert_eq!(v, ["line 22", "line 23", "line 24"]);
    }

    #[test]
    fn paused_view_stays_put_while_lines_arrive() {
        let mut b = buf(20, 100);
        b.scroll_up(5, 3);
        let before: Vec<u64> = b.visible(3).map(|l| l.seq).collect();
        b.push("workspace", Stream::Out, None, "new");
        let after: Vec<u64> = b.visible(3).map(|l| l.seq).collect();
        assert_eq!(before, after);
        b.follow();
        assert_eq!(b.visible(1).next().unwrap().text, "new");
    }

    #[test]
    fn search_jumps_between_matches() {
        let mut b = LogBuffer::new(100);
        for i in 0..50 {
            b.push(
                "w",
                Stream::Out,
                None,
                if i % 10 == 3 { "ERROR here" } else { "fine" },
            );
        }
        assert!(b.search("error", 5));
        assert_eq!(b.current, Some(43));
        assert!(b.visible(5).any(|l| l.seq == 43));
        assert!(b.step_match(false, 5));
        assert_eq!(b.current, Some(33));
        assert!(b.visible(5).any(|l| l.seq == 33));
        assert!(b.step_match(true, 5));
        assert_eq!(b.current, Some(43));
        assert!(!b.step_match(true, 5));
        assert!(!b.search("absent", 5));
    }

    proptest! {
        #[test]
        fn never_exceeds_capacity_and_view_is_in_bounds(
            cap in 1usize..50, n in 0usize..200, ups in 0usize..100, h in 1usize..30
        ) {
            let mut b = buf(n, cap);
            b.scroll_up(ups, h);
            prop_assert!(b.len() <= cap);
            prop_assert!(b.visible(h).count() <= h.min(b.len()));
            prop_assert!(b.from_bottom <= b.len());
        }
    }
}
