//! Alerts on what berth's workspaces take (pure: thresholds and measurements in,
//! alerts out). One workspace's home past `[limits] disk_alert`; all of them
//! together past `[limits] alert_threshold_pct` of the host's CPUs, memory or the
//! filesystem holding their volumes. Each alert is a sentence with its numbers; a
//! key says which it is, so a runner can log when one starts and when it clears.
use super::limits::{format_size, human_size};
use serde::Serialize;
use std::collections::BTreeSet;

/// What the alerts are measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Percent of the host (1..=100).
    pub pct: u8,
    /// One workspace's home volume size; `None`: no per-workspace alert.
    pub disk_alert: Option<u64>,
}

/// The host as far as it is known (0 or `None`: unknown, that alert is skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Host {
    pub cpus: u32,
    pub mem_bytes: u64,
    /// Size of the filesystem holding the workspaces' home volumes.
    pub disk_bytes: Option<u64>,
}

/// What one workspace takes now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Use {
    pub name: String,
    /// CPU cores busy (1.0 = one core), for running workspaces.
    pub cpu_cores: f64,
    pub mem_bytes: u64,
    /// Its home volume's size, when measured.
    pub disk_bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Cpu,
    Memory,
    Disk,
    WorkspaceDisk,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Stable identity: "cpu", "memory", "disk" or "disk:NAME".
    pub key: String,
    pub kind: Kind,
    /// The workspace, for a per-workspace alert.
    pub workspace: Option<String>,
    pub used: f64,
    pub limit: f64,
    pub sentence: String,
}

fn pct_of(used: f64, total: f64) -> f64 {
    if total <= 0.0 {
        0.0
    } else {
        used / total * 100.0
    }
}

/// The alerts that hold for `uses` on `host`, aggregate ones first.
pub fn evaluate(host: &Host, uses: &[Use], t: Thresholds) -> Vec<Alert> {
    let mut out = Vec::new();
    let threshold = f64::from(t.pct);
    let past = format!("past [limits] alert_threshold_pct = {}", t.pct);
    let cpu: f64 = uses.iter().map(|u| u.cpu_cores).sum();
    if host.cpus > 0 && pct_of(cpu, f64::from(host.cpus)) >= threshold {
        let p = pct_of(cpu, f64::from(host.cpus));
        out.push(Alert {
            key: "cpu".into(),
            kind: Kind::Cpu,
            workspace: None,
            used: cpu,
            limit: f64::from(host.cpus),
            sentence: format!(
                "berth's workspaces use {cpu:.1} of the host's {} CPUs ({p:.0}%), {past}",
                host.cpus
            ),
        });
    }
    let mem: u64 = uses.iter().map(|u| u.mem_bytes).sum();
    if host.mem_bytes > 0 && pct_of(mem as f64, host.mem_bytes as f64) >= threshold {
        let p = pct_of(mem as f64, host.mem_bytes as f64);
        out.push(Alert {
            key: "memory".into(),
            kind: Kind::Memory,
            workspace: None,
            used: mem as f64,
            limit: host.mem_bytes as f64,
            sentence: format!(
                "berth's workspaces use {} of the host's {} of memory ({p:.0}%), {past}",
                human_size(mem),
                human_size(host.mem_bytes)
            ),
        });
    }
    let disk: u64 = uses.iter().filter_map(|u| u.disk_bytes).sum();
    if let Some(total) = host.disk_bytes.filter(|d| *d > 0) {
        let p = pct_of(disk as f64, total as f64);
        if p >= threshold {
            out.push(Alert {
                key: "disk".into(),
                kind: Kind::Disk,
                workspace: None,
                used: disk as f64,
                limit: total as f64,
                sentence: format!(
                    "berth's workspaces' home volumes hold {} of the {} filesystem they live on \
                     ({p:.0}%), {past}",
                    human_size(disk),
                    human_size(total)
                ),
            });
        }
    }
    if let Some(limit) = t.disk_alert {
        for u in uses {
            let Some(d) = u.disk_bytes.filter(|d| *d > limit) else {
                continue;
            };
            out.push(Alert {
                key: format!("disk:{}", u.name),
                kind: Kind::WorkspaceDisk,
                workspace: Some(u.name.clone()),
                used: d as f64,
                limit: limit as f64,
                sentence: format!(
                    "workspace {}'s home volume holds {}, past [limits] disk_alert = {} \
                     (berth reports sizes, it cannot cap them: local volumes have no quota)",
                    u.name,
                    human_size(d),
                    format_size(limit)
                ),
            });
        }
    }
    out
}

/// What changed between two evaluations: the alerts that started, and the keys of
/// those that cleared.
pub fn changes<'a>(before: &[Alert], now: &'a [Alert]) -> (Vec<&'a Alert>, Vec<String>) {
    let was: BTreeSet<&str> = before.iter().map(|a| a.key.as_str()).collect();
    let is: BTreeSet<&str> = now.iter().map(|a| a.key.as_str()).collect();
    let started = now
        .iter()
        .filter(|a| !was.contains(a.key.as_str()))
        .collect();
    let cleared = before
        .iter()
        .filter(|a| !is.contains(a.key.as_str()))
        .map(|a| a.key.clone())
        .collect();
    (started, cleared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const G: u64 = 1 << 30;

    fn host() -> Host {
        Host {
            cpus: 4,
            mem_bytes: 16 * G,
            disk_bytes: Some(100 * G),
        }
    }

    fn u(name: &str, cpu: f64, mem: u64, disk: Option<u64>) -> Use {
        Use {
            name: name.into(),
            cpu_cores: cpu,
            mem_bytes: mem,
            disk_bytes: disk,
        }
    }

    fn keys(a: &[Alert]) -> Vec<&str> {
        a.iter().map(|a| a.key.as_str()).collect()
    }

    const T: Thresholds = Thresholds {
        pct: 80,
        disk_alert: Some(20 * G),
    };

    #[test]
    fn under_every_threshold_nothing_is_raised() {
        let uses = [u("a", 1.0, 4 * G, Some(5 * G)), u("b", 2.0, 8 * G, None)];
        assert!(evaluate(&host(), &uses, T).is_empty());
    }

    #[test]
    fn each_aggregate_alert_says_its_numbers() {
        let uses = [
            u("a", 2.0, 7 * G, Some(40 * G)),
            u("b", 1.5, 7 * G, Some(45 * G)),
        ];
        let a = evaluate(&host(), &uses, T);
        assert_eq!(keys(&a), ["cpu", "memory", "disk", "disk:a", "disk:b"]);
        assert_eq!(
            a[0].sentence,
            "berth's workspaces use 3.5 of the host's 4 CPUs (88%), past [limits] alert_threshold_pct = 80"
        );
        assert!(
            a[1].sentence
                .contains("14G of the host's 16G of memory (88%)"),
            "{}",
            a[1].sentence
        );
        assert!(
            a[2].sentence.contains("85G of the 100G filesystem"),
            "{}",
            a[2].sentence
        );
        assert!(
            a[3].sentence
                .starts_with("workspace a's home volume holds 40G, past [limits] disk_alert = 20g"),
            "{}",
            a[3].sentence
        );
        assert!(a[3].sentence.contains("cannot cap"));
    }

    #[test]
    fn unknown_host_sizes_and_no_disk_alert_raise_nothing() {
        let uses = [u("a", 64.0, 64 * G, Some(1000 * G))];
        let t = Thresholds {
            pct: 1,
            disk_alert: None,
        };
        assert!(evaluate(&Host::default(), &uses, t).is_empty());
    }

    #[test]
    fn a_low_threshold_raises_the_aggregate_alerts() {
        let uses = [u("a", 0.05, G / 2, Some(2 * G))];
        let t = Thresholds {
            pct: 1,
            disk_alert: None,
        };
        assert_eq!(
            keys(&evaluate(&host(), &uses, t)),
            ["cpu", "memory", "disk"]
        );
    }

    #[test]
    fn changes_say_what_started_and_what_cleared() {
        let before = evaluate(&host(), &[u("a", 4.0, 0, Some(30 * G))], T);
        let now = evaluate(&host(), &[u("a", 0.0, 15 * G, Some(30 * G))], T);
        let (started, cleared) = changes(&before, &now);
        assert_eq!(
            started.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(),
            ["memory"]
        );
        assert_eq!(cleared, ["cpu"]);
        let (s, c) = changes(&now, &now);
        assert!(s.is_empty() && c.is_empty());
    }

    proptest! {
        #[test]
        fn the_cpu_alert_holds_exactly_at_or_past_the_threshold(
            busy in 0.0f64..16.0, cpus in 1u32..16, pct in 1u8..=100,
        ) {
            let h = Host { cpus, ..Default::default() };
            let t = Thresholds { pct, disk_alert: None };
            let raised = !evaluate(&h, &[u("a", busy, 0, None)], t).is_empty();
            prop_assert_eq!(raised, busy / f64::from(cpus) * 100.0 >= f64::from(pct));
        }

        #[test]
        fn a_workspace_disk_alert_is_raised_only_past_its_size(size in 0u64..(64 * G), limit in 1u64..(64 * G)) {
            let t = Thresholds { pct: 100, disk_alert: Some(limit) };
            let a = evaluate(&Host::default(), &[u("a", 0.0, 0, Some(size))], t);
            prop_assert_eq!(a.len(), usize::from(size > limit));
        }
    }
}
