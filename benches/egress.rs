//! The egress audit view holding 100 000 records against the logs pane holding
//! 100 000 lines of the same text, each in a fresh process of its own: resident
//! memory added by the records, time to take them in, frame time (draw + diff on
//! TestBackend, 120x40, one new record a frame while following) and, for the
//! view, the search as typed. `cargo bench --bench egress`.
use berth::backend::service::{Event, RawLine};
use berth::domain::egress::EgressRecord;
use berth::domain::egress_audit::audit_line;
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

const N: u64 = 100_000;
const SIZE: (u16, u16) = (120, 40);

fn rec(i: u64) -> EgressRecord {
    let allowed = !i.is_multiple_of(7);
    EgressRecord {
        time_ms: 1_764_100_000_000 + i as i64 * 37,
        method: if i.is_multiple_of(3) {
            "CONNECT"
        } else {
            "GET"
        }
        .into(),
        host: format!("api{}.service{}.example.com", i % 50, i % 13),
        port: Some(if i.is_multiple_of(3) { 443 } else { 80 }),
        status: Some(if allowed { 200 } else { 403 }),
        bytes: 200 + (i * 7919) % 90_000,
        result: if allowed { "TCP_MISS" } else { "TCP_DENIED" }.into(),
        url: format!(
            "http://api{}.service{}.example.com/v1/items/{i}?page={}",
            i % 50,
            i % 13,
            i % 9
        ),
        allowed,
    }
}

fn ws() -> Workspace {
    Workspace {
        engine: String::new(),
        name: "agent".into(),
        state: WorkspaceState::Running,
        ssh_port: Some(2200),
        image: "berth/workspace:latest".into(),
        container: "workspace-agent".into(),
        container_id: "0123456789abcdef0123".into(),
        volume: "workspace-agent".into(),
        thread: None,
        platform: None,
        profile: Some("general".into()),
        created: 1_700_000_000,
        started_at: Some(1_700_000_000),
        runtime: None,
        memory_limit: Some(4 << 30),
        pids_limit: Some(256),
        cpus_limit: None,
        provision: berth::domain::provision::Provision::Ready,
        labels: [("dev.berth.net-profile".to_string(), "proxy".to_string())].into(),
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn key(s: &mut State, code: KeyCode) {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn state(log_lines: usize) -> State {
    let mut s = State::new(
        vec![Theme::default_theme()],
        0,
        Keymap::default(),
        log_lines,
    );
    s.now = 1_700_100_000;
    update(&mut s, Msg::Resize(SIZE.0, SIZE.1));
    update(&mut s, Msg::Backend(Event::Workspaces(vec![ws()])));
    s
}

fn frames(s: &mut State, mut next: impl FnMut(&mut State, u64)) -> (f64, f64) {
    let mut term = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("terminal");
    let mut times = Vec::new();
    for i in 0..400 {
        next(s, N + i);
        let t0 = Instant::now();
        term.draw(|f| panes::draw(f, s)).expect("draw");
        times.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    (times[times.len() / 2], times[times.len() * 95 / 100])
}

fn egress_peer() {
    let mut s = state(1000);
    key(&mut s, KeyCode::Char('E'));
    let before = rss_kib();
    let t0 = Instant::now();
    for chunk in 0..N / 2000 {
        let records = (chunk * 2000..(chunk + 1) * 2000).map(rec).collect();
        update(
            &mut s,
            Msg::Backend(Event::Egress {
                name: "agent".into(),
                records,
            }),
        );
    }
    let ingest = t0.elapsed().as_secs_f64() * 1e3;
    let added = rss_kib().saturating_sub(before);
    let (med, p95) = frames(&mut s, |s, i| {
        update(
            s,
            Msg::Backend(Event::Egress {
                name: "agent".into(),
                records: vec![rec(i)],
            }),
        );
    });
    // The search as typed: "/", then each letter narrows; backspace widens.
    key(&mut s, KeyCode::Char('/'));
    let mut typed = Vec::new();
    for c in "api7.".chars() {
        let t0 = Instant::now();
        key(&mut s, KeyCode::Char(c));
        typed.push(format!("{:.1}", t0.elapsed().as_secs_f64() * 1e3));
    }
    let t0 = Instant::now();
    key(&mut s, KeyCode::Backspace);
    let widen = t0.elapsed().as_secs_f64() * 1e3;
    println!("peer=egress rss_added_kib={added} ingest_ms={ingest:.0} frame_med_us={med:.0} frame_p95_us={p95:.0} search_keys_ms=[{}] widen_ms={widen:.1}", typed.join(" "));
}

fn logs_peer() {
    let mut s = state(N as usize);
    let before = rss_kib();
    let t0 = Instant::now();
    for chunk in 0..N / 2000 {
        let lines = (chunk * 2000..(chunk + 1) * 2000)
            .map(|i| RawLine {
                source: "proxy".into(),
                stderr: false,
                ts: Some("2026-11-25T21:00:00.000000000Z".into()),
                text: audit_line(&rec(i)),
            })
            .collect();
        update(
            &mut s,
            Msg::Backend(Event::Logs {
                name: "agent".into(),
                lines,
            }),
        );
    }
    let ingest = t0.elapsed().as_secs_f64() * 1e3;
    let added = rss_kib().saturating_sub(before);
    let (med, p95) = frames(&mut s, |s, i| {
        let line = RawLine {
            source: "proxy".into(),
            stderr: false,
            ts: Some("2026-11-25T21:00:00.000000000Z".into()),
            text: audit_line(&rec(i)),
        };
        update(
            s,
            Msg::Backend(Event::Logs {
                name: "agent".into(),
                lines: vec![line],
            }),
        );
    });
    println!("peer=logs rss_added_kib={added} ingest_ms={ingest:.0} frame_med_us={med:.0} frame_p95_us={p95:.0}");
}

fn field(out: &str, key: &str) -> f64 {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn main() {
    match std::env::var("BERTH_BENCH_PEER").as_deref() {
        Ok("egress") => return egress_peer(),
        Ok("logs") => return logs_peer(),
        _ => {}
    }
    // Each peer in a fresh process, so its resident memory is its own.
    let exe = std::env::current_exe().expect("own path");
    let run = |peer: &str| {
        let o = std::process::Command::new(&exe)
            .env("BERTH_BENCH_PEER", peer)
            .output()
            .expect("run peer");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let (e, l) = (run("egress"), run("logs"));
    println!("{e}");
    println!("{l}");
    println!(
        "100 000 records, {}x{}: egress view / logs pane of the same text: memory {:.2}x, frame time (median) {:.2}x",
        SIZE.0,
        SIZE.1,
        field(&e, "rss_added_kib") / field(&l, "rss_added_kib"),
        field(&e, "frame_med_us") / field(&l, "frame_med_us"),
    );
}
