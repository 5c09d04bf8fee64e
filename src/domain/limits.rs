//! Limits on what berth's workspaces may take: how many run at once
//! (`[limits] max_concurrent`), the CPU cores each gets (`[resources] cpus`, capped
//! at the host's), and sizes as people write them ("20g"). Pure: the backend
//! (`backend::limits`) gathers the facts and holds the lock.
use super::workspace::{Workspace, WorkspaceState};
use std::collections::BTreeSet;

/// On a warm pool's containers (`domain::pool`): unclaimed ones are not anyone's
/// workspace yet, so they do not count against the limit; claimed ones keep the
/// label (Docker cannot drop it) and count like any workspace.
pub const POOL_LABEL: &str = super::pool::POOL;

/// Does `w` take a running slot? Running, paused (its memory is held) or
/// restarting; pool slots never do.
pub fn occupies(w: &Workspace) -> bool {
    matches!(
        w.state,
        WorkspaceState::Running | WorkspaceState::Paused | WorkspaceState::Restarting
    ) && !is_pool_slot(w)
}

/// A warm pool's waiting (unclaimed) container.
pub fn is_pool_slot(w: &Workspace) -> bool {
    super::pool::is_slot(w)
}

/// Is `w` one of this berth's: it carries every extra label of the config
/// (`[labels]`, put on everything berth creates; none set: every workspace is).
pub fn ours(w: &Workspace, extra: &std::collections::BTreeMap<String, String>) -> bool {
    extra.iter().all(|(k, v)| w.labels.get(k) == Some(v))
}

/// The names counted against `max_concurrent`: workspaces that take a running
/// slot and the creates in progress (by live processes), less `except` (the
/// workspace being created or started).
pub fn counted(workspaces: &[Workspace], creating: &[String], except: &str) -> BTreeSet<String> {
    workspaces
        .iter()
        .filter(|w| occupies(w))
        .map(|w| w.name.clone())
        .chain(creating.iter().cloned())
        .filter(|n| n != except)
        .collect()
}

/// What would go beyond the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The workspaces counted (running, or being created).
    pub running: Vec<String>,
    pub limit: usize,
}

/// `Ok` when one more workspace may run: `limit` 0 means no limit.
pub fn admit(limit: usize, counted: &BTreeSet<String>) -> Result<(), Refusal> {
    if limit == 0 || counted.len() < limit {
        return Ok(());
    }
    Err(Refusal {
        running: counted.iter().cloned().collect(),
        limit,
    })
}

impl Refusal {
    /// The sentence a refused create or start says; `config_file` is where the
    /// setting lives.
    pub fn sentence(&self, config_file: &str) -> String {
        let n = self.running.len();
        let names = if n <= 5 {
            self.running.join(", ")
        } else {
            format!("{}, ...", self.running[..5].join(", "))
        };
        let (are, one) = if n == 1 {
            ("workspace is", "it")
        } else {
            ("workspaces are", "one")
        };
        format!(
            "{n} {are} running ({names}) and [limits] max_concurrent is {} in {config_file}; \
             stop {one} (`berth stop NAME`) or raise the limit",
            self.limit
        )
    }
}

/// The CPU cores a workspace gets: what it asks for, at most the host's count (the
/// engine refuses more than the host has), with a note when cut down.
/// `host_cpus` 0: unknown (left as asked).
pub fn cap_cpus(asked: Option<f64>, host_cpus: u32) -> (Option<f64>, Option<String>) {
    match asked {
        Some(c) if host_cpus > 0 && c > f64::from(host_cpus) => (
            Some(f64::from(host_cpus)),
            Some(format!(
                "the host has {host_cpus} CPU{}: the workspace gets {host_cpus} instead of {c} \
                 ([resources] cpus or --cpus)",
                if host_cpus == 1 { "" } else { "s" }
            )),
        ),
        other => (other, None),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("size {0:?} is not understood; write a number with an optional unit k, m, g or t (for example 20g or 512m)")]
pub struct BadSize(pub String);

/// Parses "20g", "512m", "1t", "4096" (bytes); binary units.
pub fn parse_size(s: &str) -> Result<u64, BadSize> {
    let bad = || BadSize(s.to_string());
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, shift) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 10),
        Some('m') => (&t[..t.len() - 1], 20),
        Some('g') => (&t[..t.len() - 1], 30),
        Some('t') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: u64 = num.trim().parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(bad());
    }
    n.checked_mul(1u64 << shift).ok_or_else(bad)
}

/// The exact form [`parse_size`] reads back ("20g", "512m", bytes).
pub fn format_size(bytes: u64) -> String {
    for (shift, unit) in [(40, "t"), (30, "g"), (20, "m"), (10, "k")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// Short and rounded, for tables ("1.2G", "15G", "340M", "96K", "512B").
pub fn human_size(bytes: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        let v = bytes as f64 / (1u64 << shift) as f64;
        if v >= 1.0 {
            return if v < 10.0 {
                format!("{v:.1}{unit}")
            } else {
                format!("{v:.0}{unit}")
            };
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn ws(name: &str, state: WorkspaceState, pool: bool) -> Workspace {
        let mut labels = BTreeMap::new();
        if pool {
            labels.insert(POOL_LABEL.to_string(), "general".to_string());
        }
        Workspace {
            engine: String::new(),
            name: name.into(),
            state,
            ssh_port: None,
            image: String::new(),
            container: format!("workspace-{name}"),
            container_id: String::new(),
            volume: String::new(),
            thread: None,
            platform: None,
            profile: None,
            created: 0,
            started_at: None,
            runtime: None,
            memory_limit: None,
            pids_limit: None,
            cpus_limit: None,
            provision: crate::domain::provision::Provision::Ready,
            labels,
        }
    }

    #[test]
    fn running_workspaces_and_creates_count_pool_slots_and_stopped_ones_do_not() {
        let all = [
            ws("a", WorkspaceState::Running, false),
            ws("b", WorkspaceState::Stopped, false),
            ws("c", WorkspaceState::Paused, false),
            ws("pool.general.1a2b", WorkspaceState::Running, true),
            // A claimed slot keeps its pool label and counts like any workspace.
            ws("claimed", WorkspaceState::Running, true),
        ];
        let c = counted(&all, &["d".into(), "a".into()], "x");
        assert_eq!(
            c.into_iter().collect::<Vec<_>>(),
            ["a", "c", "claimed", "d"]
        );
        let c = counted(&all, &["d".into()], "d");
        assert_eq!(c.len(), 3, "the workspace itself is not counted");
    }

    #[test]
    fn ours_carry_every_extra_label() {
        let mut w = ws("a", WorkspaceState::Running, false);
        let extra = BTreeMap::from([("team".to_string(), "x".to_string())]);
        assert!(ours(&w, &BTreeMap::new()));
        assert!(!ours(&w, &extra));
        w.labels.insert("team".into(), "x".into());
        assert!(ours(&w, &extra));
    }

    #[test]
    fn the_limit_refuses_at_the_limit_with_a_sentence() {
        let set = |n: usize| (0..n).map(|i| format!("w{i}")).collect::<BTreeSet<_>>();
        assert!(admit(0, &set(50)).is_ok(), "0 is no limit");
        assert!(admit(3, &set(2)).is_ok());
        let r = admit(3, &set(3)).unwrap_err();
        assert_eq!(
            r.sentence("/c/config.toml"),
            "3 workspaces are running (w0, w1, w2) and [limits] max_concurrent is 3 in \
             /c/config.toml; stop one (`berth stop NAME`) or raise the limit"
        );
        let one = admit(1, &set(1)).unwrap_err().sentence("f");
        assert!(one.starts_with("1 workspace is running (w0)"), "{one}");
        assert!(admit(2, &set(9))
            .unwrap_err()
            .sentence("f")
            .contains("w4, ..."));
    }

    #[test]
    fn cpus_are_capped_at_the_host_with_a_note() {
        assert_eq!(cap_cpus(Some(2.0), 8), (Some(2.0), None));
        assert_eq!(cap_cpus(None, 1), (None, None));
        assert_eq!(cap_cpus(Some(2.0), 0), (Some(2.0), None));
        let (c, note) = cap_cpus(Some(2.0), 1);
        assert_eq!(c, Some(1.0));
        assert!(note.unwrap().contains("host has 1 CPU:"));
    }

    #[test]
    fn sizes_parse_and_show() {
        assert_eq!(parse_size("20g"), Ok(20 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1tb"), Ok(1 << 40));
        assert_eq!(parse_size("4096"), Ok(4096));
        for bad in ["", "0", "lots", "-1g", "99999999999t"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(1536), "1.5K");
        assert_eq!(human_size(340 << 20), "340M");
        assert_eq!(human_size((12 << 30) + (700 << 20)), "13G");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(n in 1u64..1_000_000, shift in prop::sample::select(vec![0u32, 10, 20, 30])) {
            let b = n << shift;
            prop_assert_eq!(parse_size(&format_size(b)), Ok(b));
        }

        #[test]
        fn never_more_admitted_than_the_limit(limit in 1usize..20, running in 0usize..40) {
            let set: BTreeSet<String> = (0..running).map(|i| i.to_string()).collect();
            prop_assert_eq!(admit(limit, &set).is_ok(), running < limit);
        }
    }
}
