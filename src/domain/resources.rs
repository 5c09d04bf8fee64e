//! Resource limits and their textual forms ("4g", "512m").
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory_bytes: i64,
    /// Maximum number of processes.
    pub pids: i64,
    /// CPU limit in cores (None: unlimited).
    pub cpus: Option<f64>,
}

/// CPU cores a workspace may use unless told otherwise (capped at the host's count
/// at create: the engine refuses more than the host has).
pub const DEFAULT_CPUS: f64 = 2.0;

impl Default for Resources {
    fn default() -> Self {
        Self {
            memory_bytes: 4 * 1024 * 1024 * 1024,
            pids: 256,
            cpus: Some(DEFAULT_CPUS),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("memory size {0:?} is not understood; write a number with an optional unit k, m or g (for example 4g or 512m), at least 6m")]
pub struct BadMemory(pub String);

/// Parses "4g", "512m", "1024k", "1073741824" (bytes). Docker refuses less than 6 MiB.
pub fn parse_memory(s: &str) -> Result<i64, BadMemory> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1024i64),
        Some('m') => (&t[..t.len() - 1], 1024 * 1024),
        Some('g') => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    let n: i64 = num.trim().parse().map_err(|_| BadMemory(s.to_string()))?;
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| BadMemory(s.to_string()))?;
    if bytes < 6 * 1024 * 1024 {
        return Err(BadMemory(s.to_string()));
    }
    Ok(bytes)
}

/// "4g" style for display.
pub fn format_memory(bytes: i64) -> String {
    const G: i64 = 1024 * 1024 * 1024;
    const M: i64 = 1024 * 1024;
    if bytes % G == 0 {
        format!("{}g", bytes / G)
    } else if bytes % M == 0 {
        format!("{}m", bytes / M)
    } else {
        format!("{bytes}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("4g").unwrap(), 4 << 30);
        assert_eq!(parse_memory("512M").unwrap(), 512 << 20);
        assert_eq!(parse_memory("512mb").unwrap(), 512 << 20);
        assert_eq!(parse_memory("7340032").unwrap(), 7 << 20);
        assert!(parse_memory("4x").is_err());
        assert!(parse_memory("").is_err());
        assert!(parse_memory("1m").is_err());
        assert!(parse_memory("99999999999g").is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(g in 1i64..64, m in 6i64..4096) {
            prop_assert_eq!(parse_memory(&format_memory(g << 30)).unwrap(), g << 30);
            prop_assert_eq!(parse_memory(&format_memory(m << 20)).unwrap(), m << 20);
        }
    }
}
