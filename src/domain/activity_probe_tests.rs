use super::*;
use proptest::prelude::*;

/// Real output of the probe in a workspace with an interactive `berth ssh`
/// (pts/0), `berth ssh NAME -- sleep 15` (notty) and `nohup sleep 1000 &`.
const SSH: &[u8] = include_bytes!("../../tests/fixtures/activity/probe-ssh.txt");

fn rules() -> Rules {
    Rules {
        ssh: true,
        processes: true,
        cpu: true,
        ports: true,
        cpu_threshold: 10.0,
        ssh_port: 2222,
        ignore_ports: vec![2375],
    }
}

#[test]
fn the_fixture_shows_two_sessions_with_their_peers_and_the_background_sleep() {
    let seen = parse(SSH);
    assert!(seen.complete);
    assert_eq!(seen.self_pid, 227);
    assert_eq!(seen.procs.len(), 10);
    assert_eq!(
        seen.ssh_sessions(2222),
        vec!["pts/0 from 172.19.0.1:55574", "notty from 172.19.0.1:55580"]
    );
    // Only the nohup'd sleep: init, sshd, the sessions' shell and command, and the
    // probe itself are the baseline.
    assert_eq!(seen.user_processes(), vec!["216 sleep 1000"]);
    assert_eq!(seen.ports_in_use(&rules()), Vec::<u16>::new());
    let cpu = seen.cpu_percent().unwrap();
    assert!((cpu - 81.4).abs() < 0.1, "{cpu}");
    let kinds: Vec<&str> = seen.reasons(&rules()).iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, vec!["ssh", "processes", "cpu"]);
}

#[test]
fn only_counted_signals_become_reasons() {
    let seen = parse(SSH);
    let r = Rules {
        ssh: false,
        cpu: false,
        cpu_threshold: 10.0,
        ..rules()
    };
    let reasons = seen.reasons(&r);
    assert_eq!(
        reasons,
        vec![AliveReason::Processes {
            processes: vec!["216 sleep 1000".into()]
        }]
    );
    let high = Rules {
        cpu_threshold: 90.0,
        ..rules()
    };
    assert!(!seen.reasons(&high).iter().any(|r| r.kind() == "cpu"));
}

fn idle_output() -> String {
    "@self 40\n@stat\n1 (docker-init) S 0 1 1\n7 (sshd) S 1 7 1\n40 (sh) S 0 40 40\n41 (cat) R 40 40 40\n\
     @cmdline\n==> 1/cmdline <==\n/sbin/docker-init\0--\0x\0\n\n==> 7/cmdline <==\nsshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\0\n\
     @fd\n@tcp\n  sl  local_address rem_address   st\n   1: 00000000:08AE 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 14733693 1\n\
     @cpu\n100.00 1.0\nusage_usec 1000\n@cpu\n101.00 1.0\nusage_usec 21000\n@end\n"
        .to_string()
}

#[test]
fn a_fresh_workspace_is_idle() {
    let seen = parse(idle_output().as_bytes());
    assert!(seen.complete);
    assert_eq!(seen.reasons(&rules()), vec![]);
    // cgroup v2: 20 ms over one second.
    assert!((seen.cpu_percent().unwrap() - 2.0).abs() < 1e-9);
}

#[test]
fn a_server_with_a_connection_is_a_port_in_use_and_berths_ports_are_not() {
    let tcp = "@self 9\n@tcp\n\
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 100 1\n\
   1: 020013AC:1F90 010013AC:D916 01 00000000:00000000 00:00000000 00000000  1000 0 101 1\n\
   2: 00000000:0947 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 102 1\n\
   3: 0100007F:0947 0100007F:D000 01 00000000:00000000 00:00000000 00000000  0 0 103 1\n\
   4: 020013AC:C000 08080808:01BB 01 00000000:00000000 00:00000000 00000000  1000 0 104 1\n\
@end\n";
    let seen = parse(tcp.as_bytes());
    assert_eq!(seen.ports_in_use(&rules()), vec![8080]);
    assert_eq!(
        seen.reasons(&rules()),
        vec![AliveReason::Ports { ports: vec![8080] }]
    );
}

#[test]
fn tcp6_addresses_and_mapped_ipv4_read_right() {
    let l = "   0: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000001000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 7 1";
    let c = parse_tcp(l).unwrap();
    assert_eq!((c.local_ip.as_str(), c.local_port), ("127.0.0.1", 8080));
    assert_eq!(c.remote_ip, "::1");
    assert_eq!(c.state, 0x0A);
    assert!(parse_tcp("  sl  local_address rem_address   st").is_none());
}

#[test]
fn a_truncated_output_is_not_complete() {
    let out = idle_output();
    let cut = &out[..out.find("@tcp").unwrap()];
    let seen = parse(cut.as_bytes());
    assert!(!seen.complete);
    assert_eq!(seen.cpu_percent(), None);
}

#[test]
fn the_script_samples_cpu_only_when_asked() {
    assert!(script(true).contains("sleep 0.25"));
    assert!(!script(false).contains("cpuacct"));
    assert!(script(false).ends_with("echo \"@end\"\n"));
}

proptest! {
    #[test]
    fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let seen = parse(&bytes);
        let _ = seen.reasons(&rules());
    }

    #[test]
    fn sections_in_any_garbage_still_parse_their_lines(junk in "[ -~\n]{0,200}") {
        let mut out = format!("@self 5\n@stat\n{junk}\n@stat\n");
        out.push_str("77 (python3) S 1 77 77\n@cmdline\n==> 77/cmdline <==\npython3\0train.py\0\n@end\n");
        let seen = parse(out.as_bytes());
        let p = seen.procs.iter().find(|p| p.pid == 77).unwrap();
        prop_assert_eq!(p.cmdline.as_str(), "python3 train.py");
        prop_assert!(seen.user_processes().contains(&"77 python3 train.py".to_string()));
    }

    #[test]
    fn ipv4_addresses_round_trip(a in any::<[u8; 4]>(), port in any::<u16>()) {
        let hex = format!("{:08X}:{port:04X}", u32::from_le_bytes(a));
        let line = format!("   0: {hex} 00000000:0000 01 0:0 0:0 0 0 0 1 1");
        let c = parse_tcp(&line).unwrap();
        prop_assert_eq!(c.local_ip, std::net::Ipv4Addr::from(a).to_string());
        prop_assert_eq!(c.local_port, port);
    }
}

#[test]
fn berths_exec_wrapper_is_not_a_user_process_but_what_it_runs_is() {
    let mut seen = parse(SSH);
    let wrapper = |pid: u32, ppid: u32| Proc {
        pid,
        ppid,
        comm: "sh".into(),
        state: 'S',
        cmdline: format!("/bin/sh -c echo $$ > {EXEC_PIDFILE_PREFIX}8628-1141; \"$@\"; s=$?"),
        sockets: vec![],
    };
    // The probe under the wrapper (the probe's shell is the wrapper's child).
    seen.procs.push(wrapper(300, 0));
    let probe = seen.self_pid;
    seen.procs.iter_mut().find(|p| p.pid == probe).unwrap().ppid = 300;
    // A user's command berth runs with a timeout: it counts, its wrapper does not.
    seen.procs.push(wrapper(310, 0));
    seen.procs.push(Proc {
        pid: 311,
        ppid: 310,
        comm: "make".into(),
        state: 'R',
        cmdline: "make test".into(),
        sockets: vec![],
    });
    assert_eq!(
        seen.user_processes(),
        vec!["216 sleep 1000", "311 make test"]
    );
}
