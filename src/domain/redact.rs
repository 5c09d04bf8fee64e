//! Secret values hidden from the text berth prints or keeps (progress lines, step
//! errors, the audit trail): a setup script with `set -x`, or one that echoes a
//! token, must not put a passed-through value on the user's terminal, the TUI or
//! the store. Values stay in memory only.
use std::borrow::Cow;

/// Values shorter than this are not redacted: they would hide ordinary text
/// ("1", "yes") and are no secret worth the name.
pub const MIN_LEN: usize = 4;

/// Passed through but not secret, and common words in output ("localhost").
const NOT_SECRET: &[&str] = &["NO_PROXY", "no_proxy"];

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// (name, value), longest value first so a value containing another is hidden whole.
    pairs: Vec<(String, String)>,
}

impl Redactor {
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in vars {
            if NOT_SECRET.contains(&name.as_str()) {
                continue;
            }
            // Output is read line by line: each line of a multi-line value (a PEM key,
            // JSON credentials) is hidden on its own too.
            let lines = value.lines().map(str::trim).filter(|l| *l != value);
            let parts: Vec<String> = std::iter::once(value.as_str())
                .chain(lines)
                .filter(|v| v.chars().count() >= MIN_LEN)
                .map(String::from)
                .collect();
            pairs.extend(parts.into_iter().map(|v| (name.clone(), v)));
        }
        pairs.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        pairs.dedup_by(|a, b| a.1 == b.1);
        Self { pairs }
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `text` with every value replaced by `[redacted NAME]`.
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (name, value) in &self.pairs {
            if out.contains(value.as_str()) {
                out = Cow::Owned(out.replace(value.as_str(), &format!("[redacted {name}]")));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_are_replaced_by_their_name() {
        let r = Redactor::new([
            ("A".into(), "sk-abcdef".into()),
            ("B".into(), "sk-abcdef-long".into()),
            ("C".into(), "no".into()),
        ]);
        assert_eq!(
            r.apply("x sk-abcdef-long y sk-abcdef no"),
            "x [redacted B] y [redacted A] no"
        );
        assert!(matches!(r.apply("clean"), Cow::Borrowed(_)));
        assert!(Redactor::new([("C".to_string(), "ab".to_string())]).is_empty());
        assert!(Redactor::new([("NO_PROXY".to_string(), "localhost".to_string())]).is_empty());
    }

    #[test]
    fn each_line_of_a_multi_line_value_is_hidden() {
        let r = Redactor::new([(
            "KEY".to_string(),
            "-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----".to_string(),
        )]);
        assert_eq!(r.apply("+ echo AAAAsecretline"), "+ echo [redacted KEY]");
    }

    proptest! {
        #[test]
        fn no_value_survives(v in "[A-Za-z0-9_-]{4,20}", pre in "[ -~]{0,10}", post in "[ -~]{0,10}") {
            let r = Redactor::new([("K".to_string(), v.clone())]);
            let text = format!("{pre}{v}{post}");
            let out = r.apply(&text);
            // The value may only remain where the marker itself spells it (the value
            // has no '[', ']' or ' ', so no occurrence can straddle a marker).
            prop_assert!(!out.contains(&v) || "[redacted K]".contains(&v));
        }
    }
}
