//! Remote engines from one berth, against real engines: an extra dockerd reached
//! over ssh:// (a local sshd on loopback runs its `docker system dial-stdio`), an
//! extra dockerd over TCP with TLS (certificates made by the test), an unknown
//! ssh host key refused, and a Docker context read. Ports 4000-4039 only:
//! sshd 4000, TLS 4001, workspaces 4010-4039.
mod common;

use common::dockerd::ExtraDockerd;
use common::sshd_host::SshdHost;
use common::{stderr, stdout, Sandbox};
use std::process::Output;

const SSHD_PORT: u16 = 4000;
const TLS_PORT: u16 = 4001;
const RANGE: (u16, u16) = (4010, 4039);

/// berth in the sandbox with the test's ssh wrapper first on PATH and no DOCKER_HOST.
fn berth(sb: &Sandbox, path: &str, args: &[&str]) -> Output {
    let mut c = sb.cmd(args);
    c.env("PATH", path).env_remove("DOCKER_HOST");
    c.output().expect("run berth")
}

fn ok(sb: &Sandbox, path: &str, args: &[&str]) -> String {
    let o = berth(sb, path, args);
    assert!(
        o.status.success(),
        "berth {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// The names listed on engine `engine` (a merged list shows every engine's).
fn names_on(json: &str, engine: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("list --json");
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|w| w.get("engine").and_then(|e| e.as_str()) == Some(engine))
        .filter_map(|w| w.get("name").and_then(|n| n.as_str()).map(String::from))
        .collect()
}

/// The engine `berth engines --json` marks as the default.
fn default_engine(sb: &Sandbox, path: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&ok(sb, path, &["engines", "--json"])).expect("engines --json");
    v.as_array()
        .and_then(|a| a.iter().find(|e| e["default"] == true))
        .and_then(|e| e["name"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn names(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("list --json");
    let arr = v
        .as_array()
        .cloned()
        .or_else(|| v.get("workspaces").and_then(|w| w.as_array()).cloned())
        .unwrap_or_default();
    arr.iter()
        .filter_map(|w| w.get("name").and_then(|n| n.as_str()).map(String::from))
        .collect()
}

/// create, list, exec, ssh and delete of one workspace on engine `engine`.
/// `sshd`: the engine host of an ssh engine, whose sessions must all end once
/// `berth ssh` (which replaces itself with ssh) is done.
fn round_trip(
    sb: &Sandbox,
    path: &str,
    engine: &str,
    extra: &ExtraDockerd,
    name: &str,
    sshd: Option<&SshdHost>,
) {
    let key = format!("{}.pub", sb.key().display());
    ok(
        sb,
        path,
        &[
            "--engine",
            engine,
            "create",
            name,
            "--ssh-key",
            &key,
            "--json",
        ],
    );
    let container = format!("workspace-{name}");
    assert!(
        extra
            .docker(&["container", "inspect", &container])
            .status
            .success(),
        "{name} is not on engine {engine}"
    );
    assert!(
        !sb.container_exists(name),
        "{name} landed on the default engine"
    );
    let listed = ok(sb, path, &["--engine", engine, "list", "--json"]);
    assert!(names(&listed).contains(&name.to_string()), "{listed}");
    let out = ok(
        sb,
        path,
        &["--engine", engine, "exec", name, "--", "echo", "exec-ok"],
    );
    assert!(out.contains("exec-ok"), "{out}");
    let out = ok(
        sb,
        path,
        &["--engine", engine, "ssh", name, "--", "echo", "ssh-ok"],
    );
    assert!(out.contains("ssh-ok"), "{out}");
    if let Some(h) = sshd {
        assert!(
            h.sessions_end(),
            "berth ssh left a session on the engine host (its ssh master?): {:?}",
            h.descendants()
        );
    }
    // The host key is pinned under the engine's own alias.
    let pinned = sb
        .state_dir()
        .join("known_hosts.d")
        .join(format!("berth-{name}.{engine}"));
    let pinned_dir = sb.state_dir();
    assert!(
        walk_has(&pinned_dir, &format!("berth-{name}.{engine}")),
        "no pinned key {} under {}",
        pinned.display(),
        pinned_dir.display()
    );
    ok(sb, path, &["--engine", engine, "delete", name, "--yes"]);
    assert!(
        !extra
            .docker(&["container", "inspect", &container])
            .status
            .success(),
        "{name} is still on {engine}"
    );
}

fn walk_has(dir: &std::path::Path, file: &str) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let p = e.path();
        p.file_name().is_some_and(|n| n == file) || (p.is_dir() && walk_has(&p, file))
    })
}

#[test]
fn ssh_and_tls_engines_from_one_berth_with_strict_host_keys_and_contexts() {
    let Some(sb) = Sandbox::new("remote", RANGE) else {
        return;
    };
    let Some(over_ssh) = ExtraDockerd::start("rssh", 231, None) else {
        return;
    };
    let Some(over_tls) = ExtraDockerd::start("rtls", 232, Some(TLS_PORT)) else {
        return;
    };
    for e in [&over_ssh, &over_tls] {
        e.load_images(&["berth/workspace:latest"]);
    }
    let pubkey = sb.home().join(".ssh/id_ed25519.pub");
    let sshd = SshdHost::start(SSHD_PORT, &pubkey, &over_ssh.host());
    let path = sshd.client_env(&sb.home(), "sshbox");
    sb.write_config(&format!(
        "[engines.box]\nhost = \"ssh://sshbox\"\n\n[engines.stranger]\nhost = \"ssh://stranger\"\n\n{}",
        over_tls.config("tls")
    ));

    // An unknown host key: refused with how to trust it, nothing made.
    let lost = sb.name("lost");
    let key = format!("{}.pub", sb.key().display());
    let o = berth(
        &sb,
        &path,
        &["--engine", "stranger", "create", &lost, "--ssh-key", &key],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("never accepts an unknown key"), "{err}");
    assert!(err.contains("ssh-keyscan"), "{err}");
    assert!(!err.contains("systemctl start docker"), "{err}");
    let empty = sb.home().join(".ssh/known_hosts_empty");
    assert!(
        std::fs::read(&empty).map(|b| b.is_empty()).unwrap_or(true),
        "a host key was accepted"
    );
    let all = stdout(&over_ssh.docker(&["ps", "-aq"]));
    assert!(all.trim().is_empty(), "something was created: {all}");

    round_trip(
        &sb,
        &path,
        "box",
        &over_ssh,
        &sb.name("viassh"),
        Some(&sshd),
    );
    // The workspace's port is published on this machine's loopback too (the
    // extra dockerd is local): only ssh's own arguments show it jumped.
    let calls = SshdHost::calls(&sb.home());
    assert!(
        calls.contains("-W 127.0.0.1:") && calls.contains("-- sshbox"),
        "berth ssh did not jump through the engine host:\n{calls}"
    );
    round_trip(&sb, &path, "tls", &over_tls, &sb.name("viatls"), None);
    let calls = SshdHost::calls(&sb.home());
    assert!(
        calls.contains("--engine tls ssh-proxy"),
        "berth ssh did not go through the tls engine:\n{calls}"
    );

    // A Docker context in the sandbox's ~/.docker: usable by name, and chosen as
    // the current context when nothing else says.
    let kept = sb.name("ctx");
    ok(
        &sb,
        &path,
        &[
            "--engine",
            "box",
            "create",
            &kept,
            "--ssh-key",
            &key,
            "--json",
        ],
    );
    let meta = sb.home().join(".docker/contexts/meta/0a1b2c");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(
            r#"{{"Name":"Side-Box","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{}","SkipTLSVerify":false}}}}}}"#,
            over_ssh.host()
        ),
    )
    .unwrap();
    let listed = ok(&sb, &path, &["--engine", "side-box", "list", "--json"]);
    assert!(names(&listed).contains(&kept), "{listed}");
    let default_list = ok(&sb, &path, &["list", "--json"]);
    assert!(
        !names_on(&default_list, "default").contains(&kept),
        "{default_list}"
    );
    assert_eq!(default_engine(&sb, &path), "default");
    std::fs::write(
        sb.home().join(".docker/config.json"),
        r#"{"currentContext":"Side-Box"}"#,
    )
    .unwrap();
    assert_eq!(
        default_engine(&sb, &path),
        "side-box",
        "the current context is the engine commands use"
    );
    let current = ok(&sb, &path, &["list", "--json"]);
    assert!(names_on(&current, "side-box").contains(&kept), "{current}");
    ok(&sb, &path, &["--engine", "box", "delete", &kept, "--yes"]);
    drop(sshd);
    // The engines stop leaving nothing on the host (no bridge of their networks).
    assert_eq!(over_ssh.shut_down(), Vec::<String>::new());
    assert_eq!(over_tls.shut_down(), Vec::<String>::new());
}
