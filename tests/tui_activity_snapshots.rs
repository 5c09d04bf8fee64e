//! Snapshots of activity in the TUI: the list's TTL countdown column (at 80 and
//! 120 columns) and the status pane's last use, TTL and alive reasons.
use berth::backend::activity_watch::ActivityView;
use berth::backend::service::Event;
use berth::domain::activity::{Activity, AliveReason};
use berth::domain::ttl::Ttl;
use berth::domain::ttl_source::TtlSource;
use berth::domain::workspace::{Workspace, WorkspaceState};
use berth::store::{ActivityRecord, Use};
use berth::tui::keymap::Keymap;
use berth::tui::panes;
use berth::tui::state::State;
use berth::tui::theme::Theme;
use berth::tui::update::{update, Msg};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const NOW: i64 = 1_700_100_000;

fn ws(name: &str, state: WorkspaceState, port: u16) -> Workspace {
    Workspace {
        engine: String::new(),
        name: name.into(),
        state,
        ssh_port: Some(port),
        image: "berth/workspace:latest".into(),
        container: format!("workspace-{name}"),
        container_id: format!("id-{name}"),
        volume: format!("workspace-{name}"),
        thread: None,
        platform: None,
        profile: Some("general".into()),
        created: 1_700_000_000,
        started_at: (state == WorkspaceState::Running).then_some(1_700_000_000),
        runtime: None,
        memory_limit: Some(4 << 30),
        pids_limit: Some(256),
        cpus_limit: None,
        provision: berth::domain::provision::Provision::Ready,
        labels: Default::default(),
    }
}

fn screen(w: u16, h: u16, reasons: Vec<AliveReason>) -> String {
    let mut s = State::new(vec![Theme::default_theme()], 0, Keymap::default(), 100);
    s.now = NOW;
    update(
        &mut s,
        Msg::Backend(Event::Connected {
            endpoint: "unix:///var/run/docker.sock".into(),
        }),
    );
    update(&mut s, Msg::Resize(w, h));
    update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![
            ws("api", WorkspaceState::Running, 2200),
            ws("long-lived-workspace-name", WorkspaceState::Running, 2201),
            {
                let mut b = ws("batch", WorkspaceState::Stopped, 2202);
                b.labels.insert("dev.berth.ttl".into(), "1d".into());
                b
            },
        ])),
    );
    // api: used 1h ago with a TTL of 2d4h (berth ttl); batch: its create's 1d,
    // run out; the long one: the config's never.
    let rec = |at: i64, ttl: Option<&str>| ActivityRecord {
        last_use: Some(Use {
            at,
            source: "exec".into(),
        }),
        ttl: ttl.map(String::from),
    };
    update(
        &mut s,
        Msg::Backend(Event::UseRecords {
            records: [
                ("id-api".to_string(), rec(NOW - 3600, Some("2d4h"))),
                ("id-batch".to_string(), rec(NOW - 86_405, None)),
            ]
            .into(),
            default_ttl: Ttl::Never,
        }),
    );
    let activity = Activity::derive(
        NOW,
        1_700_000_000,
        Some(NOW - 300),
        Ttl::After(3 * 86_400),
        reasons,
    );
    let selected = s.selected.clone().unwrap();
    update(
        &mut s,
        Msg::Backend(Event::Activity {
            name: selected,
            observed: Ok(ActivityView {
                activity,
                source: TtlSource::Create,
                at: NOW,
            }),
        }),
    );
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| panes::draw(f, &s)).unwrap();
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

fn reasons() -> Vec<AliveReason> {
    vec![
        AliveReason::SshSessions {
            sessions: vec!["pts/0 from 172.17.0.1:40022".into()],
        },
        AliveReason::Processes {
            processes: vec!["216 sleep 1000".into()],
        },
    ]
}

#[test]
fn ttl_column_and_alive_reasons_at_80_columns() {
    insta::assert_snapshot!(screen(80, 30, reasons()));
}

#[test]
fn ttl_column_and_alive_reasons_at_120_columns() {
    insta::assert_snapshot!(screen(120, 36, reasons()));
}

#[test]
fn an_idle_workspace_says_so() {
    let s = screen(120, 36, vec![]);
    assert!(s.contains("idle: nothing counts as alive"), "{s}");
    assert!(s.contains("3d (create --ttl) · 2d23h left"), "{s}");
}
