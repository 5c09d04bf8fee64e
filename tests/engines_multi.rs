//! One berth over two real engines: the default one and an extra dockerd started
//! by this test (`common::dockerd`, reached on its unix socket). The list merges
//! both (ENGINE column, `"engine"` in JSON), `--engine` places a create, a name on
//! both engines is refused with the engines named until `--engine` says which,
//! least-loaded placement picks the emptier engine, each engine leases SSH ports
//! from its own range, and an engine that dies is said while the other is still
//! listed. Ports: 4040-4079 only.
mod common;

use common::dockerd::ExtraDockerd;
use common::{stderr, stdout, Sandbox};

fn port_of(v: &serde_json::Value) -> u16 {
    v["ssh_port"].as_u64().expect("an ssh port") as u16
}

#[test]
fn one_berth_over_two_engines() {
    let Some(mut far) = ExtraDockerd::start("mlt", 235, None) else {
        return;
    };
    far.load_images(&["berth/workspace:latest"]);
    let engines = format!("{}port_range = \"4060-4069\"\n", far.config("far"));
    let Some(sb) = Sandbox::with_config("multi", (4040, 4049), &engines) else {
        return;
    };
    let (a, b, dup, c) = (sb.name("a"), sb.name("b"), sb.name("dup"), sb.name("c"));

    // berth engines: both, reachable.
    let rows = sb.json(&["engines", "--json"]);
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "far"]);
    assert!(rows[1]["reachable"].as_bool().unwrap(), "{rows}");
    assert!(rows[0]["default"].as_bool().unwrap(), "{rows}");

    // --engine places the create; each engine has its own port range.
    let wa = sb.create_ok(&a, &["--engine", "far"]);
    assert_eq!(wa["engine"], "far", "{wa}");
    assert!((4060..=4069).contains(&port_of(&wa)), "{wa}");
    assert_eq!(wa["placement"]["reason"], "chosen", "{wa}");
    let wb = sb.create_ok(&b, &[]);
    assert_eq!(wb["engine"], "default", "{wb}");
    assert!((4040..=4049).contains(&port_of(&wb)), "{wb}");
    let o = stdout(&far.docker(&["ps", "--format", "{{.Names}}"]));
    assert!(o.contains(&format!("workspace-{a}")), "{o}");

    // A command naming a workspace finds its engine.
    let s = sb.json(&["status", &a, "--json"]);
    assert_eq!(s["engine"], "far", "{s}");
    sb.ok(&["exec", &a, "--", "true"]);

    // The merged list.
    let list = sb.json(&["list", "--json"]);
    let ours: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| [&a, &b].contains(&&w["name"].as_str().unwrap().to_string()))
        .map(|w| {
            (
                w["name"].as_str().unwrap().into(),
                w["engine"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        ours,
        [(a.clone(), "far".into()), (b.clone(), "default".into())]
    );
    let text = sb.ok(&["list"]);
    let head = text.lines().next().unwrap();
    assert!(
        head.starts_with("NAME") && head.contains("ENGINE"),
        "{text}"
    );
    let row = text.lines().find(|l| l.starts_with(&a)).unwrap();
    assert!(row.split_whitespace().nth(1) == Some("far"), "{text}");

    // The same name on both engines: refused until --engine says which.
    sb.create_ok(&dup, &[]);
    sb.create_ok(&dup, &["--engine", "far"]);
    let o = sb.berth(&["status", &dup]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("several engines (default, far)")
            && e.contains("--engine default or --engine far"),
        "{e}"
    );
    let s = sb.json(&["--engine", "far", "status", &dup, "--json"]);
    assert_eq!(s["engine"], "far", "{s}");
    sb.ok(&["--engine", "far", "delete", &dup, "-y"]);
    let s = sb.json(&["status", &dup, "--json"]);
    assert_eq!(s["engine"], "default", "{s}");
    sb.ok(&["delete", &dup, "-y"]);

    // Least-loaded: far runs one workspace (a); stopped, it runs none, and the
    // default engine runs at least b.
    sb.ok(&["stop", &a]);
    let text = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(
        sb.config_file(),
        format!("placement = \"least-loaded\"\n{text}"),
    )
    .unwrap();
    let key = format!("{}.pub", sb.key().display());
    let o = sb.berth(&["create", &c, "--ssh-key", &key]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("engine: far (least-loaded: 0 running, ")),
        "{out}"
    );
    let s = sb.json(&["status", &c, "--json"]);
    assert_eq!(s["engine"], "far", "{s}");
    assert!((4060..=4069).contains(&port_of(&s)), "{s}");

    // The extra engine dies: the list still shows the default engine's and says
    // which engine is missing; exit 0.
    far.kill();
    let o = sb.berth(&["list", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("engine far could not be reached"),
        "{}",
        stderr(&o)
    );
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["name"].as_str())
        .collect();
    assert!(
        names.contains(&b.as_str()) && !names.contains(&c.as_str()),
        "{list}"
    );
    sb.ok(&["delete", &b, "-y"]);
    // The killed engine leaves nothing on the host: no process of its workspace,
    // no bridge of its networks.
    assert_eq!(far.shut_down(), Vec::<String>::new());
}
