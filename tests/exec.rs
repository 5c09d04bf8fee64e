//! `berth exec`: exit codes, JSON, env, workdir, stdin and timeouts.
mod common;
use common::*;
use std::io::Write;
use std::process::Stdio;

#[test]
fn exec_contract() {
    let Some(sb) = Sandbox::new("exec", (2680, 2689)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);

    let o = sb.berth(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 42",
    ]);
    assert_eq!(o.status.code(), Some(42));
    assert_eq!(stdout(&o), "out\n");
    assert_eq!(stderr(&o), "err\n");

    let v = sb.json(&[
        "exec",
        &name,
        "--json",
        "--",
        "sh",
        "-c",
        "printf 'a\\nb'; printf E >&2",
    ]);
    assert_eq!(
        v,
        serde_json::json!({"returncode": 0, "stdout": "a\nb", "stderr": "E", "timed_out": false})
    );
    let o = sb.berth(&["exec", &name, "--json", "--", "false"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["returncode"], 1);

    let out = sb.ok(&[
        "exec",
        &name,
        "--env",
        "A=1",
        "-e",
        "B=two words",
        "--workdir",
        "/tmp",
        "--",
        "sh",
        "-c",
        "echo $A-$B; pwd; id -un",
    ]);
    assert_eq!(out, "1-two words\n/tmp\nworkspace\n");

    // Piped stdin reaches the command.
    let mut c = sb.cmd(&["exec", &name, "--", "sh", "-c", "wc -c"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&vec![b'x'; 100_000])
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o).trim(), "100000");

    // Binary output survives byte for byte.
    let o = sb.berth(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "printf '\\000\\001\\002\\377hello'",
    ]);
    assert_eq!(o.stdout, b"\x00\x01\x02\xffhello");

    // A timeout kills the command (and its children) and says so.
    let started = std::time::Instant::now();
    let o = sb.berth(&[
        "exec",
        &name,
        "--json",
        "--timeout",
        "1",
        "--",
        "sh",
        "-c",
        "echo begun; sleep 300 & sleep 300",
    ]);
    assert_eq!(o.status.code(), Some(124));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["timed_out"], true);
    assert_eq!(v["returncode"], 124);
    assert_eq!(v["stdout"], "begun\n");
    assert!(started.elapsed().as_secs() < 60);
    let ps = sb.ok(&["exec", &name, "--", "ps", "-eo", "args"]);
    assert!(
        !ps.contains("sleep 300"),
        "timed-out processes still running:\n{ps}"
    );
    // Fast commands under a timeout are unaffected.
    assert_eq!(
        sb.ok(&["exec", &name, "--timeout", "30", "--", "echo", "quick"]),
        "quick\n"
    );

    // Bad input says what to do.
    let o = sb.berth(&["exec", &name, "--env", "NOEQUALS", "--", "true"]);
    assert!(stderr(&o).contains("KEY=VALUE"), "{}", stderr(&o));
    sb.ok(&["stop", &name]);
    let o = sb.berth(&["exec", &name, "--", "true"]);
    assert!(
        stderr(&o).contains(&format!("berth start {name}")),
        "{}",
        stderr(&o)
    );
    let o = sb.berth(&["exec", &sb.name("nope"), "--", "true"]);
    assert!(stderr(&o).contains("no workspace named"), "{}", stderr(&o));
}
