//! What the snapshots are made of: sample workspaces and states, keys typed into
//! them, and the screen drawn on TestBackend as text (and, for `styled`, its styles).
use berth::backend::service::{Event, RawLine};
use berth::domain::observe::{EngineEvent, Stats};
use berth::domain::workspace::{Workspace, WorkspaceState};
use berth::tui::keymap::Keymap;
use berth::tui::panes;
use berth::tui::state::State;
use berth::tui::theme::Theme;
use berth::tui::update::{update, Msg};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::fmt::Write;

pub fn ws(name: &str, state: WorkspaceState, port: u16) -> Workspace {
    Workspace {
        engine: String::new(),
        name: name.into(),
        state,
        ssh_port: Some(port),
        image: "berth/workspace:latest".into(),
        container: format!("workspace-{name}"),
        container_id: "f1fcba8a9bb2c0ffee".into(),
        volume: format!("workspace-{name}"),
        thread: port.is_multiple_of(2).then(|| "thread-42".to_string()),
        platform: None,
        profile: Some("general".into()),
        created: 1_700_000_000,
        started_at: (state == WorkspaceState::Running)
            .then_some(1_700_000_000 + i64::from(port - 2200) * 977),
        runtime: None,
        memory_limit: Some(4 << 30),
        pids_limit: Some(256),
        cpus_limit: None,
        provision: berth::domain::provision::Provision::Ready,
        labels: [("team".to_string(), "core".to_string())].into(),
    }
}

pub fn state(theme: &str) -> State {
    let themes: Vec<Theme> = ["default", "light", "high-contrast"]
        .iter()
        .filter_map(|n| Theme::preset(n))
        .collect();
    let idx = themes.iter().position(|t| t.name == theme).unwrap();
    let mut s = State::new(themes, idx, Keymap::default(), 1000);
    s.now = 1_700_100_000;
    s.default_image = "berth/workspace:latest".into();
    update(
        &mut s,
        Msg::Backend(Event::Connected {
            endpoint: "unix:///var/run/docker.sock".into(),
        }),
    );
    s
}

pub fn populated(theme: &str, w: u16, h: u16) -> State {
    let mut s = state(theme);
    update(&mut s, Msg::Resize(w, h));
    update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![
            ws("api", WorkspaceState::Running, 2200),
            ws("web-frontend", WorkspaceState::Running, 2201),
            ws("batch", WorkspaceState::Stopped, 2202),
            ws("worker-7", WorkspaceState::Restarting, 2203),
            ws("broken", WorkspaceState::Dead, 2204),
        ])),
    );
    update(
        &mut s,
        Msg::Backend(Event::Stats {
            name: "api".into(),
            stats: Stats {
                cpu_percent: 12.5,
                mem_bytes: 300 << 20,
                mem_limit: 4 << 30,
                pids: 7,
            },
        }),
    );
    for (t, a) in [
        (1_700_099_000, "create"),
        (1_700_099_100, "start"),
        (1_700_099_900, "exec_die"),
    ] {
        let ev = EngineEvent {
            name: "api".into(),
            container: "workspace-api".into(),
            action: a.into(),
            time: t,
        };
        update(&mut s, Msg::Backend(Event::Engine(ev)));
    }
    let lines = (0..40)
        .map(|i| RawLine {
            source: if i % 5 == 0 {
                "egress".into()
            } else {
                "workspace".into()
            },
            stderr: i % 3 == 0,
            ts: Some(format!("2026-11-23T02:{:02}:00.000000000Z", i)),
            text: if i == 37 {
                "ERROR: connection refused".into()
            } else {
                format!("request {i} served in {}ms", i * 3)
            },
        })
        .collect();
    update(
        &mut s,
        Msg::Backend(Event::Logs {
            name: "api".into(),
            lines,
        }),
    );
    s
}

pub fn key(s: &mut State, c: KeyCode) {
    update(s, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

pub fn chars(s: &mut State, text: &str) {
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
}

pub fn draw(s: &State) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    t.draw(|f| panes::draw(f, s)).unwrap();
    t
}

pub fn text(s: &State) -> String {
    let t = draw(s);
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out
}

/// Text plus, per row, the runs of distinct styles: colours are part of the snapshot.
pub fn styled(s: &State) -> String {
    let t = draw(s);
    let buf = t.backend().buffer();
    let mut out = text(s);
    out.push_str("--- styles (row: start..end fg/bg/modifiers) ---\n");
    for y in 0..buf.area.height {
        let mut runs: Vec<(u16, u16, String)> = Vec::new();
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            let st = format!("{:?}/{:?}/{:?}", c.fg, c.bg, c.modifier);
            match runs.last_mut() {
                Some((_, end, last)) if *last == st => *end = x,
                _ => runs.push((x, x, st)),
            }
        }
        let _ = write!(out, "{y:02}:");
        for (a, b, st) in runs {
            let _ = write!(out, " {a}..{b} {st};");
        }
        out.push('\n');
    }
    out
}
