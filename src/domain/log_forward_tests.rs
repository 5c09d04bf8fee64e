use super::*;

fn syslog(t: Transport, host: &str, port: u16, format: Format) -> Option<Target> {
    Some(Target::Syslog {
        transport: t,
        host: host.into(),
        port,
        format,
    })
}

#[test]
fn files_are_absolute_paths_with_or_without_the_scheme() {
    let f = |p: &str| Some(Target::File(PathBuf::from(p)));
    assert_eq!(Target::parse("").unwrap(), None);
    assert_eq!(Target::parse("  ").unwrap(), None);
    assert_eq!(
        Target::parse("/var/log/a.log").unwrap(),
        f("/var/log/a.log")
    );
    assert_eq!(Target::parse("file:/tmp/x").unwrap(), f("/tmp/x"));
    assert_eq!(
        Target::parse("file:tmp/x"),
        Err(TargetError::Relative("tmp/x".into()))
    );
    assert_eq!(
        Target::parse("logs/a.log"),
        Err(TargetError::Relative("logs/a.log".into()))
    );
    assert!(matches!(
        Target::parse("/var/log/"),
        Err(TargetError::Directory(_))
    ));
    assert!(matches!(
        Target::parse("file:/var/.."),
        Err(TargetError::Directory(_))
    ));
    assert_eq!(
        Target::parse("file:/tmp/x").unwrap().unwrap().to_string(),
        "file:/tmp/x"
    );
}

#[test]
fn syslog_endpoints_have_a_transport_a_host_and_a_port() {
    use Format::*;
    use Transport::*;
    assert_eq!(
        Target::parse("syslog+udp://127.0.0.1:5514").unwrap(),
        syslog(Udp, "127.0.0.1", 5514, Rfc5424)
    );
    assert_eq!(
        Target::parse("syslog+tcp://logs.example").unwrap(),
        syslog(Tcp, "logs.example", 514, Rfc5424)
    );
    assert_eq!(
        Target::parse("syslog://h:1?format=rfc3164").unwrap(),
        syslog(Udp, "h", 1, Rfc3164)
    );
    assert_eq!(
        Target::parse("syslog+udp://[::1]:600/").unwrap(),
        syslog(Udp, "[::1]", 600, Rfc5424)
    );
    let t = Target::parse("syslog+tcp://[::1]:600?format=rfc3164")
        .unwrap()
        .unwrap();
    assert_eq!(t.to_string(), "syslog+tcp://[::1]:600?format=rfc3164");
    assert_eq!(t.sink_args(), ["syslog", "tcp", "::1", "600", "rfc3164"]);
    assert!(t.host_network() && t.file().is_none());
    // What Display writes parses back to the same target.
    assert_eq!(Target::parse(&t.to_string()).unwrap(), Some(t));
}

#[test]
fn bad_targets_say_what_to_write() {
    let cases = [
        ("syslog+udp://", "has no host"),
        ("syslog+udp://:514", "has no host"),
        ("syslog+udp://h:0", "bad port"),
        ("syslog+udp://h:70000", "bad port"),
        ("syslog+udp://h:x", "bad port"),
        ("syslog+tcp://a b", "only letters"),
        ("syslog+tcp://-h", "only letters"),
        ("syslog+tcp://a:b:c", "only letters"),
        ("syslog+udp://h?x=1", "format=rfc3164"),
        ("http://h", "not a log target"),
        ("stdout", "not an absolute path"),
        ("/tmp/a\nb", "not a log target"),
    ];
    for (raw, want) in cases {
        let e = Target::parse(raw).unwrap_err().to_string();
        assert!(e.contains(want), "{raw}: {e}");
    }
}

#[test]
fn the_forwarder_gets_its_sink_the_workspace_and_one_argument_per_source() {
    let t = Target::parse("/h/a.log").unwrap().unwrap();
    let sources = [
        Source {
            tag: "workspace".into(),
            id: "abc".into(),
        },
        Source {
            tag: "db".into(),
            id: "def".into(),
        },
    ];
    assert_eq!(
        forwarder_args(&t, "api", &sources),
        [
            "file",
            "/out/a.log",
            "api",
            "workspace=/logs/workspace/abc-json.log",
            "db=/logs/db/def-json.log"
        ]
    );
    assert!(!t.host_network());
    assert_eq!(sources_label(&sources), "db,workspace");
    assert_eq!(tag("api", "db"), "api/db");
}

#[test]
fn a_workspace_forwards_when_its_label_says_so() {
    let mut w = Workspace {
        engine: String::new(),
        name: "w".into(),
        state: crate::domain::workspace::WorkspaceState::Running,
        ssh_port: None,
        image: "i".into(),
        container: "workspace-w".into(),
        container_id: "id".into(),
        volume: "workspace-w".into(),
        thread: None,
        platform: None,
        profile: None,
        created: 0,
        started_at: None,
        runtime: None,
        memory_limit: None,
        pids_limit: None,
        cpus_limit: None,
        provision: crate::domain::provision::Provision::Ready,
        labels: Default::default(),
    };
    assert!(Forwarding::of(&w).is_none());
    w.labels.insert(LABEL.into(), String::new());
    assert!(Forwarding::of(&w).is_none(), "an emptied label is absent");
    w.labels.insert(LABEL.into(), "file:/tmp/w.log".into());
    let mut f = Forwarding::of(&w).unwrap();
    assert_eq!(f.sidecar, "workspace-w.logs");
    assert_eq!(f.summary(), "→ file:/tmp/w.log (sidecar workspace-w.logs)");
    f.running = Some(true);
    f.sources = Some(vec!["workspace".into(), "db".into()]);
    assert_eq!(
        f.summary(),
        "→ file:/tmp/w.log (sidecar workspace-w.logs, running; from workspace, db)"
    );
}
