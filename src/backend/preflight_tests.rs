//! Preflight over the in-memory engine: every check named, the image integrity
//! verdicts, an engine that is down.
use super::images::{definition_hash, image_build};
use super::preflight::{run, PreflightRequest};
use super::test_support::ctx_with;
use crate::domain::labels;
use crate::engine::memory::MemoryEngine;
use std::collections::BTreeMap;
use std::sync::Arc;

fn base_labels(def: &str) -> BTreeMap<String, String> {
    let mut l = image_build(&Default::default(), "x", "y", None).labels;
    l.insert(labels::DEFINITION.into(), def.into());
    l
}

fn names(p: &crate::domain::preflight::Preflight) -> Vec<&str> {
    p.checks.iter().map(|c| c.name.as_str()).collect()
}

fn check<'a>(
    p: &'a crate::domain::preflight::Preflight,
    name: &str,
) -> &'a crate::domain::preflight::Check {
    p.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} in {p:?}"))
}

#[tokio::test]
async fn a_current_image_passes_and_every_check_is_named() {
    let engine = Arc::new(MemoryEngine::new());
    let (ctx, _dir) = ctx_with(engine.clone());
    engine.add_image_labelled(&ctx.config.image, &base_labels(&definition_hash()));
    let p = run(&ctx, &PreflightRequest::default()).await;
    assert_eq!(
        names(&p),
        [
            "runtime_installed",
            "daemon_running",
            "user_permissions",
            "disk_space",
            "image_integrity"
        ]
    );
    for n in ["daemon_running", "user_permissions", "image_integrity"] {
        assert!(check(&p, n).passed, "{:?}", check(&p, n));
    }
    assert_eq!(p.runtime, "docker");
}

#[tokio::test]
async fn an_image_from_another_definition_or_none_is_refused_with_the_fix() {
    let engine = Arc::new(MemoryEngine::new());
    let (ctx, _dir) = ctx_with(engine.clone());
    let image = ctx.config.image.clone();
    engine.add_image_labelled(&image, &base_labels("0000000000000000"));
    let p = run(&ctx, &PreflightRequest::default()).await;
    let c = check(&p, "image_integrity");
    assert!(!p.ready && !c.passed);
    assert!(c.detail.contains("0000000000000000"), "{c:?}");
    assert!(c.guidance.as_deref().unwrap().contains("berth image build"));
    engine.add_image_labelled(&image, &BTreeMap::new());
    let p = run(&ctx, &PreflightRequest::default()).await;
    assert!(check(&p, "image_integrity")
        .detail
        .contains("no dev.berth.definition label"));
    // Absent: berth does not build the base on its own.
    let p = run(
        &ctx,
        &PreflightRequest {
            image: Some("nothing/here:1".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(!check(&p, "image_integrity").passed);
}

#[tokio::test]
async fn a_profile_image_is_built_on_first_use_refused_when_altered_and_rebuilt() {
    let engine = Arc::new(MemoryEngine::new());
    let (ctx, _dir) = ctx_with(engine.clone());
    let base = ctx.config.image.clone();
    engine.add_image_labelled(&base, &base_labels(&definition_hash()));
    let req = PreflightRequest {
        profile: Some("python".into()),
        ..Default::default()
    };
    let c = check(&run(&ctx, &req).await, "image_integrity").clone();
    assert!(c.passed && c.detail.contains("first use"), "{c:?}");
    let profile = ctx.config.profiles.get("python").unwrap().clone();
    let (tag, ..) = super::provision::profile::wanted_image(&ctx, &profile, &base)
        .await
        .unwrap()
        .unwrap();
    // A tag moved to an image of another definition.
    engine.add_image_labelled(&tag, &base_labels("0000000000000000"));
    let c = check(&run(&ctx, &req).await, "image_integrity").clone();
    assert!(!c.passed, "{c:?}");
    assert!(c
        .guidance
        .unwrap()
        .contains("berth image build --profile python"));
    // The fix: the profile's image is rebuilt rather than reused.
    let quiet = |_: super::Progress| {};
    let got = super::provision::profile::image(&ctx, &profile, &base, None, &quiet)
        .await
        .unwrap();
    assert_eq!(got, tag);
    let c = check(&run(&ctx, &req).await, "image_integrity").clone();
    assert!(c.passed, "{c:?}");
    let built = engine.image_labels(&tag).unwrap();
    assert_eq!(
        built[labels::BASE_IMAGE],
        base,
        "the memory engine's id is the tag"
    );
    // Unknown profile: the sentence names the profiles.
    let c = check(
        &run(
            &ctx,
            &PreflightRequest {
                profile: Some("nope".into()),
                ..Default::default()
            },
        )
        .await,
        "image_integrity",
    )
    .clone();
    assert!(!c.passed && c.detail.contains("no profile"), "{c:?}");
}

#[tokio::test]
async fn an_engine_that_is_down_fails_daemon_running_with_guidance() {
    let engine = Arc::new(MemoryEngine::new());
    let (ctx, _dir) = ctx_with(engine.clone());
    engine.go_down("stopped for the test");
    let p = run(&ctx, &PreflightRequest::default()).await;
    assert!(!p.ready);
    assert_eq!(p.runtime, "unknown");
    let c = check(&p, "daemon_running");
    assert!(
        !c.passed
            && c.guidance
                .as_deref()
                .unwrap()
                .contains("systemctl start docker")
    );
    assert!(!check(&p, "image_integrity").passed);
}

#[tokio::test]
async fn a_repo_is_checked_when_given() {
    let engine = Arc::new(MemoryEngine::new());
    let (ctx, dir) = ctx_with(engine.clone());
    let p = run(
        &ctx,
        &PreflightRequest {
            repo: Some(dir.path().join("missing")),
            ..Default::default()
        },
    )
    .await;
    let c = check(&p, "repo_state");
    assert!(
        !c.passed && c.detail.contains("not a git work tree"),
        "{c:?}"
    );
}
