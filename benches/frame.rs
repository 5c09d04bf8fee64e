//! Frame time (draw + diff) of the whole TUI with 500 workspaces, on ratatui's
//! TestBackend. Prints median and p95; `cargo bench --bench frame`.
use berth::backend::service::{Event, RawLine};
use berth::domain::workspace::{Workspace, WorkspaceState};
use berth::tui::keymap::Keymap;
use berth::tui::panes;
use berth::tui::state::State;
use berth::tui::theme::Theme;
use berth::tui::update::{update, Msg};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Instant;

fn ws(i: usize) -> Workspace {
    let state = if i.is_multiple_of(3) {
        WorkspaceState::Stopped
    } else {
        WorkspaceState::Running
    };
    Workspace {
        engine: String::new(),
        name: format!("workspace-number-{i:04}"),
        state,
        ssh_port: Some(2200 + (i % 200) as u16),
        image: "berth/workspace:latest".into(),
        container: format!("workspace-workspace-number-{i:04}"),
        container_id: "0123456789abcdef0123".into(),
        volume: format!("workspace-workspace-number-{i:04}"),
        thread: None,
        platform: None,
        profile: Some("general".into()),
        created: 1_700_000_000,
        started_at: Some(1_700_000_000 + i as i64),
        runtime: None,
        memory_limit: Some(4 << 30),
        pids_limit: Some(256),
        cpus_limit: None,
        provision: berth::domain::provision::Provision::Ready,
        labels: Default::default(),
    }
}

fn main() {
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        let mut s = State::new(vec![Theme::default_theme()], 0, Keymap::default(), 10_000);
        s.now = 1_700_100_000;
        update(&mut s, Msg::Resize(w, h));
        update(
            &mut s,
            Msg::Backend(Event::Workspaces((0..500).map(ws).collect())),
        );
        let lines = (0..2000)
            .map(|i| RawLine {
                source: "workspace".into(),
                stderr: false,
                ts: None,
                text: format!("log line {i} with some text in it"),
            })
            .collect();
        let name = s.selected.clone().unwrap_or_default();
        update(&mut s, Msg::Backend(Event::Logs { name, lines }));
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut times = Vec::new();
        for i in 0..400 {
            // Each frame differs: move the selection (a new row highlighted, new details).
            let k = if (i / 100) % 2 == 0 {
                KeyCode::Down
            } else {
                KeyCode::Up
            };
            update(&mut s, Msg::Key(KeyEvent::new(k, KeyModifiers::NONE)));
            let t0 = Instant::now();
            term.draw(|f| panes::draw(f, &s)).unwrap();
            times.push(t0.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let med = times[times.len() / 2];
        let p95 = times[times.len() * 95 / 100];
        println!("frame (draw + diff), 500 workspaces, {w}x{h}: median {med:.0} µs, p95 {p95:.0} µs over {} frames", times.len());
    }
}
