//! `berth cp` against the real engine: a tree round trip (checksums, modes, mtimes,
//! a symlink, ownership, the home directory untouched), stdin/stdout tars, a 200 MB
//! file streamed in both directions without the process growing with it, and the
//! failure paths (nothing left behind; a stopped workspace still works).
mod common;
use common::*;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

/// Ports for this file's workspaces.
const PORTS: (u16, u16) = (3040, 3049);

fn sh(sb: &Sandbox, name: &str, script: &str) -> String {
    sb.ok(&["exec", name, "--", "sh", "-c", script])
}

/// A host tree: files of several modes, an old mtime, a nested and an empty
/// directory, a relative symlink.
fn tree(root: &Path) {
    fs::create_dir_all(root.join("sub/deep")).unwrap();
    fs::create_dir_all(root.join("empty")).unwrap();
    fs::write(root.join("a.txt"), b"alpha\n").unwrap();
    fs::write(root.join("sub/run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(root.join("sub/deep/data.bin"), big).unwrap();
    for (p, m) in [
        ("a.txt", 0o640),
        ("sub/run.sh", 0o755),
        ("sub/deep/data.bin", 0o600),
    ] {
        fs::set_permissions(root.join(p), fs::Permissions::from_mode(m)).unwrap();
    }
    fs::set_permissions(root.join("sub/deep"), fs::Permissions::from_mode(0o700)).unwrap();
    let f = fs::File::options()
        .write(true)
        .open(root.join("a.txt"))
        .unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_500_000_000))
        .unwrap();
    std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
}

/// `path mode kind [target|sha256]` for every path below `root`, sorted: the same
/// listing on the host and inside a workspace (`find` + `sha256sum` there).
fn listing_host(root: &Path) -> String {
    let script = r#"cd "$1" && find . -mindepth 1 | sort | while read -r p; do
        if [ -L "$p" ]; then echo "$p $(stat -c %a "$p") link $(readlink "$p")";
        elif [ -d "$p" ]; then echo "$p $(stat -c %a "$p") dir";
        else echo "$p $(stat -c '%a %Y' "$p") $(sha256sum < "$p" | cut -c1-64)"; fi; done"#;
    let o = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

const LISTING: &str = r#"cd "$1" && find . -mindepth 1 | sort | while read -r p; do
    if [ -L "$p" ]; then echo "$p $(stat -c %a "$p") link $(readlink "$p")";
    elif [ -d "$p" ]; then echo "$p $(stat -c %a "$p") dir";
    else echo "$p $(stat -c '%a %Y' "$p") $(sha256sum < "$p" | cut -c1-64)"; fi; done"#;

fn listing_in(sb: &Sandbox, name: &str, dir: &str) -> String {
    sb.ok(&["exec", name, "--", "sh", "-c", LISTING, "sh", dir])
}

const HOME_STAT: &str = "stat -c '%U:%G %a' /home/workspace";

#[test]
fn cp_round_trip_of_a_tree() {
    let Some(sb) = Sandbox::new("cp-tree", PORTS) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    let work = sb.dir.path().join("work");
    let src = work.join("src");
    tree(&src);
    let want = listing_host(&src);
    let home = sh(&sb, &name, HOME_STAT);

    // In: a new path, then into an existing directory, then the contents into the home.
    let v = sb.json(&["cp", "--json", src.to_str().unwrap(), &format!("{name}:t")]);
    assert_eq!(
        (v["files"].as_u64(), v["dirs"].as_u64(), v["links"].as_u64()),
        (Some(3), Some(4), Some(1)),
        "{v}"
    );
    assert_eq!(v["target"], "/home/workspace/t");
    assert_eq!(listing_in(&sb, &name, "/home/workspace/t"), want);
    let owners = sh(
        &sb,
        &name,
        "find /home/workspace/t -exec stat -c %U:%G {} + | sort -u",
    );
    assert_eq!(owners, "workspace:workspace\n");
    sb.ok(&["cp", src.to_str().unwrap(), &format!("{name}:t/")]);
    assert_eq!(listing_in(&sb, &name, "/home/workspace/t/src"), want);
    sb.ok(&["cp", &format!("{}/.", src.display()), &format!("{name}:")]);
    assert_eq!(
        sh(&sb, &name, HOME_STAT),
        home,
        "the home's own owner and mode"
    );
    assert_eq!(sh(&sb, &name, "cat /home/workspace/a.txt"), "alpha\n");

    // Out: the tree comes back identical (modes, mtimes, the link as a link).
    let back = work.join("back");
    sb.ok(&["cp", &format!("{name}:t/src"), back.to_str().unwrap()]);
    assert_eq!(listing_host(&back), want);
    assert!(fs::symlink_metadata(back.join("link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::metadata(back.join("a.txt")).unwrap().mtime(),
        1_500_000_000
    );
    let one = work.join("one.txt");
    sb.ok(&[
        "cp",
        &format!("{name}:/home/workspace/t/sub/run.sh"),
        one.to_str().unwrap(),
    ]);
    assert_eq!(fs::read(&one).unwrap(), b"#!/bin/sh\necho hi\n");

    // A tar on stdout and one from stdin (its `./` entry never reaches the home).
    let o = sb.cmd(&["cp", &format!("{name}:t"), "-"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> = tar::Archive::new(&o.stdout[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    names.sort();
    assert!(
        names.contains(&"t/sub/deep/data.bin".to_string()),
        "{names:?}"
    );
    let tar = Command::new("tar")
        .args(["-c", "-C"])
        .arg(&src)
        .arg(".")
        .output()
        .unwrap();
    let mut c = sb.cmd(&["cp", "-", &format!("{name}:")]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(sh(&sb, &name, HOME_STAT), home);
    let owner = sh(&sb, &name, "stat -c %U /home/workspace/sub/deep/data.bin");
    assert_eq!(owner, "workspace\n");
}

/// Runs `berth ARGS` and returns (success, its peak RSS in bytes): the kernel's
/// high-water mark of berth's own memory (`VmHWM`), read every few milliseconds
/// until it exits. (wait4's ru_maxrss would also count the test process, whose
/// memory a vfork-spawned child shares until it execs.)
fn peak_rss(sb: &Sandbox, args: &[&str]) -> (bool, u64) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.args(args).stdin(Stdio::null()).stdout(Stdio::null());
    sb.env(&mut c);
    let mut child = c.spawn().unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(text) = fs::read_to_string(&status) {
            let kb = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = peak.max(kb.unwrap_or(0) * 1024);
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st.success(), peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn cp_streams_a_200_mb_file_both_ways_in_bounded_memory() {
    let Some(sb) = Sandbox::new("cp-big", PORTS) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    let big = sb.dir.path().join("big.bin");
    let mut f = fs::File::create(&big).unwrap();
    let mut urandom = fs::File::open("/dev/urandom").unwrap();
    std::io::copy(&mut (&mut urandom).take(200 << 20), &mut f).unwrap();
    drop(f);
    let (ok, rss_in) = peak_rss(
        &sb,
        &["cp", big.to_str().unwrap(), &format!("{name}:big.bin")],
    );
    assert!(ok, "cp in failed");
    let back = sb.dir.path().join("back.bin");
    let (ok, rss_out) = peak_rss(
        &sb,
        &["cp", &format!("{name}:big.bin"), back.to_str().unwrap()],
    );
    assert!(ok, "cp out failed");
    eprintln!(
        "peak RSS: in {} MiB, out {} MiB",
        rss_in >> 20,
        rss_out >> 20
    );
    let limit = 100 << 20;
    assert!(rss_in > 0 && rss_out > 0, "no memory reading");
    assert!(
        rss_in < limit && rss_out < limit,
        "in {rss_in} out {rss_out} bytes"
    );
    let sum =
        |p: &Path| stdout(&Command::new("sha256sum").arg(p).output().unwrap())[..64].to_string();
    let inside = sh(&sb, &name, "sha256sum /home/workspace/big.bin");
    assert_eq!(&inside[..64], sum(&big));
    assert_eq!(sum(&back), sum(&big));
}

use std::io::Read;

#[test]
fn cp_failures_leave_nothing_and_a_stopped_workspace_works() {
    let Some(sb) = Sandbox::new("cp-fail", PORTS) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    let work = sb.dir.path().join("work");
    let src = work.join("src");
    tree(&src);
    let before = sh(&sb, &name, "ls -A /home/workspace");
    let s = src.to_str().unwrap();

    let o = sb.berth(&[
        "cp",
        work.join("missing").to_str().unwrap(),
        &format!("{name}:x"),
    ]);
    assert_refused(&o, "cannot read");
    let o = sb.berth(&["cp", s, &format!("{name}:no/such/x")]);
    assert_refused(
        &o,
        "/home/workspace/no/such does not exist; create it first",
    );
    let o = sb.berth(&["cp", s, "nosuchws:x"]);
    assert_refused(&o, "no workspace named nosuchws");
    let o = sb.berth(&["cp", s, &format!("{name}:/home/workspace/.profile")]);
    assert_refused(&o, "cannot copy a directory onto the file");
    let o = sb.berth(&["cp", "a", "b"]);
    assert_refused(&o, "NAME:PATH");
    assert_eq!(sh(&sb, &name, "ls -A /home/workspace"), before);

    let out = work.join("out");
    let o = sb.berth(&["cp", &format!("{name}:nothing-here"), out.to_str().unwrap()]);
    assert_refused(&o, "does not exist in workspace");
    let o = sb.berth(&[
        "cp",
        &format!("{name}:.profile"),
        work.join("no/dir/p").to_str().unwrap(),
    ]);
    assert_refused(&o, "does not exist; create it first");
    let o = sb.berth(&[
        "cp",
        &format!("{name}:/home/workspace"),
        src.join("a.txt").to_str().unwrap(),
    ]);
    assert_refused(&o, "cannot copy a directory onto the file");
    let left: Vec<String> = fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["src"], "nothing but the source is left on the host");

    // The archive API works on a stopped workspace: both directions.
    sb.ok(&["stop", &name]);
    sb.ok(&["cp", s, &format!("{name}:stopped")]);
    let back = work.join("back");
    sb.ok(&["cp", &format!("{name}:stopped"), back.to_str().unwrap()]);
    assert_eq!(listing_host(&back), listing_host(&src));
    sb.ok(&["start", &name]);
    let owners = sh(
        &sb,
        &name,
        "find /home/workspace/stopped -exec stat -c %U {} + | sort -u",
    );
    assert_eq!(owners, "workspace\n");
}
