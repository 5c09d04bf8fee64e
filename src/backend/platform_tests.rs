//! `create --platform` over the in-memory engine (amd64, no emulator unless a test
//! registers one): a platform the engine cannot run, or has no image for, is refused
//! before anything exists; a runnable one is labelled and handed to the engine.
use super::create::{create, CreateError, CreateOutcome, CreateSpec};
use super::create_tests::{request, rig, Rig};
use crate::domain::labels;
use crate::domain::platform::{Arch, Emulation};
use crate::engine::memory::IMAGE;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

async fn run(r: &Rig, name: &str, platform: &str) -> (Result<CreateOutcome, CreateError>, String) {
    run_in(r, name, platform, None).await
}

async fn run_in(
    r: &Rig,
    name: &str,
    platform: &str,
    thread: Option<&str>,
) -> (Result<CreateOutcome, CreateError>, String) {
    let mut req = request(&r.ctx, name, None);
    let spec = CreateSpec {
        name: name.into(),
        platform: Some(platform.into()),
        thread: thread.map(String::from),
        ..Default::default()
    };
    req.spec = super::create::workspace_spec(&r.ctx.config, spec, []).unwrap();
    let notes = Mutex::new(Vec::new());
    let (_tx, rx) = watch::channel(false);
    let out = create(
        &r.ctx,
        req,
        &|p| {
            if let super::Progress::Note(n) = p {
                notes.lock().unwrap().push(n);
            }
        },
        rx,
    )
    .await;
    let notes = notes.into_inner().unwrap().join("\n");
    (out, notes)
}

/// Nothing of a refused create: no container, no volume, no lease, no record.
async fn nothing_left(r: &Rig) {
    assert!(r.engine.containers().is_empty());
    assert!(r.engine.volume_labels("workspace-arm").is_none());
    assert_eq!(r.ctx.store.lease_count().await.unwrap(), 0);
    assert!(r.ctx.store.provisioning().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_foreign_platform_without_an_emulator_is_refused_before_anything_is_made() {
    let r = rig((47210, 47211), Duration::ZERO);
    // Even with an arm64 image at hand: nothing could run it.
    r.engine
        .add_image_for(&format!("{IMAGE}-arm64"), Arch::Arm64);
    let (out, _) = run(&r, "arm", "linux/aarch64").await;
    let Err(CreateError::Refused(e)) = out else {
        panic!("{out:?}")
    };
    assert!(
        e.starts_with("cannot run linux/arm64 on this engine: its platform is linux/amd64"),
        "{e}"
    );
    assert!(e.contains("qemu-user-static"), "{e}");
    nothing_left(&r).await;
}

#[tokio::test(start_paused = true)]
async fn a_foreign_platform_with_an_emulator_needs_an_image_for_it() {
    let r = rig((47220, 47221), Duration::ZERO);
    r.engine
        .set_emulation(Arch::Arm64, Emulation::Ready("qemu-aarch64".into()));
    let (out, _) = run(&r, "arm", "linux/arm64").await;
    let Err(CreateError::Refused(e)) = out else {
        panic!("{out:?}")
    };
    assert!(
        e.contains(&format!(
            "image {IMAGE} is for linux/amd64, not linux/arm64"
        )) && e.contains("berth image build --platform linux/arm64"),
        "{e}"
    );
    nothing_left(&r).await;

    // With the image's arm64 build: created from it, labelled, said.
    r.engine
        .add_image_for(&format!("{IMAGE}-arm64"), Arch::Arm64);
    let (out, notes) = run(&r, "arm", "linux/arm64").await;
    let Ok(CreateOutcome::Created(w)) = out else {
        panic!("{out:?}")
    };
    assert_eq!(w.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(w.labels[labels::PLATFORM], "linux/arm64");
    assert_eq!(w.image, format!("{IMAGE}-arm64"));
    assert!(notes.contains("emulated by qemu-aarch64"), "{notes}");
}

#[tokio::test(start_paused = true)]
async fn the_native_platform_is_labelled_normalised_and_reused_by_thread() {
    let r = rig((47230, 47231), Duration::ZERO);
    let (out, _) = run_in(&r, "native", "LINUX/x86_64", Some("t1")).await;
    let Ok(CreateOutcome::Created(w)) = out else {
        panic!("{out:?}")
    };
    assert_eq!(w.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(w.image, IMAGE);
    // The same platform in another spelling is the same: the thread's workspace.
    let (out, _) = run_in(&r, "other", "linux/amd64", Some("t1")).await;
    let Ok(CreateOutcome::Reused(again)) = out else {
        panic!("{out:?}")
    };
    assert_eq!(again.name, "native");
}

#[test]
fn bad_platforms_are_refused_by_the_spec() {
    let config = crate::config::Config::default();
    for bad in ["linux/sparc", "amd64", "windows/amd64"] {
        let spec = CreateSpec {
            name: "w".into(),
            platform: Some(bad.into()),
            ..Default::default()
        };
        let e = super::create::workspace_spec(&config, spec, [])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("--platform {bad:?}")), "{e}");
    }
}
