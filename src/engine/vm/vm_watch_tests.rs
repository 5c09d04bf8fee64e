use super::*;

fn seen(items: &[(&str, bool)]) -> Seen {
    items
        .iter()
        .map(|(c, r)| (format!("workspace-{c}"), (c.to_string(), *r)))
        .collect()
}

#[test]
fn diff_says_create_start_die_destroy() {
    let acts = |b: &[(&str, bool)], a: &[(&str, bool)]| {
        diff(&seen(b), &seen(a), 7)
            .into_iter()
            .map(|e| format!("{}:{}", e.name, e.action))
            .collect::<Vec<_>>()
    };
    assert_eq!(acts(&[], &[("a", false)]), ["a:create"]);
    assert_eq!(acts(&[], &[("a", true)]), ["a:create", "a:start"]);
    assert_eq!(acts(&[("a", false)], &[("a", true)]), ["a:start"]);
    assert_eq!(acts(&[("a", true)], &[("a", false)]), ["a:die"]);
    assert_eq!(acts(&[("a", true)], &[]), ["a:die", "a:destroy"]);
    assert_eq!(acts(&[("a", false)], &[]), ["a:destroy"]);
    assert!(acts(&[("a", true)], &[("a", true)]).is_empty());
    let e = &diff(&seen(&[]), &seen(&[("b", false)]), 7)[0];
    assert_eq!((e.container.as_str(), e.time), ("workspace-b", 7));
}

#[test]
fn tails_and_stamps() {
    let t = b"one\ntwo\nthree\n";
    assert_eq!(tail_lines(t, None), t);
    assert_eq!(tail_lines(t, Some(2)), b"two\nthree\n");
    assert_eq!(tail_lines(t, Some(5)), t);
    assert_eq!(tail_lines(t, Some(0)), b"");
    assert_eq!(tail_lines(b"a\nb", Some(1)), b"b");
    assert_eq!(stamp_lines(b"x\ny", "T"), b"T x\nT y");
}

#[tokio::test]
async fn console_logs_tail_then_follow() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("console.log");
    std::fs::write(&f, "a\nb\nc\n").unwrap();
    let opts = LogOptions {
        follow: false,
        tail: Some(2),
        timestamps: false,
    };
    let all: Vec<_> = logs(f.clone(), opts).collect().await;
    assert_eq!(all.len(), 1);
    assert!(matches!(&all[0], Ok(Output::Stdout(b)) if b == b"b\nc\n"));
    let mut follow = logs(
        f.clone(),
        LogOptions {
            follow: true,
            tail: Some(1),
            timestamps: true,
        },
    );
    let first = follow.next().await.unwrap().unwrap();
    let Output::Stdout(b) = first else { panic!() };
    let s = String::from_utf8(b).unwrap();
    assert!(s.ends_with(" c\n") && s.contains('T'), "{s}");
    std::fs::write(&f, "a\nb\nc\nd\n").unwrap();
    let Output::Stdout(b) = follow.next().await.unwrap().unwrap() else {
        panic!()
    };
    assert!(String::from_utf8(b).unwrap().ends_with(" d\n"));
    // A missing console (never booted) is an empty log, not an error.
    let none: Vec<_> = logs(dir.path().join("none"), opts).collect().await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_console_past_one_read_is_tailed_from_its_end_and_read_whole() {
    // The console is appended to across boots: it outgrows one read.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("console.log");
    let line = "x".repeat(1023) + "\n";
    let mut text = line.repeat(9 * 1024); // 9 MiB
    text.push_str("last boot\n");
    std::fs::write(&f, &text).unwrap();
    let opts = |tail| LogOptions {
        follow: false,
        tail,
        timestamps: false,
    };
    let got: Vec<u8> = logs(f.clone(), opts(Some(1)))
        .map(|o| match o.unwrap() {
            Output::Stdout(b) | Output::Stderr(b) => b,
        })
        .concat()
        .await;
    assert_eq!(got, b"last boot\n");
    let all: Vec<u8> = logs(f, opts(None))
        .map(|o| match o.unwrap() {
            Output::Stdout(b) | Output::Stderr(b) => b,
        })
        .concat()
        .await;
    assert_eq!(all.len(), text.len());
}
