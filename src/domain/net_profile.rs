//! Network profiles (`berth create --net-profile`, config `[network] profile`):
//! how a workspace reaches the network. Every choice is explicit and recorded on
//! the workspace (label [`LABEL`]); a workspace made before profiles existed has
//! no label and is `open` (the engine's default bridge). Pure.
use serde::Serialize;
use std::fmt;

/// The label on a workspace that records its profile.
pub const LABEL: &str = "dev.berth.net-profile";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NetProfile {
    /// The engine's default bridge: other containers on it can reach it.
    Open,
    /// berth's shared workspace network with inter-container communication off:
    /// workspaces cannot reach each other; the internet stays reachable.
    #[default]
    Isolated,
    /// An internal network whose only way out is berth's proxy sidecar, which
    /// logs every request and may deny domains off an allowlist.
    Proxy,
    /// No network at all (only `lo`).
    Offline,
}

impl NetProfile {
    pub const ALL: [NetProfile; 4] = [Self::Open, Self::Isolated, Self::Proxy, Self::Offline];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Isolated => "isolated",
            Self::Proxy => "proxy",
            Self::Offline => "offline",
        }
    }

    /// A profile by name, or a sentence listing the profiles there are.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                format!(
                    "unknown network profile {t:?}; pick one of {}",
                    Self::ALL.map(Self::as_str).join(", ")
                )
            })
    }

    /// The profile recorded on a workspace; no label (made before profiles) is
    /// `open`, which is what such a workspace has.
    pub fn from_label(v: Option<&str>) -> Self {
        v.and_then(|v| Self::parse(v).ok()).unwrap_or(Self::Open)
    }

    /// One line for help, status and doctor.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Open => "the engine's default bridge (other containers on it can reach it)",
            Self::Isolated => {
                "berth's isolated network: no workspace can reach another; the internet is reachable"
            }
            Self::Proxy => "internal network; the only way out is berth's logging proxy",
            Self::Offline => "no network (only lo)",
        }
    }
}

impl fmt::Display for NetProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_choices() {
        for p in NetProfile::ALL {
            assert_eq!(NetProfile::parse(p.as_str()), Ok(p));
            assert_eq!(NetProfile::from_label(Some(p.as_str())), p);
        }
        assert_eq!(NetProfile::parse(" Proxy "), Ok(NetProfile::Proxy));
        let e = NetProfile::parse("closed").unwrap_err();
        assert!(e.contains("open, isolated, proxy, offline"), "{e}");
        assert_eq!(NetProfile::from_label(None), NetProfile::Open);
        assert_eq!(NetProfile::default(), NetProfile::Isolated);
    }
}
