//! Details of the selected workspace: container, volume, ports, labels, runtime,
//! limits, live CPU and memory, and its recent engine events.
use super::{block, dim, state_mark};
use crate::domain::labels::is_berth_key;
use crate::domain::net_isolation::ssh_through_engine;
use crate::domain::resources::format_memory;
use crate::domain::workspace::{human_duration, Workspace, SSHD_CONTAINER_PORT, WORKSPACE_HOME};
use crate::tui::state::{Focus, State};
use crate::tui::theme::Role;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

fn mib(b: u64) -> String {
    if b >= 1 << 30 {
        format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30))
    } else {
        format!("{:.0} MiB", b as f64 / f64::from(1u32 << 20))
    }
}

/// The workspace's runtime (the engine's default named as such) and its health.
fn runtime_line<'a>(s: &State, w: &Workspace, key: Span<'a>) -> Line<'a> {
    use crate::domain::runtime::{describe, Health};
    let th = s.theme();
    let Some(report) = &s.runtimes else {
        return Line::from(vec![key, Span::raw(describe(w.runtime.as_deref(), ""))]);
    };
    let name = Span::raw(describe(w.runtime.as_deref(), &report.default));
    let health = match report.health(w.runtime.as_deref()) {
        Health::Healthy => Span::styled(" · healthy", th.fg(Role::Ok)),
        // Why goes at the end of the pane (`runtime_problem`): it is long.
        Health::Unhealthy { .. } => Span::styled(" · ⚠ UNHEALTHY", th.fg(Role::Error)),
        Health::Unregistered => Span::styled(
            " · ⚠ no longer registered with the engine",
            th.fg(Role::Warning),
        ),
        Health::Unchecked { .. } => Span::styled(" · unchecked", dim(s)),
    };
    Line::from(vec![key, name, health])
}

/// Why the workspace's runtime is unhealthy, when it is.
fn runtime_problem<'a>(s: &State, w: &Workspace, key: Span<'a>) -> Option<Line<'a>> {
    let report = s.runtimes.as_ref()?;
    match report.health(w.runtime.as_deref()) {
        crate::domain::runtime::Health::Unhealthy { reason } => Some(Line::from(vec![
            key,
            Span::styled(
                format!("{reason}; no new workspace can use this runtime"),
                s.theme().fg(Role::Error),
            ),
        ])),
        _ => None,
    }
}

pub fn draw(f: &mut Frame, area: Rect, s: &State) {
    let th = s.theme();
    let focused = s.focus == Focus::Status;
    let Some(w) = s.selected_workspace() else {
        let p = Paragraph::new(Line::styled(
            "Select a workspace to see its details.",
            dim(s),
        ))
        .block(block(s, " Status ".into(), focused));
        f.render_widget(p, area);
        return;
    };
    let key = |k: &str| Span::styled(format!("{k:<10} "), th.fg(Role::Dim));
    let (sym, role) = state_mark(w.state);
    let state = if w.provision.is_ready() {
        Span::styled(format!("{sym} {}", w.state.as_str()), th.fg(role))
    } else {
        Span::styled(
            format!("⚠ {} · container {}", w.status_word(), w.state.as_str()),
            th.fg(Role::Warning),
        )
    };
    let mut lines = vec![Line::from(vec![key("state"), state])];
    if s.engines.several() {
        let engine = if s.engines.is_down(&w.engine) {
            Span::styled(
                format!(
                    "{} (unreachable: the state above is the last known)",
                    w.engine
                ),
                th.fg(Role::Warning),
            )
        } else {
            Span::raw(w.engine.clone())
        };
        lines.push(Line::from(vec![key("engine"), engine]));
    }
    if let Some(why) = w.provision.explain(&w.name) {
        lines.push(Line::from(vec![
            key("provision"),
            Span::styled(format!("⚠ {why}"), th.fg(Role::Warning)),
        ]));
    }
    // Why it counts as alive (or idle), its last use and its TTL.
    lines.extend(super::activity::lines(s, w));
    // Docker inside: its sidecar has privileges the workspace never gets; say so.
    if let Some(d) = crate::domain::dind::DockerInside::of(w) {
        lines.push(Line::from(vec![
            key("docker"),
            Span::raw(format!("sidecar {} ", d.sidecar)),
            Span::styled(
                format!("PRIVILEGED ({})", crate::domain::dind::PRIVILEGES_SHORT),
                th.fg(Role::Warning),
            ),
        ]));
    }
    // Log forwarding: where its logs and its sidecars' go.
    if let Some(f) = crate::domain::log_forward::Forwarding::of(w) {
        lines.push(Line::from(vec![
            key("logs"),
            Span::raw(format!("→ {} (sidecar {})", f.target, f.sidecar)),
        ]));
    }
    // A VM: its provider and accelerator, and tcg's warning.
    if w.provider() == crate::domain::vm::Provider::Vm {
        lines.push(Line::from(vec![
            key("provider"),
            Span::raw(crate::domain::vm_view::describe(w)),
        ]));
        if let Some(warn) = crate::domain::vm_view::warning(w) {
            lines.push(Line::from(vec![
                key(""),
                Span::styled(warn, th.fg(Role::Warning)),
            ]));
        }
    }
    // A proxy workspace: its only way out, and what it lets through.
    if let Some(egress) = crate::domain::proxy::status_line(w) {
        lines.push(Line::from(vec![key("egress"), Span::raw(egress)]));
    }
    lines.extend([
        Line::from(vec![
            key("container"),
            Span::raw(format!(
                "{} {}",
                w.container,
                &w.container_id[..w.container_id.len().min(12)]
            )),
        ]),
        Line::from(vec![
            key("volume"),
            Span::raw(if w.volume.is_empty() {
                "-".to_string()
            } else {
                format!("{} → {WORKSPACE_HOME}", w.volume)
            }),
        ]),
        Line::from(vec![
            key("ssh"),
            Span::raw(match w.ssh_port {
                Some(p) => format!("{}:{p} → {SSHD_CONTAINER_PORT}", s.ssh_host),
                None if ssh_through_engine(w.net_profile()) => {
                    "through the engine (berth ssh-proxy; nothing published)".into()
                }
                None => "-".into(),
            }),
        ]),
        Line::from(vec![
            key("network"),
            Span::raw(format!(
                "{} · {}",
                w.net_profile(),
                w.net_profile().describe()
            )),
        ]),
        Line::from(vec![
            key("image"),
            Span::raw(match &w.platform {
                Some(p) => format!("{} ({p})", w.image),
                None => w.image.clone(),
            }),
        ]),
        runtime_line(s, w, key("runtime")),
        Line::from(vec![
            key("limits"),
            Span::raw(format!(
                "memory {} · pids {}",
                w.memory_limit.map_or("none".into(), format_memory),
                w.pids_limit.map_or("none".into(), |p| p.to_string())
            )),
        ]),
        Line::from(vec![
            key("uptime"),
            Span::raw(w.uptime_secs(s.now).map_or("-".into(), human_duration)),
        ]),
    ]);
    match &s.stats {
        Some((n, st))
            if n == &w.name && w.state == crate::domain::workspace::WorkspaceState::Running =>
        {
            lines.push(Line::from(vec![
                key("cpu / mem"),
                Span::styled(
                    format!(
                        "{:.1}% · {} / {} · {} pids",
                        st.cpu_percent,
                        mib(st.mem_bytes),
                        mib(st.mem_limit),
                        st.pids
                    ),
                    th.fg(Role::Accent),
                ),
            ]));
        }
        _ => lines.push(Line::from(vec![
            key("cpu / mem"),
            Span::styled("-", dim(s)),
        ])),
    }
    lines.extend(runtime_problem(s, w, key("runtime ⚠")));
    let mut extra: Vec<String> = Vec::new();
    if let Some(t) = &w.thread {
        extra.push(format!("thread={t}"));
    }
    if let Some(p) = &w.profile {
        extra.push(format!("profile={p}"));
    }
    extra.extend(
        w.labels
            .iter()
            .filter(|(k, _)| !is_berth_key(k))
            .map(|(k, v)| format!("{k}={v}")),
    );
    if !extra.is_empty() {
        lines.push(Line::from(vec![key("labels"), Span::raw(extra.join(" "))]));
    }
    if let Some(evs) = s.events.get(&w.name) {
        lines.push(Line::styled("recent events", th.fg(Role::Dim)));
        for (t, action) in evs.iter().rev().take(5) {
            let ago = if s.now > 0 {
                format!("{} ago", human_duration(s.now - t))
            } else {
                String::new()
            };
            lines.push(Line::from(vec![
                Span::styled(format!("  {ago:>10} "), dim(s)),
                Span::raw(action.clone()),
            ]));
        }
    }
    let p = Paragraph::new(lines).wrap(Wrap { trim: true }).block(block(
        s,
        format!(" {} ", w.name),
        focused,
    ));
    f.render_widget(p, area);
}
