//! Which process made a record, and whether it still runs: a pid plus the kernel's
//! start time for it, so a reused pid is not mistaken for the original process.

/// A process on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creator {
    /// 0: nobody (a record left on purpose, see `Store::abandon_provisioning`).
    pub pid: u32,
    /// Start time in clock ticks since boot (field 22 of /proc/PID/stat); 0 when
    /// it could not be read.
    pub start: u64,
}

/// Whether a creator still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    Dead,
    /// Cannot tell (its start time was never known, or it ran on another machine).
    Unknown,
}

impl Creator {
    /// This process (read once).
    pub fn current() -> Self {
        static ME: std::sync::OnceLock<Creator> = std::sync::OnceLock::new();
        *ME.get_or_init(|| {
            let pid = std::process::id();
            Creator {
                pid,
                start: start_time(pid).unwrap_or(0),
            }
        })
    }

    /// Is this process still running (same pid, same start time)?
    /// Blocking (reads /proc): call from a blocking thread.
    pub fn liveness(&self) -> Liveness {
        if self.pid == 0 {
            return Liveness::Dead;
        }
        match (start_time(self.pid), self.start) {
            (_, 0) => Liveness::Unknown,
            (Some(t), s) if t == s => Liveness::Alive,
            _ => Liveness::Dead,
        }
    }

    /// Known to be running.
    pub fn alive(&self) -> bool {
        self.liveness() == Liveness::Alive
    }

    /// Maybe running: what a lease must assume before it frees a port.
    pub fn maybe_alive(&self) -> bool {
        self.liveness() != Liveness::Dead
    }

    /// `<boot id>/<pid>/<start>`: the creator as a label on what a create makes, so
    /// a berth with another store can tell whether that create still runs.
    pub fn label(&self) -> String {
        format!("{}/{}/{}", boot_id(), self.pid, self.start)
    }

    /// The liveness of the creator a label names (another boot: unknown).
    pub fn liveness_of_label(label: &str) -> Liveness {
        let mut parts = label.split('/');
        let (Some(boot), Some(pid), Some(start), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Liveness::Unknown;
        };
        let (Ok(pid), Ok(start)) = (pid.parse(), start.parse()) else {
            return Liveness::Unknown;
        };
        if boot != boot_id() {
            return Liveness::Unknown;
        }
        Creator { pid, start }.liveness()
    }
}

/// This boot of this machine (pids are only comparable within one).
fn boot_id() -> &'static str {
    static BOOT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown-boot".into())
    })
}

/// Parses the start time out of a /proc/PID/stat line. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last ')'.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ')': field 3 (state) is index 0, so field 22 is index 19.
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_survives_odd_command_names() {
        let line =
            "4242 (a) b) (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(line), Some(987654));
        assert_eq!(parse_start_time("garbage"), None);
        assert_eq!(parse_start_time("1 (x) S 1"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_not() {
        let me = Creator::current();
        assert!(me.start > 0 && me.alive());
        assert!(!Creator {
            start: me.start + 1,
            ..me
        }
        .alive());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = start_time(pid);
        child.wait().unwrap();
        if let Some(start) = start {
            assert!(!Creator { pid, start }.alive());
        }
        assert!(!Creator { pid: 0, start: 0 }.alive());
    }
}
