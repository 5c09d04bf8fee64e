//! Workspace names and the engine object names derived from them.
use std::fmt;

/// Longest name accepted (a DNS label, so it also works as a hostname).
pub const MAX_NAME_LEN: usize = 63;

/// Prefix of every container and volume berth creates for a workspace.
pub const OBJECT_PREFIX: &str = "workspace-";

/// Prefix of a warm pool slot's name (`WorkspaceName::pool_slot`).
pub const POOL_SLOT_PREFIX: &str = "pool.";

/// Prefix of the SSH host alias (`ssh berth-NAME`).
pub const SSH_ALIAS_PREFIX: &str = "berth-";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a workspace name cannot be empty; use lowercase letters, digits and hyphens, starting with a letter (at most 63 characters)")]
    Empty,
    #[error("workspace name {name:?} is {len} characters long; at most 63 are allowed")]
    TooLong { name: String, len: usize },
    #[error("workspace name {name:?} must start with a lowercase letter (a-z)")]
    BadStart { name: String },
    #[error("workspace name {name:?} contains {ch:?}; only lowercase letters (a-z), digits (0-9) and hyphens (-) are allowed")]
    BadChar { name: String, ch: char },
}

/// A validated workspace name: `[a-z][a-z0-9-]{0,62}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.to_string();
        let first = raw.chars().next().ok_or(NameError::Empty)?;
        let len = raw.chars().count();
        if len > MAX_NAME_LEN {
            return Err(NameError::TooLong { name, len });
        }
        if !first.is_ascii_lowercase() {
            return Err(NameError::BadStart { name });
        }
        if let Some(ch) = raw
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(NameError::BadChar { name, ch });
        }
        Ok(Self(name))
    }

    /// A warm pool slot's name, `pool.<profile>.<id>` (see `domain::pool`): not a
    /// workspace name (the dots), so its container and volume, `berth-pool.<profile>.<id>`,
    /// stay out of the workspaces' and the sidecars' namespaces.
    pub fn pool_slot(profile: &str, id: &str) -> Self {
        Self(format!("{POOL_SLOT_PREFIX}{profile}.{id}"))
    }

    /// Is this a warm pool slot's name (never a workspace's)?
    pub fn is_pool_slot(&self) -> bool {
        self.0.starts_with(POOL_SLOT_PREFIX)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Container name: `workspace-<name>` (`berth-<slot>` for a pool slot).
    pub fn container(&self) -> String {
        self.object()
    }

    /// Home volume name: `workspace-<name>` (`berth-<slot>` for a pool slot).
    pub fn volume(&self) -> String {
        self.object()
    }

    fn object(&self) -> String {
        if self.is_pool_slot() {
            format!("berth-{}", self.0)
        } else {
            format!("{OBJECT_PREFIX}{}", self.0)
        }
    }

    /// A sidecar's container (and its volume): `workspace-<name>.<kind>`. The dot
    /// keeps it apart from every workspace's names (they have no dots).
    pub fn sidecar(&self, kind: &str) -> String {
        format!("{OBJECT_PREFIX}{}.{kind}", self.0)
    }

    /// SSH host alias used in known_hosts and ~/.ssh/berth.d: `berth-<name>`.
    pub fn ssh_alias(&self) -> String {
        format!("{SSH_ALIAS_PREFIX}{}", self.0)
    }
}

impl fmt::Display for WorkspaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const ADJECTIVES: &[&str] = &[
    "amber", "brisk", "calm", "deft", "eager", "fleet", "gentle", "hardy", "keen", "lucid",
    "mellow", "nimble", "plucky", "quiet", "rapid", "steady", "tidy", "vivid", "warm", "zesty",
];
const NOUNS: &[&str] = &[
    "anchor", "beacon", "cove", "dock", "eddy", "ferry", "harbor", "inlet", "jetty", "keel",
    "lagoon", "mooring", "pier", "quay", "reef", "sloop", "tide", "wharf", "yawl", "buoy",
];

/// A readable name for a workspace created without one (`brisk-harbor-3f2`), from
/// `seed` (the caller's randomness).
pub fn name_from_seed(seed: u64) -> String {
    let a = ADJECTIVES[(seed % ADJECTIVES.len() as u64) as usize];
    let n = NOUNS[((seed / 64) % NOUNS.len() as u64) as usize];
    format!("{a}-{n}-{:03x}", (seed >> 16) % 0xfff)
}

/// A readable name seeded by the clock and this process.
pub fn generated_name() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let seed = t ^ (u64::from(std::process::id()) << 32);
    // Mix so that close clocks give different names.
    name_from_seed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pool_slots_live_outside_the_workspace_and_sidecar_names() {
        let s = WorkspaceName::pool_slot("general", "k3f9");
        assert!(s.is_pool_slot());
        assert_eq!(s.container(), "berth-pool.general.k3f9");
        assert_eq!(s.volume(), "berth-pool.general.k3f9");
        assert!(WorkspaceName::parse(s.as_str()).is_err());
        assert!(!WorkspaceName::parse("pool").unwrap().is_pool_slot());
        assert!(!s.container().starts_with(OBJECT_PREFIX));
    }

    #[test]
    fn accepts_simple_names() {
        for ok in ["a", "dev", "api-2", "x1-y2-z3", &"a".repeat(63)] {
            assert!(WorkspaceName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_with_a_sentence_that_says_what_is_allowed() {
        let cases = [
            ("", "cannot be empty"),
            ("Dev", "must start with a lowercase letter"),
            ("1abc", "must start with a lowercase letter"),
            ("-abc", "must start with a lowercase letter"),
            ("ab_c", "contains '_'"),
            ("ab.c", "contains '.'"),
            ("abC", "contains 'C'"),
            ("a b", "contains ' '"),
            ("é", "must start with a lowercase letter"),
        ];
        for (raw, want) in cases {
            let err = WorkspaceName::parse(raw).unwrap_err().to_string();
            assert!(err.contains(want), "{raw:?}: {err}");
        }
        let long = "a".repeat(64);
        let err = WorkspaceName::parse(&long).unwrap_err().to_string();
        assert!(
            err.contains("64 characters") && err.contains("at most 63"),
            "{err}"
        );
    }

    #[test]
    fn generated_names_are_valid() {
        for seed in [0, 1, 63, 64, u64::MAX, 0xdead_beef] {
            let n = name_from_seed(seed);
            assert!(WorkspaceName::parse(&n).is_ok(), "{n}");
        }
        assert!(WorkspaceName::parse(&generated_name()).is_ok());
    }

    #[test]
    fn derived_names() {
        let n = WorkspaceName::parse("api").unwrap();
        assert_eq!(n.container(), "workspace-api");
        assert_eq!(n.volume(), "workspace-api");
        assert_eq!(n.ssh_alias(), "berth-api");
    }

    proptest! {
        #[test]
        fn valid_names_round_trip(raw in "[a-z][a-z0-9-]{0,62}") {
            let n = WorkspaceName::parse(&raw).unwrap();
            prop_assert_eq!(n.as_str(), raw.as_str());
            prop_assert!(n.container().len() <= 63 + OBJECT_PREFIX.len());
        }

        #[test]
        fn anything_accepted_matches_the_rule(raw in "\\PC{0,70}") {
            if WorkspaceName::parse(&raw).is_ok() {
                let mut chars = raw.chars();
                prop_assert!(chars.next().unwrap().is_ascii_lowercase());
                prop_assert!(chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
                prop_assert!(raw.len() <= 63);
            }
        }
    }
}
