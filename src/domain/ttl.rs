//! Durations of the lifetime policy: a workspace's TTL (`--ttl 8h|3d|never`) and
//! the idle time after which the cleanup job stops it. Pure: parsing, display and
//! the arithmetic with an injected clock (times are Unix seconds).
use serde::{Serialize, Serializer};
use std::fmt;

/// How long something may last: for ever, or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Ttl {
    #[default]
    Never,
    After(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duration {0:?} is not understood; write a number with a unit s, m, h, d or w (for example 8h, 3d or 1d12h), or never")]
pub struct BadTtl(pub String);

const UNITS: [(char, u64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl Ttl {
    /// Parses "never", "8h", "3d", "90m", "1d12h", "45s", "2w". Zero is refused:
    /// a TTL of nothing would delete a workspace on the job's next round.
    pub fn parse(s: &str) -> Result<Self, BadTtl> {
        let t = s.trim().to_ascii_lowercase();
        if t == "never" || t == "off" {
            return Ok(Ttl::Never);
        }
        let bad = || BadTtl(s.to_string());
        let mut total: u64 = 0;
        let mut num = String::new();
        for c in t.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let unit = UNITS
                .iter()
                .find(|(u, _)| *u == c)
                .map(|(_, secs)| *secs)
                .ok_or_else(bad)?;
            let n: u64 = num.parse().map_err(|_| bad())?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
            num.clear();
        }
        if !num.is_empty() || total == 0 {
            return Err(bad());
        }
        Ok(Ttl::After(total))
    }

    pub fn secs(&self) -> Option<u64> {
        match self {
            Ttl::Never => None,
            Ttl::After(s) => Some(*s),
        }
    }

    /// `start` plus this duration; `None` for never.
    pub fn after(&self, start: i64) -> Option<i64> {
        self.secs()
            .map(|s| start.saturating_add(i64::try_from(s).unwrap_or(i64::MAX)))
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ttl::Never => f.write_str("never"),
            Ttl::After(secs) => f.write_str(&compact(*secs)),
        }
    }
}

impl Serialize for Ttl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// "1d12h", "8h", "45s": the two largest units that are not zero (a countdown).
pub fn compact(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut left = secs;
    let mut parts = 0;
    for (u, size) in UNITS {
        if parts == 2 {
            break;
        }
        let n = left / size;
        if n > 0 {
            out.push_str(&format!("{n}{u}"));
            left -= n * size;
            parts += 1;
        } else if parts > 0 {
            // "1d0h5m" would mislead: stop at the first gap after a part.
            break;
        }
    }
    out
}

/// A countdown for the list: "2d3h", "5m", "expired"; `None` when there is no deadline.
pub fn countdown(now: i64, deadline: Option<i64>) -> Option<String> {
    let d = deadline?;
    if d <= now {
        return Some("expired".into());
    }
    Some(compact(u64::try_from(d - now).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_units_and_never() {
        assert_eq!(Ttl::parse("never"), Ok(Ttl::Never));
        assert_eq!(Ttl::parse(" NEVER "), Ok(Ttl::Never));
        assert_eq!(Ttl::parse("8h"), Ok(Ttl::After(8 * 3600)));
        assert_eq!(Ttl::parse("3d"), Ok(Ttl::After(3 * 86_400)));
        assert_eq!(Ttl::parse("1d12h"), Ok(Ttl::After(36 * 3600)));
        assert_eq!(Ttl::parse("90m"), Ok(Ttl::After(5400)));
        assert_eq!(Ttl::parse("2w"), Ok(Ttl::After(14 * 86_400)));
        for bad in [
            "",
            "8",
            "h",
            "0h",
            "3x",
            "-1h",
            "1.5h",
            "99999999999999999999w",
        ] {
            assert!(Ttl::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn display_is_compact() {
        assert_eq!(Ttl::After(8 * 3600).to_string(), "8h");
        assert_eq!(Ttl::After(36 * 3600).to_string(), "1d12h");
        assert_eq!(Ttl::Never.to_string(), "never");
        assert_eq!(compact(86_400 + 5 * 60), "1d");
        assert_eq!(compact(59), "59s");
    }

    #[test]
    fn countdown_from_an_injected_clock() {
        assert_eq!(countdown(100, None), None);
        assert_eq!(countdown(100, Some(100)).as_deref(), Some("expired"));
        assert_eq!(countdown(100, Some(100 + 7200)).as_deref(), Some("2h"));
        assert_eq!(Ttl::After(60).after(1000), Some(1060));
        assert_eq!(Ttl::Never.after(1000), None);
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips_whole_units(n in 1u64..1000, u in 0usize..5) {
            let t = Ttl::After(n * UNITS[u].1);
            let again = Ttl::parse(&t.to_string()).unwrap();
            // Display keeps two units at most, so it never grows the duration.
            prop_assert!(again.secs().unwrap() <= t.secs().unwrap());
            prop_assert!(again.secs().unwrap() > 0);
        }
    }
}
