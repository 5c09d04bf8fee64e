//! Tests of `domain::profiles`.
use super::*;

#[test]
fn every_built_in_parses_and_is_named_by_its_file() {
    for (name, text) in BUILT_IN {
        let p = parse(name, text, "built-in").unwrap_or_else(|e| panic!("{e}"));
        assert!(!p.description.is_empty(), "{name} has no description");
    }
    assert_eq!(built_in().len(), BUILT_IN.len());
}

#[test]
fn built_ins_have_what_the_issue_asks() {
    let s = ProfileSet::default();
    let get = |n: &str| s.get(n).unwrap().clone();
    let clean = get("clean");
    assert_eq!(
        clean.forward,
        ForwardDefaults {
            git: Some(false),
            gh: Some(false),
            ssh: Some(false)
        }
    );
    assert!(!clean.dotfiles && !clean.env_passthrough && !clean.needs_image());
    // The base image carries general's tools: a default create builds nothing.
    assert!(!get("general").needs_image());
    let py = get("python");
    assert!(py.packages.contains(&"python3-venv".to_string()));
    assert_eq!(py.env["VIRTUAL_ENV"], "/home/workspace/.venv");
    assert!(py.env["PATH"].starts_with("/home/workspace/.venv/bin:"));
    assert!(py.build.iter().any(|b| b.contains("uv")));
    assert!(py.setup.iter().any(|c| c.contains("venv")));
    assert!(get("node").packages.contains(&"npm".to_string()));
    assert!(get("node")
        .build
        .iter()
        .any(|b| b.contains("corepack enable")));
    for p in ["cargo", "rustc", "pkg-config", "libssl-dev"] {
        assert!(get("rust").packages.contains(&p.to_string()), "{p}");
    }
    assert!(get("go").packages.contains(&"golang-go".to_string()));
}

#[test]
fn errors_name_file_line_and_field() {
    let cases = [
        (
            "description = \"x\"\npackages = [\"ok\", \"rm -rf\"]\n",
            2,
            "packages",
        ),
        ("descriptio = \"x\"\n", 1, "unknown field `descriptio`"),
        ("[env]\n\"A-B\" = \"x\"\n", 2, "env"),
        ("\n[forward]\ngit = \"yes\"\n", 3, "invalid type"),
        ("build = [\"\"]\n", 1, "build"),
        ("dotfiles = 1\n", 1, "invalid type"),
    ];
    for (text, line, want) in cases {
        let e = parse("mine", text, "/p/mine.toml").unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.to_string().starts_with("/p/mine.toml: line"), "{e}");
        assert!(e.msg.contains(want), "{text:?}: {e}");
    }
    assert!(parse("Bad_Name", "", "/p/Bad_Name.toml").is_err());
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let e = ProfileSet::default().get("pyhton").unwrap_err();
    assert!(
        e.contains("\"pyhton\"") && e.contains("python") && e.contains("try-repo"),
        "{e}"
    );
}

#[test]
fn a_user_profile_replaces_a_built_in_of_its_name() {
    let mut s = ProfileSet::default();
    s.insert(parse("python", "description = \"mine\"\n", "/u/python.toml").unwrap());
    let p = s.get("python").unwrap();
    assert_eq!(
        (p.description.as_str(), p.source.as_str()),
        ("mine", "/u/python.toml")
    );
    assert!(p.dotfiles && p.env_passthrough && p.forward == ForwardDefaults::default());
}

#[test]
fn the_hash_follows_definition_and_base() {
    let p = parse("x", "packages = [\"jq\"]\n", "f").unwrap();
    let h = p.image_hash("b:1", "sha256:aa", true);
    assert_eq!(h.len(), 16);
    assert_eq!(h, p.image_hash("b:1", "sha256:aa", true), "stable");
    assert_ne!(h, p.image_hash("b:1", "sha256:bb", true), "base id");
    let q = parse("x", "packages = [\"jq\", \"tree\"]\n", "f").unwrap();
    assert_ne!(h, q.image_hash("b:1", "sha256:aa", true), "definition");
    // Where it came from or its description does not change the image.
    let r = parse("x", "description = \"d\"\npackages = [\"jq\"]\n", "g").unwrap();
    assert_eq!(h, r.image_hash("b:1", "sha256:aa", true));
    assert_eq!(p.image_tag(&h), format!("berth/profile-x:{h}"));
}

#[test]
fn the_dockerfile_escapes_and_trusts_the_ca_during_the_build_only() {
    let p = parse(
        "x",
        "packages = [\"jq\"]\nbuild = [\"echo \\\"a\\\"\\necho b\"]\n[env]\nA = \"1 \\\"q\\\" $PATH\"\nB = \"it's\"\n",
        "f",
    )
    .unwrap();
    let d = p.dockerfile("base:1", true);
    assert!(d.starts_with("# berth profile x"));
    assert!(d.contains("\nFROM base:1\nUSER root\n"));
    assert!(d.contains("install -y --no-install-recommends jq &&"));
    assert!(
        d.contains(r#"RUN ["/bin/sh","-ec","echo \"a\"\necho b"]"#),
        "{d}"
    );
    assert!(d.contains("ENV A=\"1 \\\"q\\\" $PATH\"\n"), "{d}");
    assert!(d.contains("ARG SSL_CERT_FILE=/tmp/berth-build-ca.crt\n"));
    assert!(
        !d.contains("ENV SSL_CERT_FILE"),
        "the CA stays out of the image's env"
    );
    assert!(d.contains("rm -f /tmp/berth-build-ca.crt"));
    assert!(d.ends_with("USER workspace\n"));
    assert!(d.lines().all(|l| !l.is_empty()));
    let plain = p.dockerfile("base:1", false);
    assert!(!plain.contains("berth-build-ca"));
}

#[test]
fn detection_follows_the_markers_in_order() {
    assert_eq!(detect(["README.md", "Cargo.toml", "package.json"]), "rust");
    assert_eq!(detect(["pyproject.toml", "package.json"]), "python");
    assert_eq!(detect(["package.json"]), "node");
    assert_eq!(detect(["go.mod", "Makefile"]), "go");
    assert_eq!(detect(["README"]), "general");
    assert_eq!(detect(["src/Cargo.toml"]), "general", "top level only");
    assert_eq!(detect([]), "general");
}

proptest::proptest! {
    #[test]
    fn valid_names_make_valid_tags(name in "[a-z][a-z0-9-]{0,39}") {
        proptest::prop_assert!(valid_name(&name));
        let p = parse(&name, "", "f").unwrap();
        let tag = p.image_tag("0123456789abcdef");
        proptest::prop_assert!(tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-/:".contains(c)));
    }

    #[test]
    fn env_values_never_break_the_dockerfile(v in "[ -~]{0,40}") {
        let text = format!("[env]\nK = {}\n", toml::Value::String(v.clone()));
        let p = parse("x", &text, "f").unwrap();
        let d = p.dockerfile("b", false);
        let line = d.lines().find(|l| l.starts_with("ENV K=")).unwrap();
        // The value is one double-quoted string with its quotes and backslashes escaped.
        let inner = &line["ENV K=\"".len()..line.len() - 1];
        proptest::prop_assert_eq!(inner.replace("\\\\", "\u{1}").replace("\\\"", "\"").replace('\u{1}', "\\"), v);
    }
}
