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
            held: Vec::new(),
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
        let (out, rest) = self.scan(&buf, true);
        self.held = buf[rest..].to_vec();
        out
    }

    /// The stream ended: what was held back.
    pub fn finish(&mut self) -> Vec<u8> {
        let buf = std::mem::take(&mut self.held);
        self.scan(&buf, false).0
    }

    /// A whole text at once (a complete log line): values replaced.
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let b = text.as_bytes();
        if !self.pairs.iter().any(|(v, _)| contains(b, v)) {
            return Cow::Borrowed(text);
        }
        Cow::Owned(String::from_utf8_lossy(&self.scan(b, false).0).into_owned())
    }

    /// Replaces values in `buf` from left to right. With `hold`, stops where the
    /// rest of `buf` is the start of a value that may go on in the next chunk, and
    /// returns where it stopped.
    fn scan(&self, buf: &[u8], hold: bool) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        'at: while i < buf.len() {
            let rest = &buf[i..];
            if hold
                && self
                    .pairs
                    .iter()
                    .any(|(v, _)| v.len() > rest.len() && v.starts_with(rest))
            {
                return (out, i);
            }
            for (v, m) in &self.pairs {
                if rest.starts_with(v) {
                    out.extend_from_slice(m);
                    i += v.len();
                    continue 'at;
                }
            }
            out.push(buf[i]);
            i += 1;
        }
        (out, buf.len())
    }
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

    proptest! {
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
