use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A stand-in for an ssh-agent: echoes what it reads, prefixed with its tag.
fn fake_agent(path: &Path, tag: &'static str) -> JoinHandle<()> {
    let l = UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                while let Ok(n) = c.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let mut out = tag.as_bytes().to_vec();
                    out.extend_from_slice(&buf[..n]);
                    if c.write_all(&out).await.is_err() {
                        break;
                    }
                }
            });
        }
    })
}

async fn ask(socket: &Path, what: &str) -> String {
    let mut c = UnixStream::connect(socket).await.unwrap();
    c.write_all(what.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64];
    let n = c.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn answers(p: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(p).is_ok()
}

struct Dirs {
    _tmp: tempfile::TempDir,
    agent: PathBuf,
    relay_dir: PathBuf,
    socket: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let relay_dir = tmp.path().join("ws");
    std::fs::create_dir(&relay_dir).unwrap();
    Dirs {
        agent: tmp.path().join("agent.sock"),
        socket: relay_dir.join("agent.sock"),
        relay_dir,
        _tmp: tmp,
    }
}

#[tokio::test]
async fn forwards_each_connection_and_removes_its_socket_when_stopped() {
    let d = dirs();
    let _agent = fake_agent(&d.agent, "agent:");
    let relay = Relay::start(d.socket.clone(), d.agent.clone()).await;
    until("the relay's socket", || answers(&d.socket)).await;
    assert_eq!(ask(&d.socket, "one").await, "agent:one");
    assert_eq!(ask(&d.socket, "two").await, "agent:two");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&d.socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o666, "uid 1000 inside must reach it");
    relay.shutdown().await;
    assert!(!d.socket.exists(), "socket left behind");
}

#[tokio::test]
async fn dropping_it_ends_the_task_and_removes_the_socket() {
    let d = dirs();
    let _agent = fake_agent(&d.agent, "a:");
    let relay = Relay::start(d.socket.clone(), d.agent.clone()).await;
    until("the relay's socket", || answers(&d.socket)).await;
    drop(relay);
    until("the socket to go", || !d.socket.exists()).await;
}

#[tokio::test]
async fn a_stale_socket_is_replaced() {
    let d = dirs();
    let _agent = fake_agent(&d.agent, "a:");
    drop(std::os::unix::net::UnixListener::bind(&d.socket).unwrap());
    assert!(d.socket.exists() && !answers(&d.socket));
    let relay = Relay::start(d.socket.clone(), d.agent.clone()).await;
    until("the relay's socket", || answers(&d.socket)).await;
    assert_eq!(ask(&d.socket, "x").await, "a:x");
    relay.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_second_relay_waits_and_takes_over_when_the_first_goes() {
    let d = dirs();
    let _one = fake_agent(&d.agent, "first:");
    let other_agent = d.relay_dir.parent().unwrap().join("other.sock");
    let _two = fake_agent(&other_agent, "second:");
    let first = Relay::start(d.socket.clone(), d.agent.clone()).await;
    until("the first relay", || answers(&d.socket)).await;
    let second = Relay::start(d.socket.clone(), other_agent).await;
    tokio::time::sleep(PROBE * 3).await;
    assert_eq!(ask(&d.socket, "x").await, "first:x", "the first keeps it");
    first.shutdown().await;
    until("the second to take over", || answers(&d.socket)).await;
    assert_eq!(ask(&d.socket, "y").await, "second:y");
    assert!(second.is_running());
    second.shutdown().await;
    assert!(!d.socket.exists());
}

#[tokio::test(start_paused = true)]
async fn it_ends_by_itself_when_the_workspace_directory_goes() {
    let d = dirs();
    let _agent = fake_agent(&d.agent, "a:");
    let relay = Relay::start(d.socket.clone(), d.agent.clone()).await;
    until("the relay's socket", || answers(&d.socket)).await;
    std::fs::remove_dir_all(&d.relay_dir).unwrap();
    until("the relay to end", || !relay.is_running()).await;
    assert!(!d.relay_dir.exists());
}

#[tokio::test]
async fn a_long_path_is_bound_through_proc() {
    let d = dirs();
    let _agent = fake_agent(&d.agent, "a:");
    let mut deep = d.relay_dir.clone();
    while deep.as_os_str().len() < 130 {
        deep.push("deeper-directory");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let socket = deep.join("agent.sock");
    let relay = Relay::start(socket.clone(), d.agent.clone()).await;
    until("the relay's socket", || socket.exists()).await;
    relay.shutdown().await;
    assert!(!socket.exists());
}
