//! Alerts and volume sizes in the TUI: the backend's check lands in the state, an
//! alert raises the banner (and clears with it), sizes fill the list's SIZE column.
use super::state::State;
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::Event;
use crate::domain::alerts::{evaluate, Host, Thresholds, Use};
use crate::domain::workspace::WorkspaceState;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::collections::BTreeMap;

const G: u64 = 1 << 30;

fn state() -> State {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = (120, 14);
    s.now = 10_000;
    update(
        &mut s,
        Msg::Backend(Event::Connected {
            endpoint: "unix:///var/run/docker.sock".into(),
        }),
    );
    let list = vec![
        ws("api", WorkspaceState::Running, 2200),
        ws("batch", WorkspaceState::Stopped, 2201),
    ];
    update(&mut s, Msg::Backend(Event::Workspaces(list)));
    s
}

fn text(s: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    t.draw(|f| super::panes::draw(f, s)).unwrap();
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            let row: String = (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            row.trim_end().to_string() + "\n"
        })
        .collect()
}

fn alerts(disk: u64) -> Vec<crate::domain::alerts::Alert> {
    let host = Host {
        cpus: 2,
        mem_bytes: 8 * G,
        disk_bytes: Some(100 * G),
    };
    let u = Use {
        name: "api".into(),
        cpu_cores: 0.2,
        mem_bytes: G,
        disk_bytes: Some(disk),
    };
    evaluate(
        &host,
        &[u],
        Thresholds {
            pct: 80,
            disk_alert: Some(20 * G),
        },
    )
}

#[test]
fn an_alert_raises_the_banner_and_sizes_fill_the_list() {
    let mut s = state();
    let before = text(&s);
    assert!(!before.contains("ALERT"), "{before}");
    update(
        &mut s,
        Msg::Backend(Event::VolumeSizes(BTreeMap::from([(
            "api".to_string(),
            23 * G,
        )]))),
    );
    update(&mut s, Msg::Backend(Event::Alerts(alerts(23 * G))));
    assert!(s.layout_flags().banner);
    let screen = text(&s);
    insta::assert_snapshot!("alert_banner", screen);
    assert!(
        screen.contains(
            "ALERT: workspace api's home volume holds 23G, past [limits] disk_alert = 20g"
        ),
        "{screen}"
    );
    let row = |n: &str| screen.lines().find(|l| l.contains(n)).unwrap().to_string();
    assert!(row("● api").contains("23G"), "{screen}");
    assert!(
        row("○ batch").contains('?'),
        "unknown until measured: {screen}"
    );

    // Cleared: the banner goes.
    update(&mut s, Msg::Backend(Event::Alerts(alerts(G))));
    assert!(!s.layout_flags().banner);
    assert!(!text(&s).contains("ALERT"));
}

#[test]
fn several_alerts_are_counted_in_the_banner() {
    let mut s = state();
    let mut a = alerts(23 * G);
    a.extend(alerts(30 * G));
    update(&mut s, Msg::Backend(Event::Alerts(a)));
    let b = s.alert_banner().unwrap();
    assert!(
        b.starts_with("2 ALERTS (`berth doctor` lists them): workspace api"),
        "{b}"
    );
}
