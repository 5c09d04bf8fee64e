//! SSH port allocation policy over a configured range.
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl Default for PortRange {
    fn default() -> Self {
        Self {
            start: 2200,
            end: 2400,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("port range {0:?} is not of the form START-END (for example 2200-2400)")]
    BadRange(String),
    #[error("port range {start}-{end} is empty or reversed; START must not exceed END")]
    Reversed { start: u16, end: u16 },
    #[error("port range {start}-{end} starts below 1024; use unprivileged ports")]
    Privileged { start: u16, end: u16 },
    #[error("no free SSH port left in {range} ({used} used by workspaces, {reserved} reserved by creates in progress, {busy} held by other programs); widen `ssh.port_range` in the config file or delete unused workspaces")]
    Exhausted {
        range: PortRange,
        used: usize,
        reserved: usize,
        busy: usize,
    },
}

impl PortRange {
    pub fn new(start: u16, end: u16) -> Result<Self, PortError> {
        if start > end {
            return Err(PortError::Reversed { start, end });
        }
        if start < 1024 {
            return Err(PortError::Privileged { start, end });
        }
        Ok(Self { start, end })
    }

    pub fn contains(&self, port: u16) -> bool {
        (self.start..=self.end).contains(&port)
    }

    pub fn len(&self) -> usize {
        usize::from(self.end - self.start) + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> {
        self.start..=self.end
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

impl FromStr for PortRange {
    type Err = PortError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PortError::BadRange(s.to_string());
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let start = a.trim().parse::<u16>().map_err(|_| bad())?;
        let end = b.trim().parse::<u16>().map_err(|_| bad())?;
        Self::new(start, end)
    }
}

/// Ports already spoken for, by who holds them (so a refusal can say so).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    /// Recorded on existing workspaces (the engine's labels).
    pub workspaces: BTreeSet<u16>,
    /// Leased by creates still in progress, or refused by the engine moments ago.
    pub reserved: BTreeSet<u16>,
}

impl Taken {
    pub fn contains(&self, port: u16) -> bool {
        self.workspaces.contains(&port) || self.reserved.contains(&port)
    }
}

/// The lowest port in `range` that is not `taken` and that `host_busy` does not
/// report as held by another program on the host.
pub fn lowest_free(
    range: PortRange,
    taken: &Taken,
    mut host_busy: impl FnMut(u16) -> bool,
) -> Result<u16, PortError> {
    let mut busy = 0;
    for port in range.iter() {
        if taken.contains(port) {
            continue;
        }
        if host_busy(port) {
            busy += 1;
            continue;
        }
        return Ok(port);
    }
    let used = taken
        .workspaces
        .iter()
        .filter(|p| range.contains(**p))
        .count();
    let reserved = taken
        .reserved
        .iter()
        .filter(|p| range.contains(**p) && !taken.workspaces.contains(p))
        .count();
    Err(PortError::Exhausted {
        range,
        used,
        reserved,
        busy,
    })
}

/// How many ports of the range are neither taken nor busy.
pub fn free_count(
    range: PortRange,
    taken: &BTreeSet<u16>,
    mut host_busy: impl FnMut(u16) -> bool,
) -> usize {
    range
        .iter()
        .filter(|p| !taken.contains(p) && !host_busy(*p))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(
            "2200-2400".parse::<PortRange>().unwrap(),
            PortRange {
                start: 2200,
                end: 2400
            }
        );
        assert_eq!(" 3000 - 3000 ".parse::<PortRange>().unwrap().len(), 1);
        assert!(matches!(
            "2400-2200".parse::<PortRange>(),
            Err(PortError::Reversed { .. })
        ));
        assert!(matches!(
            "22-80".parse::<PortRange>(),
            Err(PortError::Privileged { .. })
        ));
        assert!(matches!(
            "2200".parse::<PortRange>(),
            Err(PortError::BadRange(_))
        ));
        assert!(matches!(
            "a-b".parse::<PortRange>(),
            Err(PortError::BadRange(_))
        ));
        assert!(matches!(
            "2200-70000".parse::<PortRange>(),
            Err(PortError::BadRange(_))
        ));
    }

    #[test]
    fn picks_lowest_and_skips_taken_and_busy() {
        let r = PortRange::new(2200, 2205).unwrap();
        let taken = Taken {
            workspaces: [2200].into(),
            reserved: [2202].into(),
        };
        assert_eq!(lowest_free(r, &taken, |_| false).unwrap(), 2201);
        assert_eq!(lowest_free(r, &taken, |p| p == 2201).unwrap(), 2203);
    }

    #[test]
    fn exhausted_names_range_and_setting() {
        let r = PortRange::new(2300, 2303).unwrap();
        let taken = Taken {
            workspaces: [2300, 2301, 9999].into(),
            reserved: [2301, 2302].into(),
        };
        let err = lowest_free(r, &taken, |p| p == 2303).unwrap_err();
        assert_eq!(
            err,
            PortError::Exhausted {
                range: r,
                used: 2,
                reserved: 1,
                busy: 1
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("2300-2303")
                && msg.contains("2 used by workspaces, 1 reserved by creates in progress, 1 held by other programs")
                && msg.contains("ssh.port_range"),
            "{msg}"
        );
    }

    proptest! {
        #[test]
        fn result_is_in_range_free_and_lowest(
            start in 1024u16..60000,
            len in 1u16..300,
            taken in proptest::collection::btree_set(1024u16..61000, 0..200),
            busy in proptest::collection::btree_set(1024u16..61000, 0..50),
        ) {
            let range = PortRange::new(start, start + len - 1).unwrap();
            let t = Taken { workspaces: taken.clone(), reserved: BTreeSet::new() };
            match lowest_free(range, &t, |p| busy.contains(&p)) {
                Ok(p) => {
                    prop_assert!(range.contains(p));
                    prop_assert!(!taken.contains(&p) && !busy.contains(&p));
                    for lower in range.start..p {
                        prop_assert!(taken.contains(&lower) || busy.contains(&lower));
                    }
                }
                Err(PortError::Exhausted { .. }) => {
                    prop_assert!(range.iter().all(|p| taken.contains(&p) || busy.contains(&p)));
                    prop_assert_eq!(free_count(range, &taken, |p| busy.contains(&p)), 0);
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }

        #[test]
        fn repeated_allocation_never_repeats_a_port(n in 1usize..60) {
            let range = PortRange::new(2200, 2250).unwrap();
            let mut taken = Taken::default();
            for _ in 0..n {
                match lowest_free(range, &taken, |_| false) {
                    Ok(p) => prop_assert!(taken.reserved.insert(p)),
                    Err(_) => prop_assert_eq!(taken.reserved.len(), range.len()),
                }
            }
        }
    }
}
