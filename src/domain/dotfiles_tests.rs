use super::*;
use proptest::prelude::*;

fn script(path: &str, executable: bool, first: &str) -> Script {
    Script {
        path: path.into(),
        executable,
        first_line: first.into(),
    }
}

fn listing(top: &[(&str, Kind)], scripts: &[Script]) -> Listing {
    Listing {
        top: top.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
        scripts: scripts.to_vec(),
    }
}

const F: Kind = Kind::File { executable: false };
const X: Kind = Kind::File { executable: true };

fn path_of(i: &Install) -> String {
    match i {
        Install::Script { path, .. } => path.clone(),
        Install::Make { makefile } => format!("make:{makefile}"),
        Install::Link(n) => format!("link:{}", n.join(",")),
        Install::Nothing => "nothing".into(),
    }
}

#[test]
fn resolution_follows_the_documented_order() {
    // Every rule present: each one removed in turn reveals the next.
    let all = [
        script("install.sh", true, "#!/bin/sh"),
        script("setup.sh", true, "#!/bin/sh"),
        script("bootstrap.sh", true, "#!/bin/sh"),
        script("script/setup", true, "#!/bin/sh"),
    ];
    let top = [
        ("Makefile", F),
        (".bashrc", F),
        (".git", Kind::Dir),
        ("README.md", F),
    ];
    let want = [
        "install.sh",
        "setup.sh",
        "bootstrap.sh",
        "script/setup",
        "make:Makefile",
        "link:.bashrc",
    ];
    for (skip, expected) in want.iter().enumerate() {
        let scripts: Vec<Script> = all.iter().skip(skip).cloned().collect();
        let top: Vec<_> = if skip > 4 {
            top.iter()
                .filter(|(n, _)| *n != "Makefile")
                .cloned()
                .collect()
        } else {
            top.to_vec()
        };
        let got = resolve(None, &listing(&top, &scripts)).unwrap();
        assert_eq!(path_of(&got), *expected);
    }
    assert_eq!(
        resolve(None, &listing(&[("README", F)], &[])).unwrap(),
        Install::Nothing
    );
}

#[test]
fn the_explicit_script_wins_and_a_missing_one_is_named() {
    let l = listing(
        &[("Makefile", F)],
        &[
            script("install.sh", true, ""),
            script("my/inst", false, "#!/bin/bash -e"),
        ],
    );
    let got = resolve(Some("my/inst"), &l).unwrap();
    assert_eq!(
        got,
        Install::Script {
            path: "my/inst".into(),
            argv: vec!["/bin/bash".into(), "-e".into(), "./my/inst".into()],
            explicit: true,
        }
    );
    let err = resolve(Some("nope.sh"), &l).unwrap_err();
    assert!(
        err.contains("\"nope.sh\"") && err.contains("--dotfiles-script"),
        "{err}"
    );
    assert_eq!(candidates(Some("a")), vec!["a".to_string()]);
    assert_eq!(candidates(None).len(), SCRIPTS.len());
}

#[test]
fn scripts_run_by_mode_then_shebang() {
    assert_eq!(
        runner(&script("install.sh", true, "")),
        vec!["./install.sh"]
    );
    assert_eq!(
        runner(&script("setup.sh", false, "#!/bin/bash")),
        vec!["/bin/bash", "./setup.sh"]
    );
    assert_eq!(
        runner(&script("x", false, "#! /usr/bin/env  python3 -u")),
        vec!["/usr/bin/env", "python3 -u", "./x"]
    );
    assert_eq!(runner(&script("x", false, "echo hi")), vec!["sh", "./x"]);
    assert_eq!(runner(&script("x", false, "#!")), vec!["sh", "./x"]);
    assert_eq!(runner(&script("/opt/i", true, "")), vec!["/opt/i"]);
}

#[test]
fn only_home_dotfiles_are_linked() {
    for yes in [
        ".bashrc",
        ".config",
        ".vimrc",
        ".zshrc",
        ".tmux.conf",
        ".ssh",
    ] {
        assert!(is_dotfile(yes), "{yes}");
    }
    for no in [
        ".",
        "..",
        ".git",
        ".github",
        ".gitignore",
        ".gitmodules",
        "bashrc",
        "README",
        "a.b",
        ".travis.yml",
    ] {
        assert!(!is_dotfile(no), "{no}");
    }
    let l = listing(
        &[
            (".zshrc", F),
            (".bashrc", X),
            (".config", Kind::Dir),
            (".vim", Kind::Symlink),
            (".fifo", Kind::Other),
            (".git", Kind::Dir),
            (".gitignore", F),
            ("README", F),
        ],
        &[],
    );
    assert_eq!(
        resolve(None, &l).unwrap(),
        Install::Link(vec![
            ".bashrc".into(),
            ".config".into(),
            ".vim".into(),
            ".zshrc".into()
        ])
    );
}

#[test]
fn a_makefile_directory_is_not_a_makefile() {
    let l = listing(&[("Makefile", Kind::Dir), (".x", F)], &[]);
    assert_eq!(path_of(&resolve(None, &l).unwrap()), "link:.x");
    let l = listing(&[("GNUmakefile", F)], &[]);
    assert_eq!(path_of(&resolve(None, &l).unwrap()), "make:GNUmakefile");
}

#[test]
fn targets_live_under_the_home() {
    let h = "/home/workspace";
    assert_eq!(
        target_path("~/.dotfiles", h).unwrap(),
        "/home/workspace/.dotfiles"
    );
    assert_eq!(target_path("dots/", h).unwrap(), "/home/workspace/dots");
    assert_eq!(target_path("./a/b", h).unwrap(), "/home/workspace/a/b");
    assert_eq!(target_path("/opt/dots", h).unwrap(), "/opt/dots");
    for bad in [
        "~",
        "",
        ".",
        "~/",
        "/",
        "~root/x",
        "../x",
        "~/a/../b",
        "/home/workspace",
    ] {
        assert!(target_path(bad, h).is_err(), "{bad:?}");
    }
}

#[test]
fn listings_parse() {
    let out = b"T\td\t.config\0T\tx\t.bashrc\0T\tf\tMakefile\0T\tl\t.vim\0T\to\t.p\0T\tf\ta\tb\0S\tx\tinstall.sh\t#!/bin/sh\n\0S\t-\tscript/setup\t\0junk\0\0";
    let l = parse_listing(out);
    assert_eq!(
        l.top,
        vec![
            (".config".to_string(), Kind::Dir),
            (".bashrc".to_string(), X),
            ("Makefile".to_string(), F),
            (".vim".to_string(), Kind::Symlink),
            (".p".to_string(), Kind::Other),
            ("a\tb".to_string(), F),
        ]
    );
    assert_eq!(
        l.scripts,
        vec![
            script("install.sh", true, "#!/bin/sh"),
            script("script/setup", false, "")
        ]
    );
}

proptest! {
    /// Whatever the clone holds, the answer is one of the rules, and linking never
    /// touches the repository's metadata or anything outside its top level.
    #[test]
    fn resolution_is_total_and_links_only_dotfiles(
        names in proptest::collection::vec("[.a-zA-Z/]{1,8}", 0..12),
        has_script in any::<bool>(),
    ) {
        let top: Vec<(String, Kind)> = names.iter().map(|n| (n.clone(), F)).collect();
        let scripts = if has_script { vec![script("bootstrap.sh", true, "")] } else { vec![] };
        let l = Listing { top, scripts };
        match resolve(None, &l).unwrap() {
            Install::Script { path, .. } => prop_assert!(has_script && path == "bootstrap.sh"),
            Install::Make { .. } => prop_assert!(!has_script),
            Install::Link(n) => {
                prop_assert!(!has_script);
                for x in n {
                    prop_assert!(x.starts_with('.') && !x.contains('/') && !NOT_DOTFILES.contains(&x.as_str()));
                }
            }
            Install::Nothing => prop_assert!(!has_script),
        }
    }

    #[test]
    fn targets_never_escape(t in "[~./a-z]{0,12}") {
        if let Ok(p) = target_path(&t, "/home/workspace") {
            prop_assert!(p.starts_with('/') && !p.split('/').any(|c| c == ".."));
            prop_assert!(p != "/home/workspace" && p != "/");
        }
    }
}
