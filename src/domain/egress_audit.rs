//! What berth does with egress records (`domain::egress`) once read: counters,
//! the filter the CLI (`--denied`, `--grep`) and the TUI's audit view share, the
//! CLI's table and summary line, and an audit line written back from a record (for
//! tests, benchmarks and fake proxies). Pure.
use super::egress::{EgressRecord, MARKER};
use super::net_profile::NetProfile;
use serde::Serialize;

/// Requests seen and how many of them the proxy denied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EgressCounts {
    pub requests: u64,
    pub denied: u64,
}

impl EgressCounts {
    pub fn add(&mut self, r: &EgressRecord) {
        self.requests += 1;
        if !r.allowed {
            self.denied += 1;
        }
    }

    pub fn of<'a>(records: impl IntoIterator<Item = &'a EgressRecord>) -> Self {
        let mut c = Self::default();
        for r in records {
            c.add(r);
        }
        c
    }

    /// `12 requests, 3 denied` (singular where it is one).
    pub fn describe(&self) -> String {
        let s = if self.requests == 1 { "" } else { "s" };
        format!("{} request{s}, {} denied", self.requests, self.denied)
    }
}

/// Which records to show: denied ones only, and/or those whose host, URL, method,
/// status or result code contains a text (ASCII case ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub denied_only: bool,
    /// Lowercased; empty matches everything.
    query: String,
}

impl AuditFilter {
    pub fn new(denied_only: bool, query: &str) -> Self {
        Self {
            denied_only,
            query: query.trim().to_ascii_lowercase(),
        }
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    pub fn is_empty(&self) -> bool {
        !self.denied_only && self.query.is_empty()
    }

    pub fn matches(&self, r: &EgressRecord) -> bool {
        if self.denied_only && r.allowed {
            return false;
        }
        let q = self.query.as_bytes();
        if q.is_empty() {
            return true;
        }
        contains_ci(&r.host, q)
            || contains_ci(&r.url, q)
            || contains_ci(&r.method, q)
            || contains_ci(&r.result, q)
            || r.status.is_some_and(|s| contains_ci(&s.to_string(), q))
    }

    /// Every record `self` matches is matched by `wider` too: a list filtered by
    /// `wider` can be narrowed to `self` without looking at the rest (typing one
    /// more letter of a search, turning `denied only` on).
    pub fn narrows(&self, wider: &AuditFilter) -> bool {
        (self.denied_only || !wider.denied_only) && self.query.contains(wider.query.as_str())
    }
}

/// Does `hay` contain `needle_lower` (already lowercase), ASCII case ignored,
/// without allocating.
fn contains_ci(hay: &str, needle_lower: &[u8]) -> bool {
    let h = hay.as_bytes();
    if needle_lower.len() > h.len() {
        return false;
    }
    h.windows(needle_lower.len()).any(|w| {
        w.iter()
            .zip(needle_lower)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

/// Why workspace `name` with network profile `profile` has no egress audit
/// (`None`: it has one: it is a proxy workspace).
pub fn no_audit(name: &str, profile: NetProfile) -> Option<String> {
    (profile != NetProfile::Proxy).then(|| {
        format!(
            "{name} has network profile {profile}; only proxy workspaces have an egress audit (create it with --net-profile proxy)"
        )
    })
}

/// The network profile a workspace's labels record (`net_profile::LABEL`).
pub fn profile_of(labels: &std::collections::BTreeMap<String, String>) -> NetProfile {
    NetProfile::from_label(labels.get(super::net_profile::LABEL).map(String::as_str))
}

/// `allowed` or `denied`.
pub fn verdict(r: &EgressRecord) -> &'static str {
    if r.allowed {
        "allowed"
    } else {
        "denied"
    }
}

/// The record's time in UTC: `2026-11-25 21:00:00.123` (`with_date`) or
/// `21:00:00.123`.
pub fn format_time(time_ms: i64, with_date: bool) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(time_ms) else {
        return "-".into();
    };
    let f = if with_date {
        "%Y-%m-%d %H:%M:%S%.3f"
    } else {
        "%H:%M:%S%.3f"
    };
    t.format(f).to_string()
}

/// The status as shown (`-` when none was sent).
pub fn status_text(r: &EgressRecord) -> String {
    r.status.map_or_else(|| "-".into(), |s| s.to_string())
}

/// The CLI's table: a header and one row per record (time in UTC, method, host,
/// status, bytes, allowed/denied), columns as wide as their widest cell.
pub fn table(records: &[EgressRecord]) -> String {
    let head = ["TIME (UTC)", "METHOD", "HOST", "STATUS", "BYTES", "VERDICT"];
    let rows: Vec<[String; 6]> = records
        .iter()
        .map(|r| {
            [
                format_time(r.time_ms, true),
                r.method.clone(),
                r.host.clone(),
                status_text(r),
                r.bytes.to_string(),
                verdict(r).to_string(),
            ]
        })
        .collect();
    let mut width = head.map(str::len);
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 6]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(width).enumerate() {
            // Numbers right-aligned; the last column is not padded.
            match i {
                3 | 4 => l.push_str(&format!("{cell:>w$}  ")),
                5 => l.push_str(cell),
                _ => l.push_str(&format!("{cell:<w$}  ")),
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(head);
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}

/// One row as `berth egress -f` prints it as records come: the table's columns
/// at fixed widths (the widest cells of a stream are not known in advance).
pub fn stream_row(r: &EgressRecord) -> String {
    format!(
        "{:<23}  {:<7} {:<30} {:>6} {:>9}  {}",
        format_time(r.time_ms, true),
        r.method,
        r.host,
        status_text(r),
        r.bytes,
        verdict(r)
    )
}

/// The header over [`stream_row`]s.
pub fn stream_header() -> String {
    format!(
        "{:<23}  {:<7} {:<30} {:>6} {:>9}  VERDICT",
        "TIME (UTC)", "METHOD", "HOST", "STATUS", "BYTES"
    )
}

/// The line under the table: `12 requests, 3 denied` (and how many are shown
/// when a filter hides some).
pub fn summary(all: &EgressCounts, shown: usize, filter: &AuditFilter) -> String {
    if filter.is_empty() {
        all.describe()
    } else {
        format!("{shown} shown of {}", all.describe())
    }
}

/// The proxy's audit line for `r` (what `parse_line` reads back), in
/// `SQUID_LOGFORMAT`'s order.
pub fn audit_line(r: &EgressRecord) -> String {
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{MARKER} {}.{:03} {} {} {} {} {} {} {}",
        r.time_ms.div_euclid(1000),
        r.time_ms.rem_euclid(1000),
        dash(&r.method),
        dash(&r.host),
        r.port.map_or_else(|| "-".into(), |p| p.to_string()),
        r.status.map_or_else(|| "-".into(), |s| s.to_string()),
        r.bytes,
        dash(&r.result),
        dash(&r.url),
    )
}

#[cfg(test)]
#[path = "egress_audit_tests.rs"]
pub(crate) mod tests;
