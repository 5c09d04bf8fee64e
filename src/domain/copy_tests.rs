use super::*;
use proptest::prelude::*;

fn n(s: &str) -> WorkspaceName {
    WorkspaceName::parse(s).unwrap()
}

#[test]
fn one_side_names_a_workspace() {
    assert_eq!(
        parse("./a.txt", "ws:notes").unwrap(),
        CopyRequest::In {
            from: Local::Path("./a.txt".into()),
            name: n("ws"),
            to: "/home/workspace/notes".into()
        }
    );
    assert_eq!(
        parse("ws:/etc/hosts", "-").unwrap(),
        CopyRequest::Out {
            name: n("ws"),
            from: "/etc/hosts".into(),
            to: Local::Stdio
        }
    );
    assert_eq!(
        parse("-", "ws:").unwrap(),
        CopyRequest::In {
            from: Local::Stdio,
            name: n("ws"),
            to: "/home/workspace".into()
        }
    );
    // A colon after a slash, or a path starting with . or /, is the host's.
    assert!(matches!(
        parse("dir/a:b", "ws:x").unwrap(),
        CopyRequest::In { from: Local::Path(p), .. } if p == "dir/a:b"
    ));
    assert!(matches!(
        parse("ws:x", "./c:d").unwrap(),
        CopyRequest::Out { to: Local::Path(p), .. } if p == "./c:d"
    ));
}

#[test]
fn bad_pairs_say_what_to_write() {
    let e = |a, b| parse(a, b).unwrap_err().to_string();
    assert!(e("a", "b").contains("NAME:PATH"));
    assert!(e("-", "-").contains("both be -"));
    assert!(e("a:x", "b:y").contains("copy to the host first"));
    assert!(e("Bad:x", "y").contains("./Bad:x"));
    assert!(e("", "ws:x").contains("empty path"));
}

#[test]
fn trailing_markers_are_read() {
    let p = PathArg::new("/a/b/.");
    assert_eq!((p.path.as_str(), p.contents, p.slash), ("/a/b", true, true));
    let p = PathArg::new("a/b/");
    assert_eq!((p.path.as_str(), p.contents, p.slash), ("a/b", false, true));
    let p = PathArg::new(".");
    assert_eq!((p.path.as_str(), p.contents), (".", true));
    assert_eq!(PathArg::new("/").path, "/");
    assert_eq!(PathArg::new("x").parent(), ".");
    assert_eq!(PathArg::new("/x").parent(), "/");
    assert_eq!(PathArg::new("/a/x").basename().as_deref(), Some("x"));
    assert_eq!(PathArg::new("..").basename(), None);
}

fn placed(src: &str, kind: Kind, dst: &str, at: Dest) -> Result<(String, Option<String>), String> {
    place(&PathArg::new(src), kind, &PathArg::new(dst), at)
        .map(|p| (p.dir, p.root))
        .map_err(|e| e.to_string())
}

const MISSING: Dest = Dest::Missing { parent_dir: true };

#[test]
fn docker_cp_rules_for_a_file() {
    let s = |d: &str| Some(d.to_string());
    assert_eq!(
        placed("/h/a.txt", Kind::File, "/w/b.txt", MISSING),
        Ok(("/w".into(), s("b.txt")))
    );
    assert_eq!(
        placed("/h/a.txt", Kind::File, "/w/b.txt", Dest::NotDir),
        Ok(("/w".into(), s("b.txt")))
    );
    assert_eq!(
        placed("/h/a.txt", Kind::File, "/w", Dest::Dir),
        Ok(("/w".into(), s("a.txt")))
    );
    assert!(placed("/h/a.txt", Kind::File, "/w/new/", MISSING)
        .unwrap_err()
        .contains("does not exist"));
    assert!(placed("/h/a.txt/", Kind::File, "/w", Dest::Dir)
        .unwrap_err()
        .contains("not a directory"));
    assert!(placed("/h/a.txt", Kind::File, "/w/f/", Dest::NotDir)
        .unwrap_err()
        .contains("not a directory"));
    assert!(placed(
        "/h/a.txt",
        Kind::File,
        "/nope/b",
        Dest::Missing { parent_dir: false }
    )
    .unwrap_err()
    .contains("/nope does not exist"));
    // A symlink is copied as a link, like a file.
    assert_eq!(
        placed("/h/l", Kind::Symlink, "/w", Dest::Dir),
        Ok(("/w".into(), s("l")))
    );
}

#[test]
fn docker_cp_rules_for_a_directory() {
    let s = |d: &str| Some(d.to_string());
    assert_eq!(
        placed("/h/src", Kind::Dir, "/w/new", MISSING),
        Ok(("/w".into(), s("new")))
    );
    assert_eq!(
        placed("/h/src/", Kind::Dir, "/w/new/", MISSING),
        Ok(("/w".into(), s("new")))
    );
    assert_eq!(
        placed("/h/src", Kind::Dir, "/w", Dest::Dir),
        Ok(("/w".into(), s("src")))
    );
    assert_eq!(
        placed("/h/src/.", Kind::Dir, "/w", Dest::Dir),
        Ok(("/w".into(), None))
    );
    assert_eq!(
        placed(".", Kind::Dir, "/w", Dest::Dir),
        Ok(("/w".into(), None))
    );
    assert!(placed("/h/src", Kind::Dir, "/w/f", Dest::NotDir)
        .unwrap_err()
        .contains("cannot copy a directory onto the file"));
    assert!(placed("..", Kind::Dir, "/w", Dest::Dir)
        .unwrap_err()
        .contains("no name"));
}

#[test]
fn the_target_is_the_copys_top_path() {
    let p = |dir: &str, root: Option<&str>| Placement {
        dir: dir.into(),
        root: root.map(str::to_string),
        fresh: true,
    };
    assert_eq!(p("/w", Some("x")).target(), "/w/x");
    assert_eq!(p("/", Some("x")).target(), "/x");
    assert_eq!(p("/w", None).target(), "/w");
}

#[test]
fn archive_entries_stay_below_the_destination() {
    assert_eq!(below_root(Path::new("x/a/b")).unwrap(), Path::new("a/b"));
    assert_eq!(below_root(Path::new("x/")).unwrap(), Path::new(""));
    assert_eq!(below_root(Path::new("./x/a")).unwrap(), Path::new("a"));
    assert!(below_root(Path::new("x/../../etc")).is_err());
    assert!(safe_relative(Path::new("/etc/passwd")).is_err());
    assert_eq!(
        safe_relative(Path::new("./a/./b")).unwrap(),
        Path::new("a/b")
    );
}

#[test]
fn byte_counts_read_well() {
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(1536), "1.5 KiB");
    assert_eq!(human_bytes(200 * 1024 * 1024), "200.0 MiB");
}

proptest! {
    #[test]
    fn a_safe_path_never_escapes(parts in proptest::collection::vec("[a-z.]{1,3}|\\.\\.|/", 0..8)) {
        let raw = parts.join("/");
        if let Ok(p) = safe_relative(Path::new(&raw)) {
            prop_assert!(p.components().all(|c| matches!(c, Component::Normal(_))));
        }
    }

    #[test]
    fn relative_workspace_paths_start_at_home(p in "[a-z][a-z/]{0,12}") {
        prop_assert!(workspace_path(&p).starts_with("/home/workspace/"));
    }
}
