//! The egress audit view: opened on a proxy workspace it follows the audit (and
//! says why not on any other), records arrive, scroll, search and denied-only
//! keys, close stops the follower; the list's live counters; how they look.
use super::state::{Effect, Overlay, State};
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::{Command, Event};
use crate::domain::egress::EgressRecord;
use crate::domain::egress_audit::EgressCounts;
use crate::domain::net_profile::LABEL;
use crate::domain::workspace::WorkspaceState;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn state() -> State {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = (110, 20);
    let mut p = ws("proxied", WorkspaceState::Running, 2200);
    p.labels.insert(LABEL.into(), "proxy".into());
    let mut i = ws("plain", WorkspaceState::Running, 2201);
    i.labels.insert(LABEL.into(), "isolated".into());
    update(&mut s, Msg::Backend(Event::Workspaces(vec![p, i])));
    s
}

fn rec(i: u64) -> EgressRecord {
    let allowed = i % 4 != 3;
    EgressRecord {
        time_ms: 1_764_104_400_000 + i as i64 * 1_500,
        method: if i.is_multiple_of(2) {
            "GET"
        } else {
            "CONNECT"
        }
        .into(),
        host: format!("host{i}.example.test"),
        port: Some(if i.is_multiple_of(2) { 80 } else { 443 }),
        status: Some(if allowed { 200 } else { 403 }),
        bytes: 1000 + i,
        result: if allowed { "TCP_MISS" } else { "TCP_DENIED" }.into(),
        url: format!("http://host{i}.example.test/path/{i}"),
        allowed,
    }
}

fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn records(s: &mut State, range: std::ops::Range<u64>) {
    let records = range.map(rec).collect();
    update(
        s,
        Msg::Backend(Event::Egress {
            name: "proxied".into(),
            records,
        }),
    );
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

fn view(s: &State) -> &super::egress_view::EgressView {
    match &s.overlay {
        Overlay::Egress(v) => v,
        _ => panic!("the egress view is not open"),
    }
}

fn open_on_proxied(s: &mut State) {
    // The list is sorted by name: plain, proxied.
    press(s, KeyCode::Char('j'));
    let fx = press(s, KeyCode::Char('E'));
    assert_eq!(
        fx,
        [Effect::Backend(Command::Egress(Some("proxied".into())))]
    );
    update(
        s,
        Msg::Backend(Event::EgressReset {
            name: "proxied".into(),
        }),
    );
}

#[test]
fn a_workspace_that_is_not_proxy_says_why_and_follows_nothing() {
    let mut s = state();
    assert_eq!(s.selected.as_deref(), Some("plain"));
    let fx = press(&mut s, KeyCode::Char('E'));
    assert!(fx.is_empty(), "{fx:?}");
    let t = text(&s);
    assert!(
        t.contains(
            "plain has network profile isolated; only proxy workspaces have an egress audit"
        ) && t.contains("--net-profile"),
        "{t}"
    );
    assert!(press(&mut s, KeyCode::Char('q')).is_empty());
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn records_follow_scroll_and_close_stops_the_follower() {
    let mut s = state();
    open_on_proxied(&mut s);
    insta::assert_snapshot!("egress_empty", text(&s));
    records(&mut s, 0..40);
    insta::assert_snapshot!("egress_following", text(&s));
    // Scrolled back, new records do not move the rows shown.
    press(&mut s, KeyCode::PageUp);
    let before = text(&s);
    assert!(before.contains("rows back"), "{before}");
    records(&mut s, 40..45);
    let after = text(&s);
    assert_eq!(
        before.lines().skip(3).take(10).collect::<Vec<_>>(),
        after.lines().skip(3).take(10).collect::<Vec<_>>()
    );
    press(&mut s, KeyCode::Char('G'));
    assert!(text(&s).contains("host44.example.test"));
    // Records for another workspace are not shown.
    update(
        &mut s,
        Msg::Backend(Event::Egress {
            name: "plain".into(),
            records: vec![rec(99)],
        }),
    );
    assert_eq!(view(&s).ring.counts.requests, 45);
    let fx = press(&mut s, KeyCode::Char('q'));
    assert_eq!(fx, [Effect::Backend(Command::Egress(None))]);
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn search_as_you_type_and_denied_only() {
    let mut s = state();
    open_on_proxied(&mut s);
    records(&mut s, 0..40);
    press(&mut s, KeyCode::Char('d'));
    assert_eq!(view(&s).ring.matched(), 10);
    insta::assert_snapshot!("egress_denied_only", text(&s));
    press(&mut s, KeyCode::Char('d'));
    press(&mut s, KeyCode::Char('/'));
    for c in "host1".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    // host1, host10..host19.
    assert_eq!(view(&s).ring.matched(), 11);
    insta::assert_snapshot!("egress_search_typing", text(&s));
    press(&mut s, KeyCode::Backspace);
    assert_eq!(view(&s).ring.matched(), 40, "\"host\" matches every one");
    press(&mut s, KeyCode::Char('1'));
    press(&mut s, KeyCode::Enter);
    assert_eq!(view(&s).typing, None);
    assert_eq!(view(&s).ring.matched(), 11, "enter keeps the search");
    // Status and method match too.
    press(&mut s, KeyCode::Esc);
    assert_eq!(view(&s).ring.matched(), 40, "esc clears the search");
    press(&mut s, KeyCode::Char('/'));
    for c in "403".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    assert_eq!(view(&s).ring.matched(), 10);
    press(&mut s, KeyCode::Enter);
    // Esc with a search clears it; with none, closes.
    press(&mut s, KeyCode::Esc);
    let fx = press(&mut s, KeyCode::Esc);
    assert_eq!(fx, [Effect::Backend(Command::Egress(None))]);
}

#[test]
fn the_list_shows_live_counters_of_proxy_workspaces() {
    let mut s = state();
    s.size = (110, 12);
    let no_counters = text(&s);
    assert!(!no_counters.contains("REQ/DENIED"));
    update(
        &mut s,
        Msg::Backend(Event::EgressCounts {
            name: "proxied".into(),
            counts: Some(EgressCounts {
                requests: 1234,
                denied: 56,
            }),
        }),
    );
    insta::assert_snapshot!("egress_list_counters", text(&s));
    update(
        &mut s,
        Msg::Backend(Event::EgressCounts {
            name: "proxied".into(),
            counts: None,
        }),
    );
    assert!(s.egress_counts.is_empty());
}

#[test]
fn a_hundred_thousand_records_stay_bounded_and_draw_only_what_shows() {
    let mut s = state();
    s.egress_records = 50_000;
    open_on_proxied(&mut s);
    for chunk in 0..50 {
        records(&mut s, chunk * 2000..(chunk + 1) * 2000);
    }
    let v = view(&s);
    assert_eq!(v.ring.len(), 50_000);
    assert_eq!(v.ring.counts.requests, 100_000);
    assert_eq!(v.ring.counts.denied, 25_000);
    let t = text(&s);
    assert!(t.contains("host99999.example.test"), "{t}");
    assert!(t.contains("newest 50000 kept"), "{t}");
}
