//! Secret files' values hidden from a workspace's text as berth shows it (`berth
//! exec` and `berth logs` output, the logs pane): each value becomes `[secret
//! NAME]`. Output arrives in chunks, and a value can be split across two of them,
//! so [`SecretRedactor::push`] holds back a chunk's end while it could still be the
//! start of a value, and [`SecretRedactor::finish`] lets it go when the stream ends.
//! Bytes, not text: a value may be any bytes, a chunk may end inside a character.
use std::borrow::Cow;

#[derive(Debug, Clone, Default)]
pub struct SecretRedactor {
    /// (value, marker), longest value first so a value containing another is hidden whole.
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The end of the last chunk, held while it may be the start of a value.
    held: Vec<u8>,
    /// The hidden run that goes on into `held`.
    run: Run,
}

/// The marker that replaces secret `name`'s value.
pub fn marker(name: &str) -> String {
    format!("[secret {name}]")
}

impl SecretRedactor {
    /// From (name, value) pairs. A value shorter than [`super::redact::MIN_LEN`]
    /// is not hidden (it would hide ordinary text); each line of a multi-line value
    /// is hidden on its own too (output is often read line by line).
    pub fn new(values: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for (name, value) in values {
            let m = marker(&name).into_bytes();
            let lines = value
                .split(|b| *b == b'\n')
                .map(|l| l.trim_ascii())
                .filter(|l| l.len() != value.len())
                .map(<[u8]>::to_vec);
            for v in std::iter::once(value.clone()).chain(lines) {
                if v.len() >= super::redact::MIN_LEN {
                    pairs.push((v, m.clone()));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        pairs.dedup_by(|a, b| a.0 == b.0);
        Self {
            pairs,
            ..Default::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The next chunk of a stream: what can be shown now, values replaced.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.pairs.is_empty() {
            return chunk.to_vec();
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(chunk);
        let s = self.scan(&buf, true, self.run);
        self.held = buf[s.stop..].to_vec();
        self.run = s.run;
        s.out
    }

    /// The stream ended: what was held back.
    pub fn finish(&mut self) -> Vec<u8> {
        let buf = std::mem::take(&mut self.held);
        let run = std::mem::take(&mut self.run);
        self.scan(&buf, false, run).out
    }

    /// A whole text at once (a complete log line): values replaced.
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let b = text.as_bytes();
        if !self.pairs.iter().any(|(v, _)| contains(b, v)) {
            return Cow::Borrowed(text);
        }
        let out = self.scan(b, false, Run::default()).out;
        Cow::Owned(String::from_utf8_lossy(&out).into_owned())
    }

    /// Hides, from left to right, every byte that is inside some value's
    /// occurrence (overlapping occurrences too: no part of either is shown); a
    /// hidden run becomes the markers of the values that make it up. With `hold`,
    /// stops where the rest of `buf` is the start of a value that may go on in the
    /// next chunk.
    fn scan(&self, buf: &[u8], hold: bool, run: Run) -> Scan {
        let mut out = Vec::with_capacity(buf.len());
        let (mut hidden_end, mut last) = (run.hidden, run.last);
        for i in 0..buf.len() {
            let rest = &buf[i..];
            if hold
                && self
                    .pairs
                    .iter()
                    .any(|(v, _)| v.len() > rest.len() && v.starts_with(rest))
            {
                let run = Run {
                    hidden: hidden_end.saturating_sub(i),
                    last,
                };
                return Scan { out, stop: i, run };
            }
            // Longest first: the one that hides the most from here.
            if let Some(k) = self.pairs.iter().position(|(v, _)| rest.starts_with(v)) {
                let end = i + self.pairs[k].0.len();
                if end > hidden_end {
                    let same = last.is_some_and(|l| self.pairs[l].1 == self.pairs[k].1);
                    if i >= hidden_end || !same {
                        out.extend_from_slice(&self.pairs[k].1);
                        last = Some(k);
                    }
                    hidden_end = end;
                }
            }
            if i >= hidden_end {
                out.push(buf[i]);
                last = None;
            }
        }
        let run = Run {
            hidden: hidden_end.saturating_sub(buf.len()),
            last,
        };
        Scan {
            out,
            stop: buf.len(),
            run,
        }
    }
}

/// A hidden run going on into what follows: how many more bytes it hides, and
/// the value whose marker was shown last in it.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    hidden: usize,
    last: Option<usize>,
}

struct Scan {
    out: Vec<u8>,
    /// Where it stopped (what follows is held back).
    stop: usize,
    run: Run,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(pairs: &[(&str, &str)]) -> SecretRedactor {
        SecretRedactor::new(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())),
        )
    }

    fn stream(red: &mut SecretRedactor, chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        for c in chunks {
            out.extend(red.push(c));
        }
        out.extend(red.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_value_split_across_chunks_is_hidden() {
        let mut red = r(&[("API", "sk-123456")]);
        assert_eq!(
            stream(&mut red, &[b"key=sk-1", b"23", b"456 done\n"]),
            "key=[secret API] done\n"
        );
        // What may start a value waits; what cannot is shown at once.
        let mut red = r(&[("API", "sk-123456")]);
        assert_eq!(red.push(b"abc sk-"), b"abc ");
        assert_eq!(red.push(b"x"), b"sk-x");
        assert_eq!(red.push(b"sk-12"), b"");
        assert_eq!(red.finish(), b"sk-12");
    }

    #[test]
    fn longer_values_win_and_lines_of_a_multi_line_value_are_hidden() {
        let red = r(&[("A", "abcd"), ("B", "abcdefgh"), ("C", "ab")]);
        assert_eq!(
            red.apply("x abcdefgh abcd ab"),
            "x [secret B] [secret A] ab"
        );
        assert!(matches!(red.apply("clean"), Cow::Borrowed(_)));
        let red = r(&[("K", "-----BEGIN-----\nAAAAsecret\n-----END-----\n")]);
        assert_eq!(red.apply("+ echo AAAAsecret"), "+ echo [secret K]");
        assert!(r(&[("S", "abc")]).is_empty());
        let mut none = SecretRedactor::default();
        assert_eq!(none.push(b"abc"), b"abc");
    }

    #[test]
    fn overlapping_values_are_hidden_whole() {
        // The end of one value is the start of another: neither shows a byte.
        let red = r(&[("A", "xx-abcd"), ("B", "abcd-yyyy")]);
        assert_eq!(red.apply("1 xx-abcd-yyyy 2"), "1 [secret A][secret B] 2");
        assert_eq!(red.apply("xx-abcd abcd-yyyy"), "[secret A] [secret B]");
        // A value overlapping itself, and one next to another occurrence.
        let red = r(&[("S", "abab")]);
        assert_eq!(red.apply("ababab abababab"), "[secret S] [secret S]");
        let mut red = r(&[("A", "xx-abcd"), ("B", "abcd-yyyy")]);
        assert_eq!(
            stream(&mut red, &[b"1 xx-ab", b"cd-y", b"yyy 2"]),
            "1 [secret A][secret B] 2"
        );
    }

    proptest! {
        #[test]
        fn overlapping_values_survive_no_chunking(
            a in "[ab]{4,8}",
            b in "[ab]{4,8}",
            text in "[ab ]{0,40}",
            cuts in proptest::collection::vec(0usize..40, 0..5),
        ) {
            let pairs = [("A".to_string(), a.as_bytes().to_vec()), ("B".to_string(), b.as_bytes().to_vec())];
            let mut red = SecretRedactor::new(pairs.clone());
            let bytes = text.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for c in cuts {
                chunks.push(&bytes[last..c]);
                last = c;
            }
            chunks.push(&bytes[last..]);
            let out = stream(&mut red, &chunks);
            let whole = SecretRedactor::new(pairs).apply(&text).into_owned();
            prop_assert_eq!(&out, &whole);
            // No byte of an occurrence is shown: what is left has no a/b of one.
            let shown: String = out.replace("[secret A]", "|").replace("[secret B]", "|");
            prop_assert!(!shown.contains(&a) && !shown.contains(&b), "{}", out);
        }

        #[test]
        fn no_value_survives_any_chunking(
            v in "[a-z0-9]{4,12}",
            pre in "[ -~]{0,12}",
            post in "[ -~]{0,12}",
            cuts in proptest::collection::vec(0usize..40, 0..5),
        ) {
            let text = format!("{pre}{v}{post}{v}");
            let mut red = SecretRedactor::new([("N".to_string(), v.as_bytes().to_vec())]);
            let bytes = text.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for c in cuts {
                chunks.push(&bytes[last..c]);
                last = c;
            }
            chunks.push(&bytes[last..]);
            let out = stream(&mut red, &chunks);
            // Chunked or not, the same result.
            prop_assert_eq!(&out, &red.apply(&text).into_owned());
            prop_assert!(!out.contains(&v) || marker("N").contains(&v));
        }
    }
}
