//! Networks berth makes: named networks (`berth net create NAME`, engine name
//! `berth-NAME`) that join workspaces to each other, and the network of each
//! workspace (`workspace-NAME`) that joins it to its services. Names, labels, DNS
//! aliases, and who a member of a network is (from its container's name). Pure.
use super::labels;
use super::naming::{WorkspaceName, OBJECT_PREFIX};
use std::collections::BTreeMap;
use std::fmt;

/// Prefix of a named network's engine name.
pub const NETWORK_PREFIX: &str = "berth-";

/// Longest name of a network or a service (a DNS label).
pub const MAX_LABEL_LEN: usize = 63;

/// Why `raw` is not a DNS label as berth accepts them (`[a-z][a-z0-9-]*`, at most
/// 63 characters, not ending with '-'); `what` names the thing ("network name").
pub fn dns_label_problem(what: &str, raw: &str) -> Option<String> {
    let allowed = "use lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (at most 63 characters)";
    let Some(first) = raw.chars().next() else {
        return Some(format!("a {what} cannot be empty; {allowed}"));
    };
    let len = raw.chars().count();
    if len > MAX_LABEL_LEN {
        return Some(format!(
            "{what} {raw:?} is {len} characters long; at most {MAX_LABEL_LEN} are allowed"
        ));
    }
    if !first.is_ascii_lowercase() {
        return Some(format!(
            "{what} {raw:?} must start with a lowercase letter (a-z); {allowed}"
        ));
    }
    if let Some(ch) = raw
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("{what} {raw:?} contains {ch:?}; {allowed}"));
    }
    if raw.ends_with('-') {
        return Some(format!("{what} {raw:?} ends with a hyphen; {allowed}"));
    }
    None
}

/// A named network's name as the user gives it (`berth net create NAME`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NetworkName(String);

impl NetworkName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match dns_label_problem("network name", raw) {
            Some(p) => Err(p),
            None => Ok(Self(raw.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The engine's network: `berth-NAME`.
    pub fn engine_name(&self) -> String {
        format!("{NETWORK_PREFIX}{}", self.0)
    }
}

impl fmt::Display for NetworkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses each name once, in order (a repeated one is said, not doubled).
pub fn parse_list(raw: &[String]) -> Result<Vec<NetworkName>, String> {
    let mut out: Vec<NetworkName> = Vec::new();
    for r in raw {
        let n = NetworkName::parse(r.trim()).map_err(|e| format!("--network: {e}"))?;
        if out.contains(&n) {
            return Err(format!(
                "--network {n} is given twice; name each network once"
            ));
        }
        out.push(n);
    }
    Ok(out)
}

/// The network that joins workspace `ws` to its services: `workspace-NAME`
/// (networks are a namespace of their own, apart from containers and volumes).
pub fn workspace_network(ws: &WorkspaceName) -> String {
    format!("{OBJECT_PREFIX}{ws}")
}

/// Labels of named network `name`: the config's extra labels, its role and name.
pub fn named_labels(
    extra: &BTreeMap<String, String>,
    name: &NetworkName,
) -> BTreeMap<String, String> {
    let mut l = extra.clone();
    l.insert(labels::ROLE.into(), labels::ROLE_NETWORK.into());
    l.insert(labels::NETWORK.into(), name.to_string());
    l
}

/// Labels of workspace `ws`'s own network.
pub fn workspace_network_labels(
    extra: &BTreeMap<String, String>,
    ws: &WorkspaceName,
) -> BTreeMap<String, String> {
    let mut l = extra.clone();
    l.insert(labels::ROLE.into(), labels::ROLE_WORKSPACE_NETWORK.into());
    l.insert(labels::NAME.into(), ws.to_string());
    l
}

/// For the workspace label: "a,b".
pub fn label_value(names: &[NetworkName]) -> String {
    names
        .iter()
        .map(NetworkName::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// The names in a workspace's [`labels::NETWORKS`] label.
pub fn from_label(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A service's DNS name on a named network: `SERVICE.WORKSPACE` (two workspaces
/// on one network may each have a `db`; a workspace name has no dot, so this
/// never collides with one).
pub fn service_alias(ws: &WorkspaceName, service: &str) -> String {
    format!("{service}.{ws}")
}

/// What a container on a network is, from its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Member {
    /// `workspace-NAME`.
    Workspace(String),
    /// `workspace-NAME.KIND`: a sidecar (a service, its Docker engine, ...).
    Sidecar { workspace: String, kind: String },
    /// Something berth did not make.
    Other(String),
}

impl Member {
    pub fn of(container: &str) -> Self {
        let c = container.trim_start_matches('/');
        let Some(rest) = c.strip_prefix(OBJECT_PREFIX) else {
            return Member::Other(c.to_string());
        };
        match rest.split_once('.') {
            Some((ws, kind)) if WorkspaceName::parse(ws).is_ok() && !kind.is_empty() => {
                Member::Sidecar {
                    workspace: ws.to_string(),
                    kind: kind.to_string(),
                }
            }
            None if WorkspaceName::parse(rest).is_ok() => Member::Workspace(rest.to_string()),
            _ => Member::Other(c.to_string()),
        }
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Member::Workspace(w) => write!(f, "workspace {w}"),
            Member::Sidecar { workspace, kind } => write!(f, "{kind} of workspace {workspace}"),
            Member::Other(c) => write!(f, "container {c}"),
        }
    }
}

/// "workspaces a and b, db of workspace c": who uses a network, for a sentence.
pub fn describe_members(members: &[Member]) -> String {
    let workspaces: Vec<&str> = members
        .iter()
        .filter_map(|m| match m {
            Member::Workspace(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let mut parts = Vec::new();
    match workspaces.len() {
        0 => {}
        1 => parts.push(format!("workspace {}", workspaces[0])),
        _ => parts.push(format!("workspaces {}", workspaces.join(", "))),
    }
    parts.extend(
        members
            .iter()
            .filter(|m| !matches!(m, Member::Workspace(_)))
            .map(ToString::to_string),
    );
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_dns_labels_with_a_sentence_when_not() {
        for ok in ["a", "backend", "net-2", &"a".repeat(63)] {
            assert!(NetworkName::parse(ok).is_ok(), "{ok}");
        }
        for (bad, want) in [
            ("", "cannot be empty"),
            ("Net", "must start with a lowercase letter"),
            ("2net", "must start with a lowercase letter"),
            ("a_b", "contains '_'"),
            ("a.b", "contains '.'"),
            ("ab-", "ends with a hyphen"),
            (&"a".repeat(64), "64 characters"),
        ] {
            let e = NetworkName::parse(bad).unwrap_err();
            assert!(e.contains(want) && e.contains("network name"), "{bad}: {e}");
        }
        let n = NetworkName::parse("backend").unwrap();
        assert_eq!(n.engine_name(), "berth-backend");
    }

    #[test]
    fn lists_refuse_a_name_twice_and_round_trip_through_the_label() {
        let l = parse_list(&["a".into(), "b".into()]).unwrap();
        assert_eq!(label_value(&l), "a,b");
        assert_eq!(from_label("a,b"), ["a", "b"]);
        assert!(from_label("").is_empty());
        assert!(parse_list(&["a".into(), "a".into()])
            .unwrap_err()
            .contains("twice"));
        assert!(parse_list(&["A".into()])
            .unwrap_err()
            .starts_with("--network"));
    }

    #[test]
    fn labels_and_names_of_a_workspace_network() {
        let ws = WorkspaceName::parse("api").unwrap();
        assert_eq!(workspace_network(&ws), "workspace-api");
        let extra = [("berth.test-run".to_string(), "r".to_string())].into();
        let l = workspace_network_labels(&extra, &ws);
        assert_eq!(l[labels::ROLE], labels::ROLE_WORKSPACE_NETWORK);
        assert_eq!(l[labels::NAME], "api");
        assert_eq!(l["berth.test-run"], "r");
        let l = named_labels(&extra, &NetworkName::parse("n").unwrap());
        assert_eq!(l[labels::ROLE], labels::ROLE_NETWORK);
        assert_eq!(l[labels::NETWORK], "n");
        assert_eq!(service_alias(&ws, "db"), "db.api");
    }

    #[test]
    fn members_are_told_apart_by_their_container_names() {
        assert_eq!(Member::of("/workspace-a"), Member::Workspace("a".into()));
        assert_eq!(
            Member::of("workspace-a.db"),
            Member::Sidecar {
                workspace: "a".into(),
                kind: "db".into()
            }
        );
        assert_eq!(Member::of("redis"), Member::Other("redis".into()));
        assert_eq!(
            Member::of("workspace-A"),
            Member::Other("workspace-A".into())
        );
        let m = [
            Member::of("workspace-a"),
            Member::of("workspace-b"),
            Member::of("workspace-c.db"),
            Member::of("x"),
        ];
        assert_eq!(
            describe_members(&m),
            "workspaces a, b, db of workspace c, container x"
        );
        assert_eq!(describe_members(&m[..1]), "workspace a");
    }

    proptest! {
        #[test]
        fn accepted_names_are_dns_labels(raw in "\\PC{0,70}") {
            if NetworkName::parse(&raw).is_ok() {
                prop_assert!(raw.len() <= 63 && !raw.ends_with('-'));
                prop_assert!(raw.starts_with(|c: char| c.is_ascii_lowercase()));
                prop_assert!(raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            }
        }

        #[test]
        fn every_workspace_and_sidecar_name_is_recognised(
            ws in "[a-z][a-z0-9-]{0,20}",
            kind in "[a-z][a-z0-9]{0,10}",
        ) {
            let w = WorkspaceName::parse(&ws).unwrap();
            prop_assert_eq!(Member::of(&w.container()), Member::Workspace(ws.clone()));
            prop_assert_eq!(
                Member::of(&w.sidecar(&kind)),
                Member::Sidecar { workspace: ws, kind }
            );
        }
    }
}
