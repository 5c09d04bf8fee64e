//! What a newcomer expects of a CLI, and config files as fixtures (like bottom's
//! tests/valid_configs and tests/invalid_configs). No engine needed.
use std::path::Path;
use std::process::{Command, Output};

fn berth(args: &[&str], config: Option<&Path>) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env_remove("BERTH_CONFIG");
    if let Some(f) = config {
        c.arg("--config").arg(f);
    }
    c.output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn fixtures(dir: &str) -> Vec<std::path::PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut v: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(!v.is_empty());
    v
}

#[test]
fn valid_configs_load_and_show_round_trips() {
    for f in fixtures("valid_configs") {
        let o = berth(&["config", "show"], Some(&f));
        assert!(o.status.success(), "{}: {}", f.display(), err(&o));
        let shown = out(&o);
        for section in [
            "theme =",
            "[tui]",
            "[ssh]",
            "[resources]",
            "[labels]",
            "[keys.normal]",
            "[keys.shell]",
        ] {
            assert!(
                shown.contains(section),
                "{}: {section} missing:\n{shown}",
                f.display()
            );
        }
        // What `show` prints is itself a config that shows the same.
        let again = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(again.path(), &shown).unwrap();
        let o2 = berth(&["config", "show"], Some(again.path()));
        assert!(o2.status.success(), "{}", err(&o2));
        assert_eq!(out(&o2), shown, "{}", f.display());
        let j = berth(&["config", "show", "--json"], Some(&f));
        let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
        assert!(v["tui"]["log_lines"].is_number() && v["keys"]["normal"]["start"].is_array());
    }
    let everything = fixtures("valid_configs")
        .into_iter()
        .find(|f| f.ends_with("everything.toml"))
        .unwrap();
    let shown = out(&berth(&["config", "show"], Some(&everything)));
    for want in [
        "theme = \"light\"",
        "mouse = false",
        "log_lines = 500",
        "shell = \"zsh -l\"",
        "start = [\"S\"]",
        "cpus = 1.5",
        "max_concurrent = 6",
        "disk_alert = \"50g\"",
        "alert_threshold_pct = 90",
    ] {
        assert!(shown.contains(want), "{want} missing:\n{shown}");
    }
}

#[test]
fn invalid_configs_say_file_line_and_field() {
    for f in fixtures("invalid_configs") {
        let text = std::fs::read_to_string(&f).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", f.display()));
        let o = berth(&["config", "show"], Some(&f));
        assert_eq!(o.status.code(), Some(1), "{}", f.display());
        let e = err(&o);
        let (line, msg) = expect
            .split_once(": ")
            .unwrap_or((expect.trim_end_matches(':'), ""));
        let at = format!("{}: {line}", f.display());
        assert!(
            (e.contains(&format!("{at},")) || e.contains(&format!("{at}:"))) && e.contains(msg),
            "{}: wanted {expect:?} in:\n{e}",
            f.display()
        );
        assert_eq!(e.trim().lines().count(), 1, "one sentence: {e}");
        // The path is still there to find the file.
        let p = berth(&["config", "path"], Some(&f));
        assert!(p.status.success(), "{}", err(&p));
        assert_eq!(out(&p).trim(), f.display().to_string());
    }
}

#[test]
fn version_names_the_commit() {
    let o = berth(&["--version"], None);
    assert!(o.status.success());
    let v = out(&o);
    assert!(
        v.starts_with(&format!("berth {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| out(&o).trim().to_string());
    if let Some(head) = head {
        assert!(v.contains(&head), "{v} vs {head}");
    }
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let o = berth(&["completions", shell], None);
        assert!(o.status.success(), "{shell}: {}", err(&o));
        let s = out(&o);
        for c in ["create", "delete", "ssh-config", "hint", "completions"] {
            assert!(s.contains(c), "{shell}: {c} missing");
        }
    }
    // bash loads it and registers the completion.
    let script = out(&berth(&["completions", "bash"], None));
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("{script}\ncomplete -p berth"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("berth"), "{}", out(&o));
    let o = berth(&["completions", "tcsh"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_pages_from_the_clap_definitions() {
    let o = berth(&["man"], None);
    assert!(o.status.success(), "{}", err(&o));
    let page = out(&o);
    assert!(page.contains(".TH berth 1"), "{page}");
    assert!(page.contains("ssh\\-config") && page.contains("completions"));
    let o = berth(&["man", "exec"], None);
    assert!(out(&o).contains(".TH berth-exec 1"), "{}", out(&o));
    let o = berth(&["man", "nope"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no command \"nope\""), "{}", err(&o));
}
