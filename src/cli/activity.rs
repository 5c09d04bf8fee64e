//! Activity in the CLI: `berth ttl`, the status lines and JSON fields (last use,
//! idle time, TTL, kill-after time, why it is alive), and the list's TTL cell.
use crate::backend::{activity, lifecycle, Ctx};
use crate::domain::activity::Activity;
use crate::domain::naming::WorkspaceName;
use crate::domain::ttl::{countdown, Ttl};
use crate::domain::ttl_source::TtlSource;
use crate::domain::workspace::{human_duration, Workspace};
use anyhow::Result;

type Observed = Result<(Activity, TtlSource)>;

/// `berth ttl NAME [DURATION]`: prints the TTL, or sets it first.
pub async fn ttl(
    ctx: &Ctx,
    name: &WorkspaceName,
    duration: Option<String>,
    json: bool,
) -> Result<i32> {
    // Refuse a bad duration before looking anything up.
    let set = duration.as_deref().map(Ttl::parse).transpose()?;
    let w = lifecycle::find(ctx, name).await?;
    if let Some(t) = set {
        activity::set_ttl(ctx, &w, t).await?;
    }
    let now = super::output::now();
    let rec = ctx
        .store
        .activity(&w.container_id)
        .await
        .unwrap_or_default();
    let (ttl, source) = activity::ttl_of(ctx, &w, rec.ttl.as_deref());
    let last = rec.last_use.map(|u| u.at);
    let a = Activity::derive(now, w.created, last, ttl, vec![]);
    if json {
        let v = serde_json::json!({
            "name": w.name,
            "ttl": a.ttl,
            "ttl_source": source,
            "last_used_at": a.last_used_at,
            "kill_after_at": a.kill_after_at,
            "idle_for": a.idle_for,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    let verb = if set.is_some() { "is now" } else { "is" };
    println!(
        "Workspace {}'s TTL {verb} {} ({}); {}.",
        w.name,
        a.ttl,
        source.describe(),
        deadline_sentence(&a, now)
    );
    Ok(0)
}

fn at(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| {
            d.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| ts.to_string())
}

fn deadline_sentence(a: &Activity, now: i64) -> String {
    match a.kill_after_at {
        None => "the cleanup job never deletes it for being unused".into(),
        Some(t) if t <= now => format!(
            "its TTL ran out at {} (the cleanup job deletes it, snapshotting work it finds first)",
            at(t)
        ),
        Some(t) => format!(
            "unused until {} (in {}), the cleanup job deletes it",
            at(t),
            countdown(now, Some(t)).unwrap_or_default()
        ),
    }
}

/// `berth status`'s activity lines.
pub fn status_text(w: &Workspace, observed: &Observed, now: i64) -> String {
    let mut s = String::new();
    let mut kv = |k: &str, v: String| s.push_str(&format!("{k:<10} {v}\n"));
    let (a, source) = match observed {
        Ok(o) => o,
        Err(e) => {
            kv("activity", format!("{e:#}"));
            return s;
        }
    };
    kv(
        "last used",
        match a.last_used_at {
            Some(t) => format!("{} ago", human_duration(now - t)),
            None => "never recorded".into(),
        },
    );
    kv("idle for", human_duration(a.idle_for as i64));
    kv("ttl", format!("{} ({})", a.ttl, source.describe()));
    kv(
        "kill after",
        match a.kill_after_at {
            None => "never".into(),
            Some(t) => format!(
                "{} ({})",
                at(t),
                match countdown(now, Some(t)).as_deref() {
                    Some("expired") => "expired".to_string(),
                    Some(c) => format!("in {c}"),
                    None => String::new(),
                }
            ),
        },
    );
    if a.alive_because.is_empty() {
        let why = if w.state == crate::domain::workspace::WorkspaceState::Running {
            "idle: nothing counts as alive"
        } else {
            "idle: not running"
        };
        kv("alive", why.into());
    }
    for (i, r) in a.alive_because.iter().enumerate() {
        kv(if i == 0 { "alive" } else { "" }, r.sentence());
    }
    s
}

/// `berth status --json`'s activity fields.
pub fn add_json(v: &mut serde_json::Value, observed: &Observed) -> Result<()> {
    match observed {
        Ok((a, source)) => {
            v["last_used_at"] = serde_json::to_value(a.last_used_at)?;
            v["kill_after_at"] = serde_json::to_value(a.kill_after_at)?;
            v["idle_for"] = serde_json::to_value(a.idle_for)?;
            v["alive_because"] = serde_json::to_value(&a.alive_because)?;
            v["ttl"] = serde_json::to_value(a.ttl)?;
            v["ttl_source"] = serde_json::to_value(source)?;
        }
        Err(e) => v["activity_error"] = serde_json::Value::String(format!("{e:#}")),
    }
    Ok(())
}

/// `berth list --json`'s activity fields (recorded, no probe).
pub fn add_list_json(v: &mut serde_json::Value, a: Option<&(Activity, TtlSource)>, now: i64) {
    if let Some((a, source)) = a {
        v["ttl"] = serde_json::json!(a.ttl);
        v["ttl_source"] = serde_json::json!(source);
        v["ttl_left"] = serde_json::json!(countdown(now, a.kill_after_at));
        v["last_used_at"] = serde_json::json!(a.last_used_at);
        v["kill_after_at"] = serde_json::json!(a.kill_after_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::AliveReason;

    fn ws(running: bool) -> Workspace {
        Workspace {
            engine: String::new(),
            name: "w".into(),
            state: if running {
                crate::domain::workspace::WorkspaceState::Running
            } else {
                crate::domain::workspace::WorkspaceState::Stopped
            },
            ssh_port: None,
            image: String::new(),
            container: "workspace-w".into(),
            container_id: "id".into(),
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
            labels: Default::default(),
        }
    }

    #[test]
    fn status_says_why_it_is_alive_or_that_it_is_idle() {
        let a = Activity::derive(
            1000,
            0,
            Some(400),
            Ttl::After(3600),
            vec![AliveReason::SshSessions {
                sessions: vec!["pts/0".into()],
            }],
        );
        let t = status_text(&ws(true), &Ok((a.clone(), TtlSource::Create)), 1000);
        assert!(t.contains("last used  10m 0s ago\n"), "{t}");
        assert!(t.contains("ttl        1h (from create --ttl)\n"), "{t}");
        assert!(t.contains("(in 50m)"), "{t}");
        assert!(t.contains("alive      1 ssh session (pts/0)\n"), "{t}");
        let idle = Activity::derive(1000, 0, None, Ttl::Never, vec![]);
        let t = status_text(&ws(true), &Ok((idle, TtlSource::Config)), 1000);
        assert!(t.contains("kill after never\n"), "{t}");
        assert!(t.contains("idle: nothing counts as alive"), "{t}");
        let mut v = serde_json::json!({});
        add_json(&mut v, &Ok((a, TtlSource::Set))).unwrap();
        assert_eq!(v["kill_after_at"], 4000);
        assert_eq!(v["idle_for"], 600);
        assert_eq!(v["ttl"], "1h");
        assert_eq!(v["ttl_source"], "set");
        assert_eq!(v["alive_because"][0]["kind"], "ssh-sessions");
    }
}
