//! Several engines in the TUI: tagged events keyed by (engine, name), the
//! ENGINE column, a down engine's banner and unknown rows, the engine picker,
//! commands routed to the workspace's engine, and the create form's engine.
use super::agents_view_tests::{press, text};
use super::engines::Engines;
use super::state::{Effect, EngineLink, Overlay, State};
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::{Command, Event};
use crate::domain::workspace::{Workspace, WorkspaceState};
use crossterm::event::KeyCode;
use std::time::Duration;

fn on(engine: &str, event: Event) -> Msg {
    Msg::Backend(Event::On {
        engine: engine.into(),
        event: Box::new(event),
    })
}

fn at(engine: &str, name: &str, state: WorkspaceState, port: u16) -> Workspace {
    let mut w = ws(name, state, port);
    w.engine = engine.into();
    w
}

/// Three engines, all up, two workspaces each ("api" on two of them).
fn three() -> State {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.size = (110, 20);
    s.now = 10_000;
    let names: Vec<String> = ["default", "build", "gpu"].map(String::from).to_vec();
    s.engines = Engines::new(&names, "default");
    for (e, list) in [
        ("default", vec![("api", 2200), ("web", 2201)]),
        ("build", vec![("api", 2210), ("ci", 2211)]),
        ("gpu", vec![("train", 2220)]),
    ] {
        let endpoint = format!("unix:///run/{e}.sock");
        update(&mut s, on(e, Event::Connected { endpoint }));
        let ws = list
            .into_iter()
            .map(|(n, p)| at("", n, WorkspaceState::Running, p))
            .collect();
        update(&mut s, on(e, Event::Workspaces(ws)));
    }
    s
}

fn rows(s: &State) -> Vec<(String, String)> {
    s.visible()
        .map(|w| (w.engine.clone(), w.name.clone()))
        .collect()
}

fn down(s: &mut State, engine: &str) -> Vec<Effect> {
    update(
        s,
        on(
            engine,
            Event::Disconnected {
                endpoint: "unix:///run/build.sock".into(),
                reason: "connection refused".into(),
                retry_in: Duration::from_secs(8),
            },
        ),
    )
}

#[test]
fn each_engine_replaces_only_its_own_rows() {
    let mut s = three();
    assert_eq!(s.workspaces.len(), 5);
    assert_eq!(
        rows(&s)[..2],
        [
            ("build".to_string(), "api".to_string()),
            ("default".to_string(), "api".to_string())
        ],
        "the same name on two engines is two rows"
    );
    update(
        &mut s,
        on(
            "build",
            Event::Workspaces(vec![at("x", "ci", WorkspaceState::Stopped, 2211)]),
        ),
    );
    let names: Vec<_> = rows(&s);
    assert_eq!(names.len(), 4);
    assert!(
        names.contains(&("build".into(), "ci".into())),
        "tagged by its engine"
    );
    assert!(names.contains(&("default".into(), "api".into())));
    assert!(!names.contains(&("build".into(), "api".into())));
}

#[test]
fn the_list_shows_the_engine_column() {
    let s = three();
    insta::assert_snapshot!("engines_list", text(&s));
}

#[test]
fn a_down_engine_shows_its_banner_and_unknown_rows_the_others_stay_live() {
    let mut s = three();
    down(&mut s, "build");
    assert!(s.engines.is_down("build") && !s.engines.is_down("gpu"));
    assert_eq!(
        s.engines.banner().unwrap(),
        "engine build: unreachable (connection refused); retrying in 8 s; its workspaces show as unknown"
    );
    // Its rows stay (as unknown); a live engine's news still arrives.
    assert_eq!(s.workspaces.len(), 5);
    update(
        &mut s,
        on(
            "gpu",
            Event::Workspaces(vec![
                at("", "train", WorkspaceState::Running, 2220),
                at("", "eval", WorkspaceState::Running, 2221),
            ]),
        ),
    );
    assert_eq!(s.workspaces.len(), 6);
    let t = text(&s);
    assert!(t.contains("engine build: unreachable"), "{t}");
    insta::assert_snapshot!("engines_one_down", t);
    // Back: resynced from its fresh list, banner gone.
    update(
        &mut s,
        on(
            "build",
            Event::Connected {
                endpoint: "unix:///run/build.sock".into(),
            },
        ),
    );
    update(
        &mut s,
        on(
            "build",
            Event::Workspaces(vec![at("", "ci", WorkspaceState::Running, 2211)]),
        ),
    );
    assert!(s.engines.banner().is_none());
    assert_eq!(s.workspaces.len(), 5);
    assert!(!text(&s).contains("unknown"));
}

#[test]
fn the_picker_narrows_to_one_engine_and_all_returns() {
    let mut s = three();
    press(&mut s, KeyCode::Char('e'));
    assert!(matches!(s.overlay, Overlay::Engines { cursor: 0 }));
    down(&mut s, "gpu");
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Down);
    insta::assert_snapshot!("engines_picker", text(&s));
    press(&mut s, KeyCode::Enter);
    assert!(matches!(s.overlay, Overlay::None));
    assert_eq!(s.engines.filter.as_deref(), Some("build"));
    assert_eq!(
        rows(&s),
        [
            ("build".to_string(), "api".to_string()),
            ("build".to_string(), "ci".to_string())
        ]
    );
    assert_eq!(s.selected_workspace().unwrap().engine, "build");
    // Back to all; the picker opens on the current choice.
    press(&mut s, KeyCode::Char('e'));
    assert!(matches!(s.overlay, Overlay::Engines { cursor: 2 }));
    press(&mut s, KeyCode::Char('k'));
    press(&mut s, KeyCode::Char('k'));
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.engines.filter, None);
    assert_eq!(s.view.len(), 5);
}

#[test]
fn commands_go_to_the_selected_workspaces_engine() {
    let mut s = three();
    // The first row: api on build.
    press(&mut s, KeyCode::Char('g'));
    assert_eq!(s.selected_workspace().unwrap().engine, "build");
    let fx = press(&mut s, KeyCode::Char('s'));
    assert!(
        matches!(&fx[..], [Effect::Backend(Command::On { engine, cmd })]
            if engine == "build" && matches!(**cmd, Command::Start { ref name, .. } if name == "api")),
        "{fx:?}"
    );
    // Down one row: api on default, the same name; following moves there.
    let fx = press(&mut s, KeyCode::Char('j'));
    assert_eq!(s.selected_workspace().unwrap().engine, "default");
    assert!(
        fx.contains(&Effect::Backend(Command::On {
            engine: "default".into(),
            cmd: Box::new(Command::Select(Some("api".into())))
        })),
        "{fx:?}"
    );
    let fx = press(&mut s, KeyCode::Char('x'));
    assert!(
        matches!(&fx[..], [Effect::Backend(Command::On { engine, .. })] if engine == "default"),
        "{fx:?}"
    );
    // Logs from the engine no longer followed are not this workspace's.
    update(
        &mut s,
        on(
            "build",
            Event::Stats {
                name: "api".into(),
                stats: Default::default(),
            },
        ),
    );
    assert!(s.stats.is_none());
}

#[test]
fn the_create_form_chooses_the_engine() {
    let mut s = three();
    press(&mut s, KeyCode::Char('c'));
    let Overlay::Form(f) = &mut s.overlay else {
        panic!("no form")
    };
    assert_eq!(
        f.engine().as_deref(),
        Some("default"),
        "the default engine first"
    );
    f.set(super::form::Field::Name, "ci");
    assert_eq!(
        f.error(super::form::Field::Name),
        None,
        "ci is on build only"
    );
    f.focus = f.fields.len() - 1;
    f.cycle(1);
    assert_eq!(f.engine().as_deref(), Some("build"));
    assert!(f
        .error(super::form::Field::Name)
        .unwrap()
        .contains("already exists on engine build"));
    f.set(super::form::Field::Name, "new1");
    let fx = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(&fx[0], Effect::Backend(Command::On { engine, cmd })
            if engine == "build" && matches!(**cmd, Command::Create { .. })),
        "{fx:?}"
    );
}

#[test]
fn one_engine_looks_as_before() {
    let mut s = State::new(
        vec![super::theme::Theme::default_theme()],
        0,
        super::keymap::Keymap::default(),
        1000,
    );
    s.engines = Engines::new(&["default".to_string()], "default");
    update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![ws(
            "a",
            WorkspaceState::Running,
            2200,
        )])),
    );
    let fx = press(&mut s, KeyCode::Char('s'));
    assert!(matches!(&fx[..], [Effect::Backend(Command::Start { .. })]));
    assert!(!text(&s).contains("ENGINE"));
    assert_eq!(s.link, EngineLink::Connecting);
}

#[test]
fn least_loaded_placement_starts_the_form_on_the_emptiest_engine_that_is_up() {
    let mut s = three();
    assert_eq!(super::engines::create_default(&s), "default");
    s.engines.placement = crate::domain::engines::Placement::LeastLoaded;
    // default 2 running, build 2, gpu 1.
    assert_eq!(super::engines::create_default(&s), "gpu");
    down(&mut s, "gpu");
    // default and build tie at 2: by name.
    assert_eq!(super::engines::create_default(&s), "build");
    press(&mut s, KeyCode::Char('c'));
    let Overlay::Form(f) = &s.overlay else {
        panic!("no form")
    };
    assert_eq!(f.engine().as_deref(), Some("build"));
}
