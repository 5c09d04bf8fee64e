//! `berth preflight` and an agent's workspace set-up against the real engine:
//! every check named on a healthy engine; a dirty repository refused unless
//! --force; an image built from another definition (or none) refused with the fix
//! and a current one passing; an engine that cannot be reached failing
//! daemon_running with exit 1; an agent's MCP server configured in its format
//! with its secret only in the secret file, read by the wrapper at launch.
mod common;
use common::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn json_of(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

fn check<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {v:#}"))
}

/// Sets the sandbox's `image` (a top-level key: before the config's tables).
fn use_image(sb: &Sandbox, image: &str) {
    sb.write_config("");
    let text = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(sb.config_file(), format!("image = \"{image}\"\n{text}")).unwrap();
}

/// Builds `tag` from debian:bookworm-slim with `labels` (and the sandbox's
/// test labels, so its cleanup removes it).
fn build_tiny(sb: &Sandbox, tag: &str, labels: &[(&str, &str)]) {
    let mut c = Command::new("docker");
    c.args(["build", "-q", "-t", tag])
        .args(["--label", &format!("berth.test-case={}", sb.case)])
        .args(["--label", "berth.test-image=1"]);
    for (k, v) in labels {
        c.args(["--label", &format!("{k}={v}")]);
    }
    let mut child = c
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM debian:bookworm-slim\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "docker build: {}", stderr(&o));
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

#[test]
fn preflight_is_ready_on_a_healthy_engine_with_every_check_named() {
    let Some(sb) = Sandbox::new("pf-ready", (3885, 3889)) else {
        return;
    };
    let v = sb.json(&["preflight", "--json"]);
    assert_eq!(v["ready"], true, "{v:#}");
    assert_eq!(v["runtime"], "docker");
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "runtime_installed",
            "daemon_running",
            "user_permissions",
            "disk_space",
            "image_integrity"
        ]
    );
    assert!(check(&v, "disk_space")["detail"]
        .as_str()
        .unwrap()
        .contains("GiB free on"));
    let human = sb.ok(&["preflight"]);
    assert!(human.contains("[ok  ] image_integrity"), "{human}");
    // doctor has the integrity check too.
    let d = sb.json(&["doctor", "--json"]);
    let line = d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "image integrity")
        .unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(line["status"], "ok", "{line}");
}

#[test]
fn a_dirty_repo_is_refused_and_force_allows_it() {
    let Some(sb) = Sandbox::new("pf-repo", (3880, 3884)) else {
        return;
    };
    let repo = sb.dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let r = repo.to_str().unwrap();
    // Not a repository yet.
    let o = sb.berth(&["preflight", "--repo", r, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let c = check(&json_of(&o), "repo_state").clone();
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("not a git work tree"),
        "{c}"
    );
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.email", "t@example.com"]);
    git(&repo, &["config", "user.name", "t"]);
    std::fs::write(repo.join("a.txt"), "a\n").unwrap();
    git(&repo, &["add", "a.txt"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    let v = sb.json(&["preflight", "--repo", r, "--json"]);
    assert_eq!(v["ready"], true, "{v:#}");
    assert!(check(&v, "repo_state")["detail"]
        .as_str()
        .unwrap()
        .contains("clean"));
    // An untracked file and an unstaged change: refused, named, with the fix.
    std::fs::write(repo.join("new.txt"), "n\n").unwrap();
    std::fs::write(repo.join("a.txt"), "changed\n").unwrap();
    let o = sb.berth(&["preflight", "--repo", r, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let v = json_of(&o);
    assert_eq!(v["ready"], false);
    let c = check(&v, "repo_state");
    assert_eq!(c["passed"], false);
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail.contains("a.txt") && detail.contains("new.txt"),
        "{detail}"
    );
    let g = c["guidance"].as_str().unwrap();
    assert!(g.contains("--force") && g.contains("stash"), "{g}");
    let human = sb.berth(&["preflight", "--repo", r]);
    assert_eq!(human.status.code(), Some(1));
    assert!(
        stdout(&human).contains("[FAIL] repo_state"),
        "{}",
        stdout(&human)
    );
    // --force allows it.
    let v = sb.json(&["preflight", "--repo", r, "--force", "--json"]);
    assert_eq!(v["ready"], true, "{v:#}");
    // An ignored file is no change.
    std::fs::write(repo.join(".gitignore"), "junk\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "two"]);
    std::fs::write(repo.join("junk"), "j\n").unwrap();
    let v = sb.json(&["preflight", "--repo", r, "--json"]);
    assert_eq!(v["ready"], true, "{v:#}");
}

#[test]
fn the_integrity_check_refuses_an_image_from_another_definition() {
    let Some(sb) = Sandbox::new("pf-image", (3875, 3879)) else {
        return;
    };
    let other = format!("berth-test/pf-other:{}", sb.case.to_lowercase());
    let bare = format!("berth-test/pf-bare:{}", sb.case.to_lowercase());
    build_tiny(
        &sb,
        &other,
        &[
            ("dev.berth.role", "image"),
            ("dev.berth.version", env!("CARGO_PKG_VERSION")),
            ("dev.berth.definition", "0123456789abcdef"),
        ],
    );
    build_tiny(&sb, &bare, &[]);
    for (image, says) in [
        (&other, "0123456789abcdef"),
        (&bare, "no dev.berth.definition label"),
    ] {
        use_image(&sb, image);
        let o = sb.berth(&["preflight", "--json"]);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        let v = json_of(&o);
        let c = check(&v, "image_integrity");
        assert_eq!(c["passed"], false, "{c}");
        assert!(c["detail"].as_str().unwrap().contains(says), "{c}");
        assert!(c["guidance"]
            .as_str()
            .unwrap()
            .contains("berth image build"));
    }
    // The current image passes.
    use_image(&sb, "berth/workspace:latest");
    assert_eq!(sb.json(&["preflight", "--json"])["ready"], true);

    // A profile's image: a tag moved to another image is refused, rebuilt by the
    // fix, then passes.
    let profile = format!(
        "pf{}",
        sb.case
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let profile: String = profile.chars().take(30).collect();
    let dir = sb.config_dir().join("profiles");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{profile}.toml")),
        "description = \"preflight test\"\n[env]\nPF_TEST = \"1\"\n",
    )
    .unwrap();
    let rows = sb.json(&["profiles", "--json"]);
    let tag = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == profile.as_str())
        .and_then(|r| r["image"].as_str())
        .unwrap_or_else(|| panic!("{rows:#}"))
        .to_string();
    struct Untag(String);
    impl Drop for Untag {
        fn drop(&mut self) {
            docker(&["rmi", "-f", &self.0]);
        }
    }
    let _untag = Untag(tag.clone());
    let v = sb.json(&["preflight", "--profile", &profile, "--json"]);
    let c = check(&v, "image_integrity");
    assert!(c["detail"].as_str().unwrap().contains("first use"), "{c}");
    assert!(docker(&["tag", &other, &tag]).status.success());
    let o = sb.berth(&["preflight", "--profile", &profile, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json_of(&o);
    let c = check(&v, "image_integrity");
    assert_eq!(c["passed"], false, "{c}");
    let fix = format!("berth image build --profile {profile}");
    assert!(c["guidance"].as_str().unwrap().contains(&fix), "{c}");
    sb.ok(&["image", "build", "--profile", &profile]);
    let v = sb.json(&["preflight", "--profile", &profile, "--json"]);
    assert_eq!(v["ready"], true, "{v:#}");
}

#[test]
fn an_unreachable_engine_fails_daemon_running_with_guidance() {
    let Some(sb) = Sandbox::new("pf-noengine", (3875, 3879)) else {
        return;
    };
    let o = sb
        .cmd(&["preflight", "--json"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = json_of(&o);
    assert_eq!(v["ready"], false);
    assert_eq!(v["runtime"], "unknown");
    let c = check(&v, "daemon_running");
    assert_eq!(c["passed"], false);
    assert!(c["guidance"].as_str().unwrap().contains("start"), "{c}");
    for n in [
        "runtime_installed",
        "user_permissions",
        "disk_space",
        "image_integrity",
    ] {
        check(&v, n);
    }
    let human = sb
        .cmd(&["preflight"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(1));
    assert!(stdout(&human).contains("[FAIL] daemon_running"));
}
