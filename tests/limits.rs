//! Limits and alerts against the real engine: `[limits] max_concurrent` refuses a
//! create and a start beyond it, leaving nothing; the CPU default reaches the
//! container; home volume sizes show and grow; alerts show in `berth doctor`.
mod common;
use common::*;

fn leases(sb: &Sandbox) -> i64 {
    let db = rusqlite::Connection::open(sb.state_dir().join("berth.db")).unwrap();
    db.query_row("SELECT COUNT(*) FROM port_leases", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn max_concurrent_refuses_a_create_and_a_start_beyond_it_and_leaves_nothing() {
    let Some(sb) = Sandbox::with_config("limit", (3500, 3509), "[limits]\nmax_concurrent = 1\n")
    else {
        return;
    };
    let (a, b) = (sb.name("a"), sb.name("b"));
    sb.create_ok(&a, &[]);

    let o = sb.create(&b, &[]);
    assert_refused(
        &o,
        &format!(
            "1 workspace is running ({a}) and [limits] max_concurrent is 1 in {}; stop it (`berth stop NAME`) or raise the limit",
            sb.config_file().display()
        ),
    );
    assert!(!sb.container_exists(&b), "no container left");
    assert!(!sb.volume_exists(&b), "no volume left");
    assert_eq!(leases(&sb), 0, "no port lease left");

    // Room made: the second is created; then the first cannot start.
    sb.ok(&["stop", &a]);
    sb.create_ok(&b, &[]);
    let o = sb.berth(&["start", &a]);
    assert_refused(
        &o,
        &format!("1 workspace is running ({b}) and [limits] max_concurrent is 1"),
    );
    let state = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.State.Running}}",
        &format!("workspace-{a}"),
    ]));
    assert_eq!(state.trim(), "false", "the refused start started nothing");
    sb.ok(&["stop", &b]);
    sb.ok(&["start", &a]);
}

#[test]
fn the_cpu_default_reaches_the_container_and_shows_in_status() {
    let Some(sb) = Sandbox::new("cpus", (3510, 3519)) else {
        return;
    };
    let n = sb.name("c");
    sb.create_ok(&n, &[]);
    let host: f64 = stdout(&docker(&["info", "-f", "{{.NCPU}}"]))
        .trim()
        .parse()
        .unwrap();
    let want = 2f64.min(host);
    let nano = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.HostConfig.NanoCpus}}",
        &format!("workspace-{n}"),
    ]));
    assert_eq!(nano.trim(), format!("{}", (want * 1e9) as i64));
    let st = sb.json(&["status", &n, "--json"]);
    assert_eq!(st["cpus_limit"], want);
    let text = sb.ok(&["status", &n]);
    assert!(text.contains(&format!("cpus       {want}")), "{text}");
    assert!(
        text.contains("no quota"),
        "status says there is no quota: {text}"
    );
}

fn size_of(list: &serde_json::Value, name: &str) -> Option<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .and_then(|w| w["volume_size_bytes"].as_u64())
}

#[test]
fn volume_sizes_grow_and_alerts_show_in_doctor() {
    let Some(sb) = Sandbox::with_config(
        "sizes",
        (3520, 3529),
        "[limits]\ndisk_alert = \"4m\"\nalert_threshold_pct = 1\n",
    ) else {
        return;
    };
    let n = sb.name("d");
    sb.create_ok(&n, &[]);
    let before = size_of(&sb.json(&["list", "--json"]), &n).expect("a size in berth list");
    let st = sb.json(&["status", &n, "--json"]);
    assert_eq!(st["volume_size_bytes"].as_u64(), Some(before));

    sb.ok(&[
        "exec",
        &n,
        "--",
        "sh",
        "-c",
        "head -c 8388608 /dev/urandom > ~/blob && sync",
    ]);
    let st = sb.json(&["status", &n, "--json"]);
    let after = st["volume_size_bytes"].as_u64().unwrap();
    assert!(after >= before + (8 << 20), "{before} -> {after}");
    assert_eq!(size_of(&sb.json(&["list", "--json"]), &n), Some(after));
    let table = sb.ok(&["list"]);
    assert!(table.lines().next().unwrap().contains("SIZE"), "{table}");

    // One core kept busy for a while (ended by `timeout` whatever happens): the
    // workspaces together pass 1% of the host's CPUs.
    sb.ok(&[
        "exec",
        &n,
        "--",
        "sh",
        "-c",
        "nohup timeout 40 sh -c 'while :; do :; done' >/dev/null 2>&1 &",
    ]);
    let o = sb.berth(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("doctor --json");
    let checks = v["checks"].as_array().unwrap();
    let find = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no {name:?} in {checks:#?}"))
            .clone()
    };
    let disk = find(&format!("alert disk:{n}"));
    assert_eq!(disk["status"], "warn");
    let d = disk["detail"].as_str().unwrap();
    assert!(
        d.starts_with(&format!("workspace {n}'s home volume holds"))
            && d.contains("past [limits] disk_alert = 4m"),
        "{d}"
    );
    let cpu = find("alert cpu");
    let c = cpu["detail"].as_str().unwrap();
    assert!(
        c.starts_with("berth's workspaces use")
            && c.contains("past [limits] alert_threshold_pct = 1"),
        "{c}"
    );
    let text = stdout(&sb.berth(&["doctor"]));
    assert!(text.contains(&format!("alert disk:{n}")), "{text}");
    let _ = sb.berth(&["exec", &n, "--", "pkill", "-f", "while :"]);
}
