//! Agent sessions over the in-memory engine: a session's labels go on its
//! workspace only, and a removal that cannot bring the branch back deletes nothing.
use super::agent_remove::remove;
use super::agent_session::{self, BranchChoice, StartRequest};
use super::create_tests::rig;
use super::inventory;
use crate::domain::agents::{AgentSession, LABEL_AGENT};
use std::time::Duration;

/// The fake agent's entry, and a base image built from this berth's definition
/// (preflight refuses any other). Real time: preflight runs `df` on the host.
fn with_fake(r: &mut super::create_tests::Rig) {
    let labels = super::images::image_build(&Default::default(), "x", "y", None).labels;
    r.engine.add_image_labelled(&r.ctx.config.image, &labels);
    let ctx = &mut r.ctx;
    let c = crate::config::Config::parse(
        "[agents.fake]\nprofile = \"clean\"\ncommand = [\"fake-agent\"]\nprompt = [\"fake-agent\", \"-p\"]\nsecret_env = { FAKE_KEY = \"fake-key\" }\n",
        "test",
    )
    .unwrap();
    ctx.config.agents = c.agents;
}

fn request() -> StartRequest {
    StartRequest {
        agent: "fake".into(),
        repo: None,
        branch: BranchChoice::Next,
        no_push: false,
        net_profile: Some("open".into()),
        force: false,
        ephemeral: true,
    }
}

#[tokio::test]
async fn a_session_is_labelled_listed_and_removed() {
    let mut r = rig((4100, 4110), Duration::ZERO);
    with_fake(&mut r);
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let st = agent_session::start(&r.ctx, request(), &|_| {}, cancel)
        .await
        .unwrap();
    assert_eq!(st.session.name, "fake-session-1");
    assert_eq!(st.session.agent, "fake");
    // The key that is not set is named with the command that sets it.
    assert!(
        st.warnings[0].contains("berth secret set fake-key"),
        "{:?}",
        st.warnings
    );
    let ws = inventory::list(&r.ctx).await.unwrap();
    let w = ws.iter().find(|w| w.name == "fake-session-1").unwrap();
    assert_eq!(w.labels.get(LABEL_AGENT).map(String::as_str), Some("fake"));
    assert_eq!(w.profile.as_deref(), Some("agent-fake"));
    let listed = agent_session::sessions(&r.ctx).await.unwrap();
    assert_eq!(listed.len(), 1);
    // A second session without a repository takes the next name.
    let (_tx2, cancel2) = tokio::sync::watch::channel(false);
    let second = agent_session::start(&r.ctx, request(), &|_| {}, cancel2)
        .await
        .unwrap();
    assert_eq!(second.session.name, "fake-session-2");

    let removed = remove(&r.ctx, &st.session, true).await.unwrap();
    assert_eq!(removed.brought_back, None);
    let (s, _) = agent_session::find(&r.ctx, "fake-session-2").await.unwrap();
    assert_eq!(s, second.session);
    assert!(agent_session::find(&r.ctx, "fake-session-1").await.is_err());
}

#[tokio::test]
async fn a_removal_that_cannot_bring_back_keeps_the_workspace() {
    let mut r = rig((4111, 4120), Duration::ZERO);
    with_fake(&mut r);
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let st = agent_session::start(&r.ctx, request(), &|_| {}, cancel)
        .await
        .unwrap();
    let gone = AgentSession {
        repo: Some("/nonexistent/berth-test-repo".into()),
        branch: "fake/session-1".into(),
        ..st.session.clone()
    };
    let e = remove(&r.ctx, &gone, true).await.unwrap_err().to_string();
    assert!(e.contains("is kept") && e.contains("is gone"), "{e}");
    assert_eq!(agent_session::sessions(&r.ctx).await.unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_agents_are_named_with_the_ones_there_are() {
    let r = rig((4121, 4125), Duration::ZERO);
    let e = agent_session::agent(&r.ctx, "nope")
        .unwrap_err()
        .to_string();
    assert!(e.contains("claude, codex, copilot, gemini"), "{e}");
}

#[tokio::test]
async fn a_config_that_makes_vms_is_refused_for_agents_with_what_to_set() {
    let mut r = rig((4126, 4130), Duration::ZERO);
    with_fake(&mut r);
    r.ctx.config.provider = crate::domain::vm::Provider::Vm;
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let Err(e) = agent_session::start(&r.ctx, request(), &|_| {}, cancel).await else {
        panic!("an agent session started with provider = vm");
    };
    let e = e.to_string();
    assert!(e.contains("containers only"), "{e}");
    assert!(e.contains("provider = \"container\""), "{e}");
    use crate::engine::Engine;
    assert!(r.engine.list_workspaces().await.unwrap().is_empty());
}
