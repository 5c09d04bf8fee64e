//! The disk-space check of a preflight (issue 12): free space where the engine
//! keeps images and containers (or berth's state), against a threshold. Pure.
use super::preflight::Check;

/// The check's name in a preflight.
pub const NAME: &str = "disk_space";
/// Below this, a session's image build or clone may fail half-way.
pub const MIN_FREE: u64 = 2 << 30;

/// Free bytes from `df -Pk PATH` output (the second line's fourth column, KiB).
pub fn parse_df(out: &str) -> Option<u64> {
    let kb: u64 = out
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn gib(b: u64) -> String {
    format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
}

/// The check for `free` bytes on the filesystem holding `path`.
pub fn check(path: &str, free: Option<u64>) -> Check {
    let need = gib(MIN_FREE);
    match free {
        Some(b) if b >= MIN_FREE => Check::pass(
            NAME,
            format!("{} free on {path} (at least {need} needed)", gib(b)),
        ),
        Some(b) => Check::fail(
            NAME,
            format!("only {} free on {path}; at least {need} is needed", gib(b)),
            "free some space: `docker system prune` (removes stopped containers and unused images), `berth gc`",
        ),
        None => Check::fail(
            NAME,
            format!("cannot measure the free space on {path} (`df -Pk {path}` gave no figure)"),
            format!("check that {path} exists and `df` is installed"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_output_gives_bytes() {
        let out = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 50 3145728 50% /\n";
        assert_eq!(parse_df(out), Some(3 << 30));
        assert_eq!(parse_df("garbage"), None);
    }

    #[test]
    fn the_threshold_decides_and_the_figure_is_shown() {
        let ok = check("/var/lib/docker", Some(MIN_FREE));
        assert!(ok.passed && ok.detail.contains("2.0 GiB free on /var/lib/docker"));
        let low = check("/s", Some(MIN_FREE - 1));
        assert!(!low.passed && low.guidance.unwrap().contains("docker system prune"));
        assert!(!check("/s", None).passed);
    }
}
