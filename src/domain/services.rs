//! Services: containers (a database, a cache) beside a workspace, reachable from it
//! by their name. Their names, what `berth service add` asks for (parsed and
//! checked here, before anything is made) and their labels. Pure.
use super::create_options::{parse_port, PortMap};
use super::env::parse_assignment;
use super::labels;
use super::networks::{dns_label_problem, parse_list, NetworkName};
use super::ports::PortRange;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Names a service cannot have: `docker` is the kind of the workspace's own Docker
/// engine sidecar, `workspace` the workspace's own tag in the logs.
pub const RESERVED: &[&str] = &["docker", "workspace"];

/// A service's name: its DNS name seen from the workspace, its tag in the logs and
/// the kind in its container's name (`workspace-WS.NAME`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(p) = dns_label_problem("service name", raw) {
            return Err(p);
        }
        if RESERVED.contains(&raw) {
            return Err(format!(
                "service name {raw:?} is reserved for berth ({}); pick another, like {raw}2",
                if raw == "docker" {
                    "the Docker engine of `create --docker`"
                } else {
                    "the workspace's own lines in the logs"
                }
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `berth service add`'s flags as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceRequest {
    pub name: String,
    pub image: String,
    /// `--env K=V`.
    pub env: Vec<String>,
    /// `--port HOST:CONTAINER`.
    pub ports: Vec<String>,
    /// `--network NAME`: named networks it joins too.
    pub networks: Vec<String>,
    /// The command (after `--`); the image's own when empty.
    pub cmd: Vec<String>,
}

/// A service to add, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: ServiceName,
    pub image: String,
    /// Public values: in the container's config (`docker inspect` shows them).
    pub env: Vec<(String, String)>,
    pub ports: Vec<PortMap>,
    pub networks: Vec<NetworkName>,
    pub cmd: Vec<String>,
}

impl ServiceRequest {
    /// Checks what needs no engine: the name, the image reference, each variable,
    /// each port (outside the SSH range, each host port once) and network.
    pub fn parse(&self, ssh_range: PortRange) -> Result<Service, String> {
        let name = ServiceName::parse(self.name.trim())?;
        let image = self.image.trim();
        if image.is_empty() || image.starts_with('-') || image.chars().any(char::is_whitespace) {
            return Err(format!(
                "--image {:?} is not an image reference; give one like postgres:16 or debian:bookworm-slim",
                self.image
            ));
        }
        let env = self
            .env
            .iter()
            .map(|e| parse_assignment(e))
            .collect::<Result<Vec<_>, _>>()?;
        let mut hosts = BTreeSet::new();
        let mut ports = Vec::new();
        for p in &self.ports {
            let p = parse_port(p)?;
            if ssh_range.contains(p.host) {
                return Err(format!(
                    "--port {}:{}: host port {} is in berth's SSH port range ({}-{}); pick a port outside it",
                    p.host, p.container, p.host, ssh_range.start, ssh_range.end
                ));
            }
            if !hosts.insert(p.host) {
                return Err(format!(
                    "host port {} is published twice; give each --port its own host port",
                    p.host
                ));
            }
            ports.push(p);
        }
        Ok(Service {
            name,
            image: image.to_string(),
            env,
            ports,
            networks: parse_list(&self.networks)?,
            cmd: self.cmd.clone(),
        })
    }
}

/// Labels of service `service` of workspace `workspace`: a sidecar's (so it starts,
/// stops and goes with the workspace, and its logs are followed with the
/// workspace's) and its service name.
pub fn service_labels(
    extra: &BTreeMap<String, String>,
    workspace: &str,
    service: &ServiceName,
) -> BTreeMap<String, String> {
    let mut l = labels::sidecar_labels(extra, workspace, service.as_str(), false);
    l.insert(labels::SERVICE.into(), service.to_string());
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range() -> PortRange {
        PortRange {
            start: 2200,
            end: 2400,
        }
    }

    fn req(name: &str) -> ServiceRequest {
        ServiceRequest {
            name: name.into(),
            image: "postgres:16".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_full_request_parses() {
        let r = ServiceRequest {
            env: vec!["POSTGRES_PASSWORD=dev".into()],
            ports: vec!["5433:5432".into()],
            networks: vec!["backend".into()],
            cmd: vec!["postgres".into(), "-c".into(), "fsync=off".into()],
            ..req("db")
        };
        let s = r.parse(range()).unwrap();
        assert_eq!(s.name.as_str(), "db");
        assert_eq!(s.env, [("POSTGRES_PASSWORD".into(), "dev".into())]);
        assert_eq!(
            s.ports,
            [PortMap {
                host: 5433,
                container: 5432
            }]
        );
        assert_eq!(s.networks[0].engine_name(), "berth-backend");
        assert_eq!(s.cmd.len(), 3);
    }

    #[test]
    fn bad_requests_say_what_to_do() {
        let cases: Vec<(ServiceRequest, &str)> = vec![
            (req("docker"), "reserved"),
            (req("workspace"), "reserved"),
            (req("Db"), "lowercase"),
            (req("db_1"), "contains '_'"),
            (
                ServiceRequest {
                    image: " ".into(),
                    ..req("db")
                },
                "not an image reference",
            ),
            (
                ServiceRequest {
                    env: vec!["NOEQUALS".into()],
                    ..req("db")
                },
                "NAME=VALUE",
            ),
            (
                ServiceRequest {
                    ports: vec!["2201:80".into()],
                    ..req("db")
                },
                "SSH port range",
            ),
            (
                ServiceRequest {
                    ports: vec!["8080:80".into(), "8080:81".into()],
                    ..req("db")
                },
                "published twice",
            ),
            (
                ServiceRequest {
                    ports: vec!["80".into()],
                    ..req("db")
                },
                "HOST:CONTAINER",
            ),
            (
                ServiceRequest {
                    networks: vec!["Bad".into()],
                    ..req("db")
                },
                "--network",
            ),
        ];
        for (r, want) in cases {
            let e = r.parse(range()).unwrap_err();
            assert!(e.contains(want), "{r:?}: {e}");
        }
    }

    #[test]
    fn labels_make_it_a_sidecar_of_its_workspace() {
        let n = ServiceName::parse("db").unwrap();
        let l = service_labels(&BTreeMap::new(), "w", &n);
        assert_eq!(l[labels::ROLE], labels::ROLE_SIDECAR);
        assert_eq!(l[labels::NAME], "w");
        assert_eq!(l[labels::SIDECAR], "db");
        assert_eq!(l[labels::SERVICE], "db");
        assert!(!l.contains_key(labels::NETNS));
    }
}
