//! The egress audit over the in-memory engine, in paused time: history, following
//! across restarts and absence of the proxy sidecar, the live counters of every
//! proxy workspace (and no stream left open when they stop), the view's records.
use super::egress::{follow, history};
use super::egress_tasks::counters;
use super::service::{Command, Event};
use super::test_support::{drain, wait_for, Harness};
use crate::domain::egress::{EgressRecord, PROXY_KIND};
use crate::domain::egress_audit::{audit_line, EgressCounts};
use crate::domain::naming::WorkspaceName;
use crate::domain::net_profile::LABEL;
use crate::engine::memory::MemoryEngine;
use crate::engine::Engine;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn rec(host: &str, allowed: bool) -> EgressRecord {
    crate::domain::egress_audit::tests::rec(host, allowed, Some(if allowed { 200 } else { 403 }))
}

/// A workspace with profile `profile`; with a running proxy sidecar when `proxy`.
fn workspace(engine: &MemoryEngine, name: &str, port: u16, profile: &str) -> String {
    let c = engine.add_workspace(name, port);
    engine.set_label(&c, LABEL, profile);
    if profile == "proxy" {
        engine.add_sidecar(name, PROXY_KIND);
    }
    c
}

fn audit(engine: &MemoryEngine, name: &str, records: &[EgressRecord]) {
    let lines: Vec<String> = records.iter().map(audit_line).collect();
    engine
        .log(&format!("workspace-{name}.{PROXY_KIND}"), &lines.join("\n"))
        .expect("proxy sidecar exists");
}

fn hosts(rs: &[EgressRecord]) -> Vec<&str> {
    rs.iter().map(|r| r.host.as_str()).collect()
}

fn n(name: &str) -> WorkspaceName {
    WorkspaceName::parse(name).expect("valid name")
}

#[tokio::test(start_paused = true)]
async fn history_reads_the_records_and_skips_the_proxys_other_lines() {
    let engine = MemoryEngine::new();
    workspace(&engine, "p", 3000, "proxy");
    engine
        .log(
            "workspace-p.proxy",
            "2026/11/25 21:00:00| Starting Squid Cache",
        )
        .unwrap();
    audit(&engine, "p", &[rec("a.test", true), rec("b.test", false)]);
    let got = history(&engine, &n("p")).await.unwrap();
    assert_eq!(hosts(&got), ["a.test", "b.test"]);
    assert!(!got[1].allowed);
}

#[tokio::test(start_paused = true)]
async fn no_audit_is_a_sentence_that_says_why() {
    let engine = MemoryEngine::new();
    workspace(&engine, "iso", 3000, "isolated");
    let e = history(&engine, &n("iso")).await.unwrap_err().to_string();
    assert_eq!(e, "iso has network profile isolated; only proxy workspaces have an egress audit (create it with --net-profile proxy)");
    let e = history(&engine, &n("nope")).await.unwrap_err().to_string();
    assert!(e.contains("no workspace named nope"), "{e}");
    // A proxy workspace whose sidecar is not there.
    let c = engine.add_workspace("bare", 3001);
    engine.set_label(&c, LABEL, "proxy");
    let e = history(&engine, &n("bare")).await.unwrap_err().to_string();
    assert!(
        e.contains("proxy sidecar workspace-bare.proxy does not exist"),
        "{e}"
    );
}

async fn next(rx: &mut mpsc::Receiver<Vec<EgressRecord>>) -> Vec<EgressRecord> {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("a batch within 30 s")
        .expect("follower alive")
}

#[tokio::test(start_paused = true)]
async fn follow_sends_history_then_new_records_across_a_restart_without_repeats() {
    let engine = MemoryEngine::new();
    workspace(&engine, "p", 3000, "proxy");
    audit(&engine, "p", &[rec("old.test", true)]);
    let (tx, mut rx) = mpsc::channel(4);
    let e: Arc<dyn Engine> = Arc::new(engine.clone());
    let task = tokio::spawn(follow(e.clone(), n("p"), tx));
    assert_eq!(hosts(&next(&mut rx).await), ["old.test"]);
    audit(&engine, "p", &[rec("new.test", false)]);
    assert_eq!(hosts(&next(&mut rx).await), ["new.test"]);
    // The proxy stops and starts again: only what it logs after that comes.
    engine.crash("workspace-p.proxy").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    e.start_container("workspace-p.proxy").await.unwrap();
    audit(&engine, "p", &[rec("after.test", true)]);
    assert_eq!(hosts(&next(&mut rx).await), ["after.test"]);
    // The workspace is deleted: the follower ends.
    e.remove_container("workspace-p.proxy").await.unwrap();
    e.remove_container("workspace-p").await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the follower ends with its workspace")
        .unwrap();
    assert_eq!(engine.open_streams().logs, 0);
    assert_eq!(engine.open_streams().events, 0);
}

#[tokio::test(start_paused = true)]
async fn follow_waits_for_a_proxy_that_is_not_there_yet() {
    let engine = MemoryEngine::new();
    let c = engine.add_workspace("p", 3000);
    engine.set_label(&c, LABEL, "proxy");
    let (tx, mut rx) = mpsc::channel(4);
    let task = tokio::spawn(follow(Arc::new(engine.clone()), n("p"), tx));
    tokio::time::sleep(Duration::from_secs(5)).await;
    engine.add_sidecar("p", PROXY_KIND);
    audit(&engine, "p", &[rec("late.test", true)]);
    assert_eq!(hosts(&next(&mut rx).await), ["late.test"]);
    task.abort();
    let _ = task.await;
    assert_eq!(engine.open_streams().logs, 0);
}

fn counts_of(events: &[Event], name: &str) -> Vec<Option<EgressCounts>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::EgressCounts { name: n, counts } if n == name => Some(*counts),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn counters_follow_proxy_workspaces_only_and_stop_with_them() {
    let engine = MemoryEngine::new();
    workspace(&engine, "a", 3000, "proxy");
    workspace(&engine, "b", 3001, "proxy");
    workspace(&engine, "iso", 3002, "isolated");
    audit(&engine, "a", &[rec("x.test", true), rec("y.test", false)]);
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(counters(Arc::new(engine.clone()), tx));
    let evs = drain(&mut rx, Duration::from_secs(2)).await;
    assert_eq!(
        counts_of(&evs, "a").last(),
        Some(&Some(EgressCounts {
            requests: 2,
            denied: 1
        }))
    );
    assert_eq!(counts_of(&evs, "b"), [Some(EgressCounts::default())]);
    assert!(counts_of(&evs, "iso").is_empty(), "not a proxy workspace");
    assert_eq!(
        engine.open_streams().logs,
        2,
        "one stream per proxy workspace"
    );
    // Live: a new request is counted.
    audit(&engine, "b", &[rec("z.test", false)]);
    let c = wait_for(&mut rx, 5, "b's counters", |e| match e {
        Event::EgressCounts { name, counts } if name == "b" => *counts,
        _ => None,
    })
    .await;
    assert_eq!((c.requests, c.denied), (1, 1));
    // A proxy workspace comes: followed; one goes: its stream closes.
    workspace(&engine, "c", 3003, "proxy");
    engine.emit("workspace-c", "create");
    wait_for(&mut rx, 5, "c's counters", |e| match e {
        Event::EgressCounts { name, counts } if name == "c" => *counts,
        _ => None,
    })
    .await;
    assert_eq!(engine.open_streams().logs, 3);
    let e: Arc<dyn Engine> = Arc::new(engine.clone());
    e.remove_container("workspace-a.proxy").await.unwrap();
    e.remove_container("workspace-a").await.unwrap();
    let gone = wait_for(&mut rx, 5, "a gone", |e| match e {
        Event::EgressCounts { name, counts } if name == "a" => Some(*counts),
        _ => None,
    })
    .await;
    assert_eq!(gone, None);
    drain(&mut rx, Duration::from_secs(2)).await;
    assert_eq!(engine.open_streams().logs, 2);
    // Stopped: nothing is left open.
    task.abort();
    let _ = task.await;
    tokio::task::yield_now().await;
    let open = engine.open_streams();
    assert_eq!((open.logs, open.events), (0, 0), "{open:?}");
}

#[tokio::test(start_paused = true)]
async fn the_service_follows_the_views_audit_and_stops_when_it_closes() {
    let engine = MemoryEngine::new();
    workspace(&engine, "p", 3000, "proxy");
    audit(&engine, "p", &[rec("a.test", true)]);
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.send(Command::Egress(Some("p".into())));
    h.wait_for(5, "EgressReset", |e| {
        matches!(e, Event::EgressReset { name } if name == "p").then_some(())
    })
    .await;
    let got = h
        .wait_for(5, "records", |e| match e {
            Event::Egress { name, records } if name == "p" => Some(records.clone()),
            _ => None,
        })
        .await;
    assert_eq!(hosts(&got), ["a.test"]);
    // The counters stream and the view's: two.
    drain(&mut h.backend.events, Duration::from_secs(1)).await;
    assert_eq!(engine.open_streams().logs, 2);
    h.send(Command::Egress(None));
    drain(&mut h.backend.events, Duration::from_secs(1)).await;
    assert_eq!(engine.open_streams().logs, 1, "the view's stream closed");
}
