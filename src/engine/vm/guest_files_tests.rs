use super::*;

#[test]
fn only_plain_files_in_etc_berth_are_mirrored() {
    let d = Path::new("/vm/machines/abc");
    assert_eq!(
        mirror_path(d, "/etc/berth/provisioned"),
        Some(PathBuf::from("/vm/machines/abc/etc-berth/provisioned"))
    );
    for p in [
        "/etc/berth/",
        "/etc/berth/a/b",
        "/etc/berth/..",
        "/etc/berth/.x",
        "/etc/passwd",
    ] {
        assert_eq!(mirror_path(d, p), None, "{p}");
    }
}

#[test]
fn the_mirror_reads_back_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("etc-berth/provisioned");
    assert_eq!(read_mirror(&f, 10).unwrap(), None);
    write_mirror(&f, b"0123456789ab\n", 0o644).unwrap();
    assert_eq!(read_mirror(&f, 4).unwrap().unwrap(), b"0123");
}

#[test]
fn stat_output_parses() {
    let s = parse_stat("81a4 12\n").unwrap();
    assert_eq!((s.kind, s.size, s.mode), (Kind::File, 12, 0o644));
    let s = parse_stat("41ed 4096\n").unwrap();
    assert_eq!((s.kind, s.mode), (Kind::Dir, 0o755));
    let s = parse_stat("a1ff 7\n/target\n").unwrap();
    assert_eq!((s.kind, s.link_target.as_str()), (Kind::Symlink, "/target"));
    assert!(parse_stat("garbage").is_none());
}

#[test]
fn paths_split_into_dir_and_name() {
    assert_eq!(split_path("/a/b"), ("/a".into(), "b".into()));
    assert_eq!(split_path("/a/b/"), ("/a".into(), "b".into()));
    assert_eq!(split_path("/a"), ("/".into(), "a".into()));
    assert_eq!(split_path("/"), ("/".into(), ".".into()));
}

#[tokio::test]
async fn ssh_stderr_is_read_to_its_end_and_its_tail_kept() {
    // More than a pipe holds, so a reader that stops early would stall ssh.
    let mut text = "warning: tar: file changed as we read it\n".repeat(2000);
    text.push_str("the last line\n");
    let tail = tail_of(text.as_bytes()).await;
    assert_eq!(tail.len(), STDERR_KEPT);
    assert!(tail.ends_with("the last line\n"), "{tail}");
    assert_eq!(tail_of(&b"short"[..]).await, "short");
}
