//! Secrets delivered as files (`berth secret`): their names, where a value comes
//! from (berth records only that, never a value), which secrets a workspace gets,
//! and the bytes an exec inside reads to write them. Pure: no I/O here.
use serde::Serialize;
use std::fmt;

/// Where the files are, on the workspace's tmpfs.
pub const DIR: &str = "/run/berth/secrets";
/// A value larger than this is refused (the tmpfs holds 4 MiB in all).
pub const MAX_VALUE: usize = 1 << 20;
/// Longest name (it is a file name inside the workspace).
pub const MAX_NAME: usize = 128;

/// Checks a secret's name: a safe file name of `A-Z a-z 0-9 _ . -`, not starting
/// with a dot (no hidden files, no `.` or `..`), at most [`MAX_NAME`] bytes.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if name.is_empty() || !ok_chars || name.starts_with('.') || name.len() > MAX_NAME {
        return Err(format!(
            "{name:?} is not a valid secret name: use letters, digits, '_', '.' and '-' (not starting with '.'), at most {MAX_NAME} characters; it becomes the file {DIR}/NAME"
        ));
    }
    Ok(())
}

/// Where a secret's value comes from when it is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "from", rename_all = "lowercase")]
pub enum Source {
    /// A variable in the environment of the berth process that delivers it.
    Env(String),
    /// A file on the host (an absolute path), read at delivery.
    File(String),
    /// `sh -c CMD` on the host; its standard output, one trailing newline trimmed.
    Cmd(String),
    /// Given on standard input: kept only in the memory of the berth that read it.
    Stdin,
}

impl Source {
    /// The store's columns: (kind, detail).
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Source::Env(v) => ("env", v),
            Source::File(p) => ("file", p),
            Source::Cmd(c) => ("cmd", c),
            Source::Stdin => ("stdin", ""),
        }
    }

    pub fn from_parts(kind: &str, detail: &str) -> Result<Self, String> {
        Ok(match kind {
            "env" => Source::Env(detail.into()),
            "file" => Source::File(detail.into()),
            "cmd" => Source::Cmd(detail.into()),
            "stdin" => Source::Stdin,
            other => return Err(format!("unknown secret source kind {other:?}")),
        })
    }

    /// Can a later berth read the value again (everything but stdin)?
    pub fn is_kept(&self) -> bool {
        !matches!(self, Source::Stdin)
    }

    /// Checks what a user gave: a variable name, an absolute path, a command.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Source::Env(v) if !super::env::valid_name(v) => Err(format!(
                "--from-env {v:?} is not a variable name (letters, digits and '_', not starting with a digit)"
            )),
            Source::File(p) if !p.starts_with('/') => Err(format!(
                "--from-file {p:?} must be an absolute path (berth makes relative ones absolute)"
            )),
            Source::Cmd(c) if c.trim().is_empty() => {
                Err("--from-cmd needs a command (run with `sh -c` on the host)".into())
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Env(v) => write!(f, "env ${v}"),
            Source::File(p) => write!(f, "file {p}"),
            Source::Cmd(c) => write!(f, "cmd `{c}`"),
            Source::Stdin => f.write_str("stdin (not kept)"),
        }
    }
}

/// A recorded secret: its name, its scope (a workspace, or `None` for a global one
/// that goes only to workspaces created with `--secret NAME`) and its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secret {
    pub name: String,
    pub workspace: Option<String>,
    pub source: Source,
    /// Unix seconds.
    pub created: i64,
    pub updated: i64,
}

impl Secret {
    /// "NAME" or "NAME (workspace WS)", for sentences.
    pub fn title(&self) -> String {
        match &self.workspace {
            Some(w) => format!("{} (workspace {w})", self.name),
            None => self.name.clone(),
        }
    }
}

/// The secrets workspace `ws` gets: those set for it (`--workspace ws`), and the
/// global ones its label names (`create --secret`); one set for it wins over a
/// global one of the same name. Sorted by name.
pub fn for_workspace<'a>(all: &'a [Secret], ws: &str, named: &[String]) -> Vec<&'a Secret> {
    let mut v: Vec<&Secret> = all
        .iter()
        .filter(|s| s.workspace.as_deref() == Some(ws))
        .collect();
    for s in all.iter().filter(|s| s.workspace.is_none()) {
        if named.contains(&s.name) && !v.iter().any(|o| o.name == s.name) {
            v.push(s);
        }
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// Names in `named` that no record gives workspace `ws` (a global secret removed,
/// or never set).
pub fn missing<'a>(all: &[Secret], ws: &str, named: &'a [String]) -> Vec<&'a str> {
    let have = for_workspace(all, ws, named);
    named
        .iter()
        .filter(|n| !have.iter().any(|s| &s.name == *n))
        .map(String::as_str)
        .collect()
}

/// The bytes the delivery script reads: for each value, its length on a line of
/// its own and then the value itself (any bytes). The names go on its command
/// line (they are only file names); values never do.
pub fn frame(values: &[(String, Vec<u8>)]) -> (Vec<String>, Vec<u8>) {
    let mut names = Vec::with_capacity(values.len());
    let mut stdin = Vec::new();
    for (name, value) in values {
        names.push(name.clone());
        stdin.extend_from_slice(format!("{}\n", value.len()).as_bytes());
        stdin.extend_from_slice(value);
    }
    (names, stdin)
}

/// A command's (or standard input's) value: one trailing newline (`\n` or `\r\n`)
/// trimmed, as `echo` and most password tools add one.
pub fn trim_one_newline(mut v: Vec<u8>) -> Vec<u8> {
    if v.last() == Some(&b'\n') {
        v.pop();
        if v.last() == Some(&b'\r') {
            v.pop();
        }
    }
    v
}

/// The label of a workspace created with `--secret A --secret B`: "A,B".
pub fn names_label(names: &[String]) -> String {
    names.join(",")
}

pub fn names_from_label(label: &str) -> Vec<String> {
    label
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect()
}

/// `--secret` names: each checked, each once, in the order given.
pub fn parse_names(raw: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for n in raw {
        let n = n.trim();
        check_name(n).map_err(|e| format!("--secret: {e}"))?;
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secret(name: &str, ws: Option<&str>) -> Secret {
        Secret {
            name: name.into(),
            workspace: ws.map(Into::into),
            source: Source::Env(format!("V_{name}")),
            created: 1,
            updated: 2,
        }
    }

    #[test]
    fn names_are_safe_file_names() {
        for ok in ["API_KEY", "db.password", "a-b", "x", "A1.b_c-d"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", ".", "..", ".hidden", "a/b", "a b", "ключ", "a\nb", "a$b",
        ] {
            let e = check_name(bad).unwrap_err();
            assert!(e.contains("letters, digits"), "{bad}: {e}");
        }
        assert!(check_name(&"a".repeat(MAX_NAME)).is_ok());
        assert!(check_name(&"a".repeat(MAX_NAME + 1)).is_err());
        assert_eq!(
            parse_names(&["A".into(), " B ".into(), "A".into()]).unwrap(),
            ["A", "B"]
        );
        assert!(parse_names(&["../x".into()])
            .unwrap_err()
            .starts_with("--secret:"));
    }

    #[test]
    fn sources_round_trip_and_say_what_they_are() {
        for s in [
            Source::Env("TOKEN".into()),
            Source::File("/run/key".into()),
            Source::Cmd("pass show x".into()),
            Source::Stdin,
        ] {
            let (k, d) = s.parts();
            assert_eq!(Source::from_parts(k, d).unwrap(), s);
        }
        assert_eq!(Source::Stdin.to_string(), "stdin (not kept)");
        assert!(!Source::Stdin.is_kept() && Source::Cmd("x".into()).is_kept());
        assert_eq!(Source::Env("T".into()).to_string(), "env $T");
        assert!(Source::Env("1X".into()).check().is_err());
        assert!(Source::File("rel/path".into()).check().is_err());
        assert!(Source::Cmd("  ".into()).check().is_err());
        assert!(Source::from_parts("value", "x").is_err());
        let j = serde_json::to_value(Source::Cmd("c".into())).unwrap();
        assert_eq!(j, serde_json::json!({"kind": "cmd", "from": "c"}));
    }

    #[test]
    fn a_workspace_gets_its_own_secrets_and_the_global_ones_it_names() {
        let all = vec![
            secret("A", None),
            secret("B", None),
            secret("A", Some("w")),
            secret("C", Some("other")),
            secret("D", Some("w")),
        ];
        let names = |v: Vec<&Secret>| -> Vec<String> { v.iter().map(|s| s.title()).collect() };
        assert_eq!(
            names(for_workspace(&all, "w", &["A".into(), "B".into()])),
            ["A (workspace w)", "B", "D (workspace w)"]
        );
        // Global ones only where asked (least privilege).
        assert_eq!(
            names(for_workspace(&all, "w", &[])),
            ["A (workspace w)", "D (workspace w)"]
        );
        assert_eq!(names(for_workspace(&all, "x", &["B".into()])), ["B"]);
        assert_eq!(missing(&all, "x", &["B".into(), "Z".into()]), ["Z"]);
    }

    #[test]
    fn values_are_framed_by_length_and_trimmed_once() {
        let (names, stdin) = frame(&[("A".into(), b"x\ny".to_vec()), ("B".into(), vec![])]);
        assert_eq!(names, ["A", "B"]);
        assert_eq!(stdin, b"3\nx\ny0\n");
        assert_eq!(trim_one_newline(b"v\n\n".to_vec()), b"v\n");
        assert_eq!(trim_one_newline(b"v\r\n".to_vec()), b"v");
        assert_eq!(trim_one_newline(b"v".to_vec()), b"v");
        assert_eq!(names_from_label(&names_label(&names)), names);
        assert!(names_from_label("").is_empty());
    }

    proptest! {
        #[test]
        fn valid_names_never_leave_the_directory(n in "[A-Za-z0-9_.-]{1,20}") {
            if check_name(&n).is_ok() {
                prop_assert!(!n.contains('/') && !n.starts_with('.'));
            }
        }

        #[test]
        fn frames_decode_back(vals in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4)) {
            let input: Vec<(String, Vec<u8>)> = vals.iter().enumerate().map(|(i, v)| (format!("S{i}"), v.clone())).collect();
            let (_, mut rest) = frame(&input);
            for (_, v) in &input {
                let nl = rest.iter().position(|b| *b == b'\n').unwrap();
                let len: usize = std::str::from_utf8(&rest[..nl]).unwrap().parse().unwrap();
                prop_assert_eq!(&rest[nl + 1..nl + 1 + len], v.as_slice());
                rest.drain(..nl + 1 + len);
            }
            prop_assert!(rest.is_empty());
        }
    }
}
