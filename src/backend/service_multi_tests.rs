//! Several in-memory engines behind `service_multi`, in tokio's paused time: one
//! engine down never stops the others' events, it reconnects with backoff,
//! commands go to their engine, and everything ends with the TUI.
use super::*;
use crate::backend::test_support::{connector, drain, paths, wait_for};
use crate::domain::engines::{EngineHost, EngineSource};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceState;
use crate::engine::memory::MemoryEngine;
use std::time::Duration;

struct Multi {
    backend: Backend,
    engines: BTreeMap<String, MemoryEngine>,
    _dir: tempfile::TempDir,
}

fn start(names: &[&str]) -> Multi {
    let defs: Vec<EngineDef> = names
        .iter()
        .map(|n| {
            EngineDef::plain(
                n,
                EngineHost::Unix(format!("/{n}.sock")),
                EngineSource::Config,
            )
        })
        .collect();
    start_defs(defs)
}

/// One in-memory engine for each of `defs` (the first the default).
fn start_defs(defs: Vec<EngineDef>) -> Multi {
    let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    let engines: BTreeMap<String, MemoryEngine> = names
        .iter()
        .map(|n| (n.to_string(), MemoryEngine::new().named(n)))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let p = paths(dir.path());
    let store = Store::inline_for_tests(p.store_file());
    let by_name = engines.clone();
    let backend = spawn(
        p,
        Config::default(),
        &defs,
        names[0],
        |d: &EngineDef| connector(&by_name[&d.name]),
        store,
        None,
    );
    Multi {
        backend,
        engines,
        _dir: dir,
    }
}

/// `(engine, event)` of a tagged event.
fn on(e: &Event) -> Option<(&str, &Event)> {
    match e {
        Event::On { engine, event } => Some((engine.as_str(), event.as_ref())),
        _ => None,
    }
}

fn cmd_on(engine: &str, cmd: Command) -> Command {
    Command::On {
        engine: engine.into(),
        cmd: Box::new(cmd),
    }
}

async fn listed(m: &mut Multi, engine: &str, name: &str) {
    wait_for(&mut m.backend.events, 10, "the workspace listed", |e| {
        on(e).and_then(|(en, ev)| match ev {
            Event::Workspaces(ws) if en == engine && ws.iter().any(|w| w.name == name) => Some(()),
            _ => None,
        })
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn one_engine_down_the_others_stay_live_and_it_backs_off() {
    let mut m = start(&["a", "b", "c"]);
    m.engines["b"].go_down("connection refused");
    m.engines["a"].add_workspace("one", 3000);
    m.engines["c"].add_workspace("three", 3002);
    listed(&mut m, "a", "one").await;
    listed(&mut m, "c", "three").await;
    // Workspaces made on a live engine while b is down still arrive.
    let c2 = m.engines["c"].add_workspace("four", 3003);
    m.engines["c"].emit(&c2, "start");
    listed(&mut m, "c", "four").await;
    let seen = drain(&mut m.backend.events, Duration::from_secs(12)).await;
    let retries: Vec<Duration> = seen
        .iter()
        .filter_map(on)
        .filter_map(|(en, ev)| match ev {
            Event::Disconnected { retry_in, .. } if en == "b" => Some(*retry_in),
            _ => None,
        })
        .collect();
    assert!(retries.len() >= 3, "{retries:?}");
    assert!(
        retries.windows(2).all(|w| w[0] <= w[1]) && retries[0] < retries[retries.len() - 1],
        "b's retries back off: {retries:?}"
    );
    assert!(
        !seen
            .iter()
            .filter_map(on)
            .any(|(en, ev)| en != "b" && matches!(ev, Event::Disconnected { .. })),
        "only b is down"
    );
    // b comes back: it resyncs with its workspaces.
    m.engines["b"].add_workspace("two", 3001);
    m.engines["b"].come_up();
    listed(&mut m, "b", "two").await;
}

#[tokio::test(start_paused = true)]
async fn commands_go_to_their_engine() {
    let mut m = start(&["a", "b"]);
    // The same name on both engines.
    let ca = m.engines["a"].add_workspace("api", 3000);
    let cb = m.engines["b"].add_workspace("api", 3000);
    listed(&mut m, "a", "api").await;
    listed(&mut m, "b", "api").await;
    let stop = Command::Stop {
        job: 7,
        name: "api".into(),
    };
    m.backend.commands.try_send(cmd_on("b", stop)).unwrap();
    let (engine, update) = wait_for(&mut m.backend.events, 10, "job 7 ended", |e| {
        on(e).and_then(|(en, ev)| match ev {
            Event::Job { job: 7, update } if !matches!(update, JobUpdate::Progress(_)) => {
                Some((en.to_string(), update.clone()))
            }
            _ => None,
        })
    })
    .await;
    assert_eq!(engine, "b");
    assert!(matches!(update, JobUpdate::Done(_)), "{update:?}");
    assert_eq!(m.engines["b"].state_of(&cb), Some(WorkspaceState::Stopped));
    assert_eq!(m.engines["a"].state_of(&ca), Some(WorkspaceState::Running));
    // A command for an engine berth does not know fails its job with a sentence.
    let start = Command::Start {
        job: 8,
        name: "api".into(),
    };
    m.backend.commands.try_send(cmd_on("zz", start)).unwrap();
    let why = wait_for(&mut m.backend.events, 10, "job 8 refused", |e| {
        on(e).and_then(|(_, ev)| match ev {
            Event::Job {
                job: 8,
                update: JobUpdate::Failed(why),
            } => Some(why.clone()),
            _ => None,
        })
    })
    .await;
    assert!(why.contains("\"zz\"") && why.contains("a, b"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn selecting_on_another_engine_stops_the_first_follower() {
    let mut m = start(&["a", "b"]);
    m.engines["a"].add_workspace("x", 3000);
    m.engines["b"].add_workspace("y", 3001);
    listed(&mut m, "a", "x").await;
    listed(&mut m, "b", "y").await;
    let sel = |n: &str| Command::Select(Some(n.into()));
    m.backend.commands.try_send(cmd_on("a", sel("x"))).unwrap();
    drain(&mut m.backend.events, Duration::from_secs(3)).await;
    assert_eq!(m.engines["a"].open_streams().stats, 1);
    m.backend.commands.try_send(cmd_on("b", sel("y"))).unwrap();
    drain(&mut m.backend.events, Duration::from_secs(3)).await;
    assert_eq!(
        m.engines["a"].open_streams().stats,
        0,
        "a stopped following"
    );
    assert_eq!(m.engines["b"].open_streams().stats, 1);
}

#[tokio::test(start_paused = true)]
async fn an_engine_that_drops_events_is_resynced() {
    let mut m = start(&["a"]);
    let c = m.engines["a"].add_workspace("quiet", 3000);
    listed(&mut m, "a", "quiet").await;
    // A change that makes no event (like any change on podman 4.3, whose events
    // berth's filter never matched).
    m.engines["a"].set_label(&c, crate::domain::labels::THREAD, "t-1");
    let threaded = |e: &Event| {
        on(e).is_some_and(
            |(_, ev)| matches!(ev, Event::Workspaces(ws) if ws.iter().any(|w| w.thread.is_some())),
        )
    };
    let early = drain(&mut m.backend.events, crate::backend::watch::RESYNC / 2).await;
    assert!(!early.iter().any(threaded), "no event, no list yet");
    wait_for(&mut m.backend.events, 20, "the resync", |e| {
        threaded(e).then_some(())
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn everything_ends_when_the_tui_does() {
    let mut m = start(&["a", "b", "c"]);
    m.engines["b"].go_down("gone");
    drain(&mut m.backend.events, Duration::from_secs(2)).await;
    let Backend {
        commands,
        mut events,
    } = m.backend;
    drop(commands);
    // Every task that could send an event has ended: the stream closes.
    let closed = tokio::time::timeout(Duration::from_secs(60), async {
        while events.recv().await.is_some() {}
    })
    .await;
    assert!(closed.is_ok(), "a task outlived the TUI");
    // The services' own tasks (watchers, followers) end with them.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for e in m.engines.values() {
        assert_eq!(e.open_streams().events, 0);
    }
}

/// Each engine's service sees berth's definitions of the engines: a workspace
/// on an ssh:// engine is reached by a jump through that host (not this
/// machine's loopback), and an offline workspace's ProxyCommand names its engine
/// (with several engines, so `berth ssh-proxy` never lands on another chosen
/// default); the engine's port range comes from the same definition
/// (`engine_ports`).
#[tokio::test(start_paused = true)]
async fn each_engine_service_uses_its_engines_definition() {
    let far = EngineDef {
        port_range: Some(crate::domain::ports::PortRange::new(4050, 4059).unwrap()),
        ..EngineDef::plain(
            "far",
            EngineHost::parse("ssh://me@far.example").unwrap(),
            EngineSource::Config,
        )
    };
    let here = EngineDef::plain(
        "default",
        EngineHost::Unix("/d.sock".into()),
        EngineSource::Builtin,
    );
    let mut m = start_defs(vec![here, far]);
    m.engines["far"].add_workspace("api", 4051);
    let off = m.engines["default"].add_workspace("off", 4052);
    m.engines["default"].set_label(&off, crate::domain::labels::SSH_PORT, "");
    m.engines["default"].set_label(&off, crate::domain::net_profile::LABEL, "offline");
    // Both engines connected (their lists come in either order).
    drain(&mut m.backend.events, Duration::from_secs(3)).await;
    // The host keys are pinned already: no exec needed for them.
    let p = paths(m._dir.path());
    for (name, engine) in [("api", "far"), ("off", "default")] {
        let alias = crate::backend::ssh_route::alias(&WorkspaceName::parse(name).unwrap(), engine);
        crate::ssh_client::pin_host_key(&p, &alias, "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIA")
            .unwrap();
    }
    let ask = |engine: &str, name: &str| {
        let cmd = cmd_on(engine, Command::SshCommand { name: name.into() });
        m.backend.commands.try_send(cmd).unwrap();
    };
    ask("far", "api");
    ask("default", "off");
    let mut got = BTreeMap::new();
    while got.len() < 2 {
        let (name, command) = wait_for(&mut m.backend.events, 10, "an ssh command", |e| {
            on(e).and_then(|(_, ev)| match ev {
                Event::SshCommand { name, command } => Some((name.clone(), command.clone())),
                _ => None,
            })
        })
        .await;
        got.insert(name, command.unwrap());
    }
    let api = &got["api"];
    assert!(
        api.contains("far.example") && api.contains("-W"),
        "not a jump through the engine host: {api}"
    );
    let off = &got["off"];
    assert!(
        off.contains("ssh-proxy") && off.contains("--engine default"),
        "the ProxyCommand does not name its engine: {off}"
    );
}
