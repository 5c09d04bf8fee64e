//! `--forward-ssh` through create, exec's relay, rollback and delete over the
//! in-memory engine: no relay task or socket outlives what it served.
use super::*;
use crate::backend::create::{create, CreateOutcome, CreateRequest, CreateSpec};
use crate::backend::{lifecycle, Progress};
use crate::config::Config;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::HOST_KEY_PUB;
use crate::engine::memory::{ExecCall, ExecReply, MemoryEngine};
use crate::store::Store;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

const HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm host";

/// An "agent" that answers every read with "agent:" and what it read.
fn fake_agent(path: &Path) {
    let l = UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            let mut buf = [0u8; 64];
            if let Ok(n) = c.read(&mut buf).await {
                let mut out = b"agent:".to_vec();
                out.extend_from_slice(&buf[..n]);
                let _ = c.write_all(&out).await;
            }
        }
    });
}

struct Rig {
    engine: MemoryEngine,
    ctx: Ctx,
    /// Whether the relay's socket existed when the post-start script ran.
    served_during_create: Arc<AtomicBool>,
    dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let engine = MemoryEngine::publishing();
    let served = Arc::new(AtomicBool::new(false));
    let (flag, socket_dir) = (served.clone(), paths.state_dir.join("agent"));
    engine.set_exec_handler(move |c: &ExecCall| {
        let cmd = c.cmd.join(" ");
        if cmd == format!("cat {HOST_KEY_PUB}") {
            ExecReply {
                stdout: format!("{HOST_KEY}\n").into_bytes(),
                ..Default::default()
            }
        } else if cmd.starts_with("/bin/sh -lc") {
            let name = c.container.trim_start_matches("workspace-");
            let sock = socket_dir.join(name).join(sf::SOCKET_NAME);
            if std::os::unix::net::UnixStream::connect(&sock).is_ok() {
                flag.store(true, Ordering::SeqCst);
            }
            ExecReply {
                exit_code: if cmd.ends_with("false") { 1 } else { 0 },
                ..Default::default()
            }
        } else {
            ExecReply::default()
        }
    });
    let mut config = Config {
        port_range: crate::domain::ports::PortRange::new(47110, 47119).unwrap(),
        ..Default::default()
    };
    config.provision.forward = Forward::NONE;
    let store = Store::inline_for_tests(paths.store_file());
    let ctx = Ctx::with_store(Arc::new(engine.clone()), config, paths, store);
    Rig {
        engine,
        ctx,
        served_during_create: served,
        dir,
    }
}

async fn create_with_ssh(
    ctx: &Ctx,
    name: &str,
    post_start: &str,
) -> (Result<CreateOutcome, String>, Vec<String>) {
    let spec = CreateSpec {
        name: name.into(),
        post_start: Some(post_start.into()),
        ..Default::default()
    };
    let mut spec = crate::backend::create::workspace_spec(&ctx.config, spec, []).unwrap();
    spec.options.forward.ssh = true;
    let req = CreateRequest {
        name_generated: false,
        restore: None,
        spec,
        keys: vec![HOST_KEY.into()],
        identities: vec![],
    };
    let notes = Mutex::new(Vec::new());
    let report = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.lock().unwrap().push(n);
        }
    };
    let (_tx, rx) = watch::channel(false);
    let r = create(ctx, req, &report, rx)
        .await
        .map_err(|e| e.to_string());
    (r, notes.into_inner().unwrap())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

async fn answers(p: &Path) -> bool {
    UnixStream::connect(p).await.is_ok()
}

// One test: SSH_AUTH_SOCK is process-wide, and only this test changes it.
#[tokio::test(start_paused = true)]
async fn forwarding_leaves_no_relay_or_socket_behind() {
    let r = rig();
    let agent = r.dir.path().join("host-agent.sock");
    fake_agent(&agent);
    std::env::set_var("SSH_AUTH_SOCK", &agent);

    // With an agent: the directory is bound, the create's steps are served, and
    // the relay and its socket are gone when the create returns.
    let (out, notes) = create_with_ssh(&r.ctx, "fwd", "true").await;
    let Ok(CreateOutcome::Created(w)) = out else {
        panic!("{out:?}")
    };
    assert!(r.served_during_create.load(Ordering::SeqCst));
    assert!(notes.iter().any(|n| n.starts_with("ssh-agent: forwarded")));
    let dir = host_dir(&r.ctx.paths, "fwd");
    assert_eq!(
        r.engine.binds("workspace-fwd"),
        vec![Bind {
            host: dir.clone(),
            path: sf::AGENT_DIR.into(),
            read_only: true
        }]
    );
    assert_eq!(w.labels.get(sf::LABEL).map(String::as_str), Some("agent"));
    assert_eq!(mode(&dir), 0o711);
    assert_eq!(mode(dir.parent().unwrap()), 0o700);
    let socket = host_socket(&r.ctx.paths, "fwd");
    assert!(!socket.exists(), "the create's relay left its socket");
    assert!(ssh_forwards_agent(&w));

    // berth exec's relay: serves while held, removes its socket when stopped.
    let relay = relay_for(&r.ctx.paths, &w).await.expect("a relay");
    let mut c = UnixStream::connect(&socket).await.unwrap();
    c.write_all(b"hi").await.unwrap();
    let mut buf = [0u8; 16];
    let n = c.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"agent:hi");
    relay.shutdown().await;
    assert!(!socket.exists());

    // Deleting the workspace ends a relay still serving it and removes the directory.
    let relay = relay_for(&r.ctx.paths, &w).await.expect("a relay");
    assert!(answers(&socket).await);
    lifecycle::delete(&r.ctx, &WorkspaceName::parse("fwd").unwrap(), false)
        .await
        .unwrap();
    assert!(!dir.exists());
    for _ in 0..100 {
        if !relay.is_running() {
            break;
        }
        tokio::time::sleep(super::super::agent_relay::PROBE / 4).await;
    }
    assert!(!relay.is_running(), "the relay outlived its workspace");

    // A create that fails after the relay started: rolled back with its directory.
    let (out, _) = create_with_ssh(&r.ctx, "broken", "false").await;
    assert!(out.is_err());
    assert!(!host_dir(&r.ctx.paths, "broken").exists());
    assert!(r.engine.containers().is_empty());

    // No agent: the host's ~/.ssh is bound read-only, with a warning.
    std::env::remove_var("SSH_AUTH_SOCK");
    std::fs::create_dir_all(r.ctx.paths.home.join(".ssh")).unwrap();
    let (out, notes) = create_with_ssh(&r.ctx, "keys", "true").await;
    let Ok(CreateOutcome::Created(w)) = out else {
        panic!("{out:?}")
    };
    assert!(notes.iter().any(|n| n.contains("PRIVATE KEYS ARE VISIBLE")));
    assert_eq!(
        r.engine.binds("workspace-keys"),
        vec![Bind {
            host: r.ctx.paths.home.join(".ssh"),
            path: sf::HOST_SSH_DIR.into(),
            read_only: true
        }]
    );
    assert_eq!(
        w.labels.get(sf::LABEL).map(String::as_str),
        Some("host-ssh")
    );
    assert!(!host_dir(&r.ctx.paths, "keys").exists());
    assert!(relay_for(&r.ctx.paths, &w).await.is_none());

    // Neither: nothing bound, and it says so.
    std::fs::remove_dir(r.ctx.paths.home.join(".ssh")).unwrap();
    let (out, notes) = create_with_ssh(&r.ctx, "bare", "true").await;
    assert!(out.is_ok(), "{out:?}");
    assert!(notes.iter().any(|n| n.contains("nothing forwarded")));
    assert!(r.engine.binds("workspace-bare").is_empty());
}
