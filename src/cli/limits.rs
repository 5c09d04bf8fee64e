//! The CLI's part of limits and alerts: home volume sizes in `berth list` and
//! `berth status`, and the alerts `berth doctor` shows.
use super::doctor::{check, Check, Status};
use crate::backend::{alerts, disk, Ctx};
use crate::domain::disk_usage::Known;
use crate::domain::limits::human_size;
use crate::domain::workspace::{human_duration, Workspace, WorkspaceState};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long `berth list` waits for sizes older than `disk::FRESH_FOR` to be
/// measured again; the rest show their older size, or "?".
const LIST_DEADLINE: Duration = Duration::from_secs(3);

/// Sizes for `berth list`, by workspace name.
pub async fn list_sizes(ctx: &Ctx, ws: &[Workspace]) -> BTreeMap<String, u64> {
    disk::sizes(ctx, ws, disk::FRESH_FOR, LIST_DEADLINE)
        .await
        .into_iter()
        .map(|(n, k)| (n, k.bytes))
        .collect()
}

/// Adds `volume_size_bytes` (null until known) to each object of `berth list --json`.
pub fn add_list_json(v: &mut [serde_json::Value], sizes: &BTreeMap<String, u64>) {
    for o in v {
        let size = o["name"].as_str().and_then(|n| sizes.get(n)).copied();
        o["volume_size_bytes"] = serde_json::json!(size);
    }
}

/// `berth status`'s size: measured now when the workspace runs, else the size it
/// had when last measured.
pub async fn status_size(ctx: &Ctx, w: &Workspace) -> Option<Known> {
    let max_age = if w.state == WorkspaceState::Running {
        0
    } else {
        i64::MAX
    };
    disk::sizes(
        ctx,
        std::slice::from_ref(w),
        max_age,
        Duration::from_secs(60),
    )
    .await
    .remove(&w.name)
}

/// Says plainly that berth reports the size and cannot cap it.
const NO_QUOTA: &str = "no quota: local volumes on overlay2/ext4 cannot be capped, berth reports";

/// `berth status`'s disk line.
pub fn status_line(k: Option<&Known>, now: i64) -> String {
    let v = match k {
        Some(k) if now - k.at < 5 => format!("{} home volume ({NO_QUOTA})", human_size(k.bytes)),
        Some(k) => format!(
            "{} home volume, measured {} ago while it ran ({NO_QUOTA})",
            human_size(k.bytes),
            human_duration(now - k.at)
        ),
        None => format!("? (measured only while it runs; {NO_QUOTA})"),
    };
    format!("{:<10} {v}\n", "disk")
}

/// Adds `volume_size_bytes` and `volume_size_measured_at` to `berth status --json`.
pub fn add_status_json(v: &mut serde_json::Value, k: Option<&Known>) {
    v["volume_size_bytes"] = serde_json::json!(k.map(|k| k.bytes));
    v["volume_size_measured_at"] = serde_json::json!(k.map(|k| k.at));
    v["volume_quota"] = serde_json::Value::Null;
}

/// `berth doctor`: each alert that holds (a warning with its sentence), or one
/// line saying there is none.
pub async fn doctor_checks(ctx: &Ctx) -> Vec<Check> {
    let l = &ctx.config.limits;
    match alerts::check(ctx).await {
        Ok(a) if a.is_empty() => vec![check(
            "alerts",
            Status::Ok,
            format!(
                "none (workspaces together under {}% of the host; disk alert {})",
                l.alert_threshold_pct,
                l.disk_alert_bytes
                    .map_or("off".into(), crate::domain::limits::format_size)
            ),
            None,
        )],
        Ok(a) => a
            .into_iter()
            .map(|a| {
                check(
                    format!("alert {}", a.key),
                    Status::Warn,
                    a.sentence,
                    Some("stop or delete workspaces you do not need, or raise the threshold in [limits] (berth config path)"),
                )
            })
            .collect(),
        Err(e) => vec![check(
            "alerts",
            Status::Warn,
            format!("cannot check: {e:#}"),
            None,
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_says_the_size_and_that_there_is_no_quota() {
        let k = Known {
            bytes: 5 << 20,
            fs_bytes: None,
            at: 1000,
        };
        assert_eq!(
            status_line(Some(&k), 1001),
            format!("disk       5.0M home volume ({NO_QUOTA})\n")
        );
        assert!(status_line(Some(&k), 1600).contains("measured 10m 0s ago while it ran"));
        assert!(status_line(None, 0).starts_with("disk       ? (measured only while it runs"));
        let mut v = serde_json::json!({});
        add_status_json(&mut v, Some(&k));
        assert_eq!(v["volume_size_bytes"], 5 << 20);
        let mut l = vec![
            serde_json::json!({"name": "a"}),
            serde_json::json!({"name": "b"}),
        ];
        add_list_json(&mut l, &BTreeMap::from([("a".to_string(), 7u64)]));
        assert_eq!(l[0]["volume_size_bytes"], 7);
        assert!(l[1]["volume_size_bytes"].is_null());
    }
}
