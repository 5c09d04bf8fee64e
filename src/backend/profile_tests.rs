//! Profiles in a create over the in-memory engine: the image step builds a
//! profile's image once and reuses it, the profile step runs its setup, and
//! try-repo's pick (from a local repository, listed by the host's git) names the
//! container's profile label and image.
use super::create::{create, CreateOutcome, CreateRequest, CreateSpec};
use super::{Ctx, Progress};
use crate::config::{Config, Paths};
use crate::domain::labels;
use crate::domain::profiles::parse;
use crate::domain::workspace::HOST_KEY_PUB;
use crate::engine::memory::{ExecCall, ExecReply, MemoryEngine, Op};
use crate::store::Store;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

const HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm host";

fn rig(ports: (u16, u16), dir: &std::path::Path) -> (MemoryEngine, Ctx, Arc<Mutex<Vec<String>>>) {
    let engine = MemoryEngine::publishing();
    let execs = Arc::new(Mutex::new(Vec::new()));
    let seen = execs.clone();
    engine.set_exec_handler(move |c: &ExecCall| {
        let cmd = c.cmd.join(" ");
        seen.lock().unwrap().push(cmd.clone());
        if cmd == format!("cat {HOST_KEY_PUB}") {
            ExecReply {
                stdout: format!("{HOST_KEY}\n").into_bytes(),
                ..Default::default()
            }
        } else {
            ExecReply::default()
        }
    });
    let paths = Paths::under(dir);
    let mut config = Config {
        port_range: crate::domain::ports::PortRange::new(ports.0, ports.1).unwrap(),
        build_ca_bundle: None,
        ..Default::default()
    };
    config.provision.forward = crate::domain::create_options::Forward::NONE;
    config.profiles.insert(
        parse(
            "mine",
            "build = [\"true\"]\nsetup = [\"echo mine-setup\"]\n",
            "/u/mine.toml",
        )
        .unwrap(),
    );
    let store = Store::inline_for_tests(paths.store_file());
    let ctx = Ctx::with_store(Arc::new(engine.clone()), config, paths, store);
    (engine, ctx, execs)
}

async fn create_with(
    ctx: &Ctx,
    s: CreateSpec,
) -> (crate::domain::workspace::Workspace, Vec<Progress>) {
    let req = CreateRequest {
        name_generated: false,
        restore: None,
        spec: super::create::workspace_spec(&ctx.config, s, []).unwrap(),
        keys: vec![HOST_KEY.into()],
        identities: vec![],
    };
    let events = Mutex::new(Vec::new());
    let (_tx, rx) = watch::channel(false);
    let report = |p: Progress| events.lock().unwrap().push(p);
    match create(ctx, req, &report, rx).await {
        Ok(CreateOutcome::Created(w)) => (w, events.into_inner().unwrap()),
        Ok(other) => panic!("{other:?}"),
        Err(e) => panic!("{e}"),
    }
}

fn notes(events: &[Progress]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Progress::Note(n) => Some(n.clone()),
            Progress::Output { label, line } => Some(format!("{label}| {line}")),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_profile_image_is_built_once_then_reused_and_its_setup_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, ctx, execs) = rig((47310, 47312), dir.path());
    let spec = |n: &str| CreateSpec {
        name: n.into(),
        profile: Some("mine".into()),
        ..Default::default()
    };
    let (a, events) = create_with(&ctx, spec("a")).await;
    let said = notes(&events);
    assert!(said.contains("building berth/profile-mine:"), "{said}");
    assert!(
        said.contains("image| Successfully tagged berth/profile-mine:"),
        "{said}"
    );
    assert_eq!(a.labels[labels::PROFILE], "mine");
    assert!(execs
        .lock()
        .unwrap()
        .iter()
        .any(|c| c == "/bin/sh -lc echo mine-setup"));
    let (_, events) = create_with(&ctx, spec("b")).await;
    let said = notes(&events);
    assert!(
        said.contains("(built before)") && !said.contains("building"),
        "{said}"
    );
    assert_eq!(engine.calls(Op::BuildImage), 1);
    // The default profile runs the base image, builds nothing.
    let (c, _) = create_with(
        &ctx,
        CreateSpec {
            name: "c".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(c.labels[labels::PROFILE], "general");
    assert_eq!(engine.calls(Op::BuildImage), 1);
}

#[tokio::test]
async fn try_repo_names_the_picked_profile_on_the_container() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("go.mod"), "module x\n").unwrap();
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&[
        "-c",
        "user.email=t@t",
        "-c",
        "user.name=t",
        "commit",
        "-qm",
        "i",
    ]);
    let (_engine, ctx, _) = rig((47320, 47321), dir.path());
    let (w, events) = create_with(
        &ctx,
        CreateSpec {
            name: "t".into(),
            profile: Some("try-repo".into()),
            clone_url: Some(format!("file://{}", repo.display())),
            ..Default::default()
        },
    )
    .await;
    assert!(
        notes(&events).contains("picked profile go"),
        "{}",
        notes(&events)
    );
    assert_eq!(w.labels[labels::PROFILE], "go");
    assert!(w.image.starts_with("berth/profile-go:"), "{}", w.image);
}
