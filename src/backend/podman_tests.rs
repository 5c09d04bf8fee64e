//! `init = false` on an engine's definition, over the in-memory engine: the
//! workspace is created without an init process, labelled so, and the create
//! says that zombies are not reaped.
use super::create::{create, CreateOutcome};
use super::create_tests::{request, rig};
use super::engines::{EngineConnector, EngineSet};
use super::{lifecycle, Progress};
use crate::domain::engines::{EngineDef, EngineHost, EngineSource, Placement};
use crate::domain::naming::WorkspaceName;
use crate::engine::Engine;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The rig's engine as the only one, defined with `init`.
fn defined_with(rig: &mut super::create_tests::Rig, init: Option<bool>) {
    let engine: Arc<dyn Engine> = Arc::new(rig.engine.clone());
    let mut def = EngineDef::plain(
        &engine.name(),
        EngineHost::Unix("/nonexistent/docker.sock".into()),
        EngineSource::Config,
    );
    def.init = init;
    let connector: EngineConnector = Arc::new(move |_| {
        let e = engine.clone();
        Box::pin(async move { Ok(e) })
    });
    let set = EngineSet::new(vec![def.clone()], def.name, Placement::Default, connector).unwrap();
    rig.ctx.engines = Arc::new(set);
}

async fn create_noting(rig: &super::create_tests::Rig, name: &str) -> Vec<String> {
    let notes = Mutex::new(Vec::new());
    let report = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.lock().unwrap().push(n);
        }
    };
    let (_tx, rx) = tokio::sync::watch::channel(false);
    match create(&rig.ctx, request(&rig.ctx, name, None), &report, rx).await {
        Ok(CreateOutcome::Created(_)) => {}
        Ok(other) => panic!("{other:?}"),
        Err(e) => panic!("{e}"),
    }
    notes.into_inner().unwrap()
}

#[tokio::test(start_paused = true)]
async fn init_false_creates_without_an_init_process_and_says_so() {
    let mut rig = rig((2200, 2210), Duration::ZERO);
    defined_with(&mut rig, Some(false));
    let notes = create_noting(&rig, "noinit").await;
    assert!(
        notes.iter().any(|n| n.contains("zombie")),
        "no note of the missing init: {notes:?}"
    );
    let extras = rig.engine.extras("workspace-noinit").unwrap();
    assert!(extras.no_init, "created with an init process");
    let w = lifecycle::find(&rig.ctx, &WorkspaceName::parse("noinit").unwrap())
        .await
        .unwrap();
    assert!(
        crate::domain::podman::lacks_init(&w.labels),
        "{:?}",
        w.labels
    );
    assert!(crate::domain::podman::init_status_line(&w.labels).is_some());
}

#[tokio::test(start_paused = true)]
async fn by_default_a_workspace_has_an_init_process() {
    for init in [None, Some(true)] {
        let mut rig = rig((2200, 2210), Duration::ZERO);
        defined_with(&mut rig, init);
        let notes = create_noting(&rig, "withinit").await;
        assert!(!notes.iter().any(|n| n.contains("zombie")), "{notes:?}");
        assert!(!rig.engine.extras("workspace-withinit").unwrap().no_init);
        let w = lifecycle::find(&rig.ctx, &WorkspaceName::parse("withinit").unwrap())
            .await
            .unwrap();
        assert!(!crate::domain::podman::lacks_init(&w.labels));
    }
}
