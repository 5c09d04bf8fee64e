//! Home volume sizes as berth measures them: `du -sxk` and `df -Pk` on
//! /home/workspace inside a running workspace (Docker 20.10's `/system/df` has no
//! per-type query and computes every image and container too, and the client's
//! model of it is a newer engine's). Pure parsing and freshness; the backend runs
//! the command (`backend::disk`).
use super::workspace::WORKSPACE_HOME;

/// What is run (as the workspace user, who owns the home): the home's size in KiB,
/// then the filesystem holding it. Unreadable corners make `du` complain and
/// undercount; its total is still printed.
pub fn command() -> Vec<String> {
    vec![
        "/bin/sh".into(),
        "-c".into(),
        format!("du -sxk {WORKSPACE_HOME} 2>/dev/null; df -Pk {WORKSPACE_HOME}"),
    ]
}

/// One measurement of a home volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    pub home_bytes: u64,
    /// Size of the filesystem the volume lives on (the engine's data root, for
    /// local volumes), when `df` said it.
    pub fs_bytes: Option<u64>,
}

/// Reads [`command`]'s output; `None` when `du` printed no total.
pub fn parse(stdout: &str) -> Option<Measured> {
    let mut lines = stdout.lines();
    let du = lines.find(|l| l.ends_with(WORKSPACE_HOME))?;
    let kib: u64 = du.split_whitespace().next()?.parse().ok()?;
    // df -P: a header, then "fs 1024-blocks used available capacity mountpoint".
    let fs_bytes = lines
        .skip_while(|l| !l.starts_with("Filesystem"))
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|k| k * 1024);
    Some(Measured {
        home_bytes: kib * 1024,
        fs_bytes,
    })
}

/// A size berth knows: measured at `at` (seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub bytes: u64,
    pub fs_bytes: Option<u64>,
    pub at: i64,
}

impl Known {
    /// Measured within `max_age` seconds of `now`.
    pub fn fresh(&self, now: i64, max_age: i64) -> bool {
        now - self.at < max_age
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn du_and_df_are_read() {
        let out = "5120\t/home/workspace\nFilesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda        263174212 46000000 50000000      48% /home/workspace\n";
        assert_eq!(
            parse(out),
            Some(Measured {
                home_bytes: 5120 * 1024,
                fs_bytes: Some(263_174_212 * 1024)
            })
        );
        let no_df = "12\t/home/workspace\n";
        assert_eq!(parse(no_df).unwrap().fs_bytes, None);
        assert_eq!(parse("du: cannot read\n"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn freshness_is_by_age() {
        let k = Known {
            bytes: 1,
            fs_bytes: None,
            at: 100,
        };
        assert!(k.fresh(150, 300));
        assert!(!k.fresh(400, 300));
    }
}
