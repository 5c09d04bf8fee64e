use super::*;
use crate::domain::egress::parse_line;
use proptest::prelude::*;

pub fn rec(host: &str, allowed: bool, status: Option<u16>) -> EgressRecord {
    EgressRecord {
        time_ms: 1_764_104_400_123,
        method: "GET".into(),
        host: host.into(),
        port: Some(80),
        status,
        bytes: 512,
        result: if allowed { "TCP_MISS" } else { "TCP_DENIED" }.into(),
        url: format!("http://{host}/path"),
        allowed,
    }
}

#[test]
fn counts_count_requests_and_denials() {
    let rs = [
        rec("a.test", true, Some(200)),
        rec("b.test", false, Some(403)),
        rec("c.test", true, None),
    ];
    let c = EgressCounts::of(&rs);
    assert_eq!(
        c,
        EgressCounts {
            requests: 3,
            denied: 1
        }
    );
    assert_eq!(c.describe(), "3 requests, 1 denied");
    assert_eq!(EgressCounts::of(&rs[..1]).describe(), "1 request, 0 denied");
}

#[test]
fn the_filter_matches_host_url_method_status_and_denial() {
    let ok = rec("Api.Example.test", true, Some(200));
    let no = rec("blocked.test", false, Some(403));
    assert!(AuditFilter::new(false, "").matches(&ok));
    assert!(
        AuditFilter::new(false, "example").matches(&ok),
        "case ignored"
    );
    assert!(AuditFilter::new(false, "/path").matches(&ok), "the URL");
    assert!(AuditFilter::new(false, "get").matches(&ok), "the method");
    assert!(AuditFilter::new(false, "403").matches(&no), "the status");
    assert!(!AuditFilter::new(false, "403").matches(&ok));
    assert!(AuditFilter::new(false, "denied").matches(&no), "the result");
    assert!(AuditFilter::new(true, "").matches(&no));
    assert!(!AuditFilter::new(true, "").matches(&ok));
    assert!(!AuditFilter::new(true, "api").matches(&ok));
    assert!(AuditFilter::new(false, "").is_empty());
    assert!(!AuditFilter::new(true, " ").is_empty());
}

#[test]
fn narrowing_is_known() {
    let wide = AuditFilter::new(false, "exa");
    assert!(AuditFilter::new(false, "exam").narrows(&wide));
    assert!(AuditFilter::new(true, "exa").narrows(&wide));
    assert!(!AuditFilter::new(false, "ex").narrows(&wide));
    assert!(!wide.narrows(&AuditFilter::new(true, "exa")));
}

#[test]
fn the_table_has_a_header_aligned_rows_and_utc_times() {
    let t = table(&[
        rec("a.test", true, Some(200)),
        rec("much-longer.example.test", false, None),
    ]);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("TIME (UTC)"), "{t}");
    assert!(lines[1].starts_with("2025-11-25 21:00:00.123"), "{t}");
    assert!(lines[1].ends_with("allowed") && lines[2].ends_with("denied"));
    // The HOST column starts at the same place on every line.
    let col = lines[0].find("HOST").unwrap();
    assert_eq!(&lines[1][col..col + 6], "a.test");
    assert_eq!(&lines[2][col..col + 11], "much-longer");
    insta::assert_snapshot!(t);
}

#[test]
fn the_summary_says_how_many_are_shown() {
    let c = EgressCounts {
        requests: 10,
        denied: 2,
    };
    assert_eq!(
        summary(&c, 10, &AuditFilter::default()),
        "10 requests, 2 denied"
    );
    assert_eq!(
        summary(&c, 2, &AuditFilter::new(true, "")),
        "2 shown of 10 requests, 2 denied"
    );
}

#[test]
fn times_format_in_utc() {
    assert_eq!(format_time(0, true), "1970-01-01 00:00:00.000");
    assert_eq!(format_time(1_500, false), "00:00:01.500");
}

fn arb_record() -> impl Strategy<Value = EgressRecord> {
    let word = "[a-z][a-z0-9.-]{0,20}";
    (
        0i64..4_000_000_000_000,
        prop_oneof![Just("GET"), Just("CONNECT"), Just("POST")],
        word,
        proptest::option::of(1u16..),
        proptest::option::of(100u16..600),
        any::<u32>(),
        prop_oneof![Just("TCP_MISS"), Just("TCP_TUNNEL"), Just("TCP_DENIED")],
        "[a-z/:?=.0-9]{1,40}",
    )
        .prop_map(
            |(t, m, host, port, status, bytes, result, url)| EgressRecord {
                time_ms: t,
                method: m.into(),
                host,
                port,
                status,
                bytes: bytes.into(),
                allowed: !result.contains("DENIED"),
                result: result.into(),
                url,
            },
        )
}

proptest! {
    #[test]
    fn an_audit_line_reads_back_as_the_same_record(r in arb_record()) {
        prop_assert_eq!(parse_line(&audit_line(&r)), Some(r));
    }

    #[test]
    fn filters_select_a_subset_counted_like_the_counts(
        rs in proptest::collection::vec(arb_record(), 0..60),
        q in "[a-z0-9]{0,3}",
        denied in any::<bool>(),
    ) {
        let f = AuditFilter::new(denied, &q);
        let shown: Vec<&EgressRecord> = rs.iter().filter(|r| f.matches(r)).collect();
        let all = EgressCounts::of(&rs);
        if denied {
            prop_assert_eq!(shown.len() as u64, EgressCounts::of(shown.iter().copied()).denied);
            prop_assert!(shown.len() as u64 <= all.denied);
        }
        // A narrower filter keeps a subset of what a wider one keeps.
        let narrower = AuditFilter::new(true, &format!("{q}a"));
        prop_assert!(narrower.narrows(&f));
        prop_assert!(rs.iter().filter(|r| narrower.matches(r)).all(|r| f.matches(r)));
        let t = table(&rs);
        prop_assert_eq!(t.lines().count(), rs.len() + 1);
    }
}

#[test]
fn only_proxy_workspaces_have_an_audit() {
    assert_eq!(no_audit("w", NetProfile::Proxy), None);
    assert_eq!(
        no_audit("w", NetProfile::Isolated).as_deref(),
        Some("w has network profile isolated; only proxy workspaces have an egress audit (create it with --net-profile proxy)")
    );
    let labels = std::collections::BTreeMap::from([(
        crate::domain::net_profile::LABEL.to_string(),
        "proxy".to_string(),
    )]);
    assert_eq!(profile_of(&labels), NetProfile::Proxy);
    assert_eq!(profile_of(&Default::default()), NetProfile::Open);
}
