//! The status pane's activity lines: last use, idle time, TTL and its deadline,
//! and why the workspace counts as alive (as the backend last observed it, every
//! few seconds for the selected workspace; never per frame).
use super::dim;
use crate::domain::ttl_source::TtlSource;
use crate::domain::workspace::{human_duration, Workspace, WorkspaceState};
use crate::tui::state::State;
use crate::tui::theme::Role;
use ratatui::text::{Line, Span};

pub fn lines<'a>(s: &State, w: &Workspace) -> Vec<Line<'a>> {
    let th = s.theme();
    let key = |k: &str| Span::styled(format!("{k:<10} "), th.fg(Role::Dim));
    let Some((name, observed)) = &s.activity else {
        return vec![];
    };
    if name != &w.name {
        return vec![];
    }
    let v = match observed {
        Ok(v) => v,
        Err(e) => {
            return vec![Line::from(vec![
                key("activity"),
                Span::styled(e.clone(), th.fg(Role::Warning)),
            ])]
        }
    };
    let a = &v.activity;
    let mut out = vec![Line::from(vec![
        key("used"),
        Span::raw(match a.last_used_at {
            Some(t) => format!(
                "{} ago · idle {}",
                human_duration(s.now - t),
                human_duration(a.idle_for as i64)
            ),
            None => format!(
                "never recorded · idle {}",
                human_duration(a.idle_for as i64)
            ),
        }),
    ])];
    let deadline = match crate::domain::ttl::countdown(s.now, a.kill_after_at).as_deref() {
        None => "never deleted for being unused".to_string(),
        Some("expired") => "expired".to_string(),
        Some(c) => format!("{c} left"),
    };
    let from = match v.source {
        TtlSource::Set => "berth ttl",
        TtlSource::Create => "create --ttl",
        TtlSource::Config => "config",
    };
    out.push(Line::from(vec![
        key("ttl"),
        Span::raw(format!("{} ({from}) · {deadline}", a.ttl)),
    ]));
    if a.alive_because.is_empty() {
        let why = if w.state == WorkspaceState::Running {
            "idle: nothing counts as alive"
        } else {
            "idle: not running"
        };
        out.push(Line::from(vec![key("alive"), Span::styled(why, dim(s))]));
    }
    for (i, r) in a.alive_because.iter().enumerate() {
        out.push(Line::from(vec![
            key(if i == 0 { "alive" } else { "·" }),
            Span::styled(r.sentence(), th.fg(Role::Ok)),
        ]));
    }
    out
}
