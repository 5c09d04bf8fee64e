//! Environment for a workspace: `--env K=V` (public: it goes into the container's
//! config like `docker run -e`) and host variables passed through (secrets: only their
//! names are ever recorded; the values travel on a tmpfs inside the workspace).
use std::collections::BTreeSet;
use std::fmt;

/// Patterns `--env-passthrough auto` matches by default (`[env] patterns` replaces them).
pub const DEFAULT_PATTERNS: &[&str] = &[
    "*_API_KEY",
    "*_TOKEN",
    "ANTHROPIC_*",
    "OPENAI_*",
    "AZURE_OPENAI_*",
    "GOOGLE_*",
    "GEMINI_*",
    "OLLAMA_*",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// Host variables `--env-passthrough all` never passes: they describe the host, its
/// session or its terminal, not the work, or they are host paths (toolchains, CA
/// bundles, a git directory) that would break the workspace's own (patterns, like
/// [`DEFAULT_PATTERNS`]).
pub const NEVER_PASSED: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "USER",
    "LOGNAME",
    "PWD",
    "OLDPWD",
    "TERM",
    "TERMINFO",
    "COLORTERM",
    "TERM_PROGRAM*",
    "SHLVL",
    "_",
    "HOSTNAME",
    "MAIL",
    "TMPDIR",
    "TMUX*",
    "STY",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "XDG_*",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "SSH_*",
    "GPG_AGENT_INFO",
    "DOCKER_*",
    "BERTH_*",
    "LS_COLORS",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "LD_*",
    "MOTD_SHOWN",
    "CARGO_*",
    "RUSTUP_*",
    // The session and the terminal.
    "COLUMNS",
    "LINES",
    "SUDO_*",
    "XAUTHORITY",
    "SESSION_MANAGER",
    "GPG_TTY",
    "KRB5CCNAME",
    "INVOCATION_ID",
    "JOURNAL_STREAM",
    "WINDOWID",
    "VTE_VERSION",
    // Host paths: toolchains, CA bundles, a repository.
    "MANPATH",
    "INFOPATH",
    "VIRTUAL_ENV",
    "CONDA_*",
    "PYENV_*",
    "PYTHONPATH",
    "PYTHONHOME",
    "NVM_*",
    "GOROOT",
    "GOPATH",
    "JAVA_HOME",
    "PKG_CONFIG_PATH",
    "SSL_CERT_*",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "GIT_SSL_CAINFO",
    "AWS_CA_BUNDLE",
    "PIP_CERT",
    "NIX_SSL_CERT_FILE",
    "GIT_DIR",
    "GIT_SSH*",
    "GIT_CONFIG*",
    "BASH_ENV",
    "ENV",
    "PROMPT_COMMAND",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "IFS",
    "CDPATH",
    "HIST*",
    "KUBECONFIG",
    "NPM_CONFIG_PREFIX",
    "GOBIN",
    "GOFLAGS",
    "UV_*",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PERL5LIB",
    "LESSOPEN",
    "LESSCLOSE",
    "DYLD_*",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_TEMPLATE_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
];

/// Which host variables a create passes through.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Passthrough {
    /// Names matching the configured patterns.
    #[default]
    Auto,
    /// Everything but [`NEVER_PASSED`].
    All,
    None,
    /// Exactly these names.
    Names(Vec<String>),
}

impl std::str::FromStr for Passthrough {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(Self::Auto),
            "all" => Ok(Self::All),
            "none" => Ok(Self::None),
            "" => Err("empty: use auto, all, none or a comma-separated list of names".into()),
            list => {
                let names: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(String::from)
                    .collect();
                if let Some(bad) = names.iter().find(|n| !valid_name(n)) {
                    return Err(format!(
                        "{bad:?} is not a variable name (letters, digits and _, not starting with a digit); use auto, all, none or a comma-separated list of names"
                    ));
                }
                Ok(Self::Names(names))
            }
        }
    }
}

impl fmt::Display for Passthrough {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::All => f.write_str("all"),
            Self::None => f.write_str("none"),
            Self::Names(n) => f.write_str(&n.join(",")),
        }
    }
}

/// Is `name` a portable environment variable name?
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Shell-style glob with `*` only (what the patterns need).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    if !name.ends_with(last) {
        return false;
    }
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The names of the host's variables (`host`, names only) that `mode` passes
/// through, sorted. For an explicit list, every listed name is kept, present or not
/// (a start says which it could not find). `public` names (given with `--env`) win.
pub fn select<'a>(
    mode: &Passthrough,
    patterns: &[String],
    host: impl IntoIterator<Item = &'a str>,
    public: &BTreeSet<String>,
) -> Vec<String> {
    let host: BTreeSet<&str> = host.into_iter().filter(|n| valid_name(n)).collect();
    let picked: BTreeSet<String> = match mode {
        Passthrough::None => BTreeSet::new(),
        Passthrough::Names(n) => n.iter().cloned().collect(),
        Passthrough::Auto => host
            .iter()
            .filter(|n| patterns.iter().any(|p| glob_match(p, n)))
            .map(|n| n.to_string())
            .collect(),
        Passthrough::All => host
            .iter()
            .filter(|n| !NEVER_PASSED.iter().any(|p| glob_match(p, n)))
            .map(|n| n.to_string())
            .collect(),
    };
    picked.into_iter().filter(|n| !public.contains(n)).collect()
}

/// GitHub tokens: not passed by `auto` or `all` when gh forwarding is off (a list
/// that names one still passes it).
pub const GITHUB_TOKENS: &[&str] = &[
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
];

/// Parses `K=V` (`--env`).
pub fn parse_assignment(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("--env {s:?}: expected NAME=VALUE"))?;
    if !valid_name(k) {
        return Err(format!(
            "--env {k:?}: not a variable name (letters, digits and _, not starting with a digit)"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Single-quotes `v` for a POSIX shell.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// An env file sourced by the workspace's shells. Every name is exported only
/// when not already set, so `berth exec --env` and a user's own export still win;
/// `PATH` is the exception (login shells reset it before this file is read).
pub fn env_file(vars: &[(String, String)]) -> String {
    let mut out = String::from("# written by berth; sourced by /etc/berth/env.sh\n");
    for (k, v) in vars.iter().filter(|(k, _)| valid_name(k)) {
        if k == "PATH" {
            out.push_str(&format!("export PATH={}\n", shell_quote(v)));
        } else {
            out.push_str(&format!(
                "[ -n \"${{{k}+x}}\" ] || export {k}={}\n",
                shell_quote(v)
            ));
        }
    }
    out
}

/// The loader every kind of shell in a workspace sources (see assets/image/env.sh).
pub const LOADER: &str = "/etc/berth/env.sh";

/// `cmd` wrapped so the workspace's environment is loaded first (`berth exec`): a
/// POSIX shell sources [`LOADER`] when it is there, then `exec`s the command with its
/// arguments untouched. The loader only sets names that are unset, so variables
/// given to the exec itself (`berth exec --env`) win.
pub fn with_loader(cmd: Vec<String>) -> Vec<String> {
    with_loader_in(cmd, None)
}

/// [`with_loader`], starting in `dir` (the workspace's default directory) when it
/// exists, else where the exec starts (the home), saying so on stderr.
pub fn with_loader_in(cmd: Vec<String>, dir: Option<&str>) -> Vec<String> {
    let load = format!("[ -r {LOADER} ] && . {LOADER}; exec \"$@\"");
    let mut out = vec!["/bin/sh".to_string(), "-c".into()];
    match dir {
        None => out.extend([load, "berth-exec".into()]),
        Some(d) => out.extend([
            format!(
                "cd \"$1\" 2>/dev/null || echo \"berth: $1 does not exist; running in $PWD\" >&2; shift; {load}"
            ),
            "berth-exec".into(),
            d.into(),
        ]),
    }
    out.extend(cmd);
    out
}

#[cfg(test)]
#[test]
fn the_exec_wrapper_starts_in_the_default_directory_or_says_it_is_gone() {
    let run = |dir: &str| {
        let mut argv = with_loader_in(vec!["pwd".into()], Some(dir));
        let prog = argv.remove(0);
        std::process::Command::new(prog)
            .args(argv)
            .current_dir("/")
            .output()
            .unwrap()
    };
    let o = run("/tmp");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "/tmp\n");
    let o = run("/no/such/dir");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "/\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such/dir does not exist"));
}

/// A comma-separated list of names, for a label (names only, never values).
pub fn names_label(names: &[String]) -> String {
    names.join(",")
}

/// The names in a label written by [`names_label`].
pub fn names_from_label(label: &str) -> Vec<String> {
    label
        .split(',')
        .map(str::trim)
        .filter(|n| valid_name(n))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pats() -> Vec<String> {
        DEFAULT_PATTERNS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn globs() {
        assert!(glob_match("*_API_KEY", "OPENAI_API_KEY"));
        assert!(!glob_match("*_API_KEY", "_API_KE"));
        assert!(glob_match("ANTHROPIC_*", "ANTHROPIC_"));
        assert!(glob_match("A*B*C", "AxxBxxC"));
        assert!(!glob_match("A*B*C", "AxxCxxB"));
        assert!(glob_match("PATH", "PATH"));
        assert!(!glob_match("PATH", "PATHS"));
        assert!(!glob_match("AB*BA", "ABA"));
    }

    #[test]
    fn modes_pick_what_they_say() {
        let host = [
            "PATH",
            "HOME",
            "OPENAI_API_KEY",
            "GH_TOKEN",
            "HTTPS_PROXY",
            "MY_SETTING",
            "SSH_AUTH_SOCK",
            "SSL_CERT_FILE",
            "VIRTUAL_ENV",
            "GIT_DIR",
            "1BAD",
        ];
        let none = BTreeSet::new();
        let auto = select(&Passthrough::Auto, &pats(), host, &none);
        assert_eq!(auto, ["GH_TOKEN", "HTTPS_PROXY", "OPENAI_API_KEY"]);
        let all = select(&Passthrough::All, &pats(), host, &none);
        assert_eq!(
            all,
            ["GH_TOKEN", "HTTPS_PROXY", "MY_SETTING", "OPENAI_API_KEY"]
        );
        assert!(select(&Passthrough::None, &pats(), host, &none).is_empty());
        let list: Passthrough = "MY_SETTING, ABSENT".parse().unwrap();
        assert_eq!(
            select(&list, &pats(), host, &none),
            ["ABSENT", "MY_SETTING"]
        );
        let public = BTreeSet::from(["GH_TOKEN".to_string()]);
        assert_eq!(
            select(&Passthrough::Auto, &pats(), host, &public),
            ["HTTPS_PROXY", "OPENAI_API_KEY"]
        );
    }

    #[test]
    fn bad_modes_and_assignments_say_what_to_do() {
        assert!("".parse::<Passthrough>().unwrap_err().contains("auto"));
        assert!("A,B-C".parse::<Passthrough>().unwrap_err().contains("B-C"));
        assert_eq!(
            parse_assignment("A=b=c").unwrap(),
            ("A".into(), "b=c".into())
        );
        assert!(parse_assignment("A").unwrap_err().contains("NAME=VALUE"));
        assert!(parse_assignment("9A=x").is_err());
    }

    #[test]
    fn env_file_keeps_values_exact_and_overridable() {
        let f = env_file(&[
            ("A".into(), "it's $HOME `x`".into()),
            ("PATH".into(), "/v/bin:/usr/bin".into()),
        ]);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{f}\nprintf '%s|%s' \"$A\" \"$PATH\""))
            .env("A", "mine")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "mine|/v/bin:/usr/bin");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{f}\nprintf '%s' \"$A\""))
            .env_remove("A")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "it's $HOME `x`");
    }

    #[test]
    fn the_exec_wrapper_passes_arguments_untouched() {
        let argv = with_loader(vec![
            "printf".into(),
            "%s|".into(),
            "a b".into(),
            "$HOME".into(),
            "'q'".into(),
            "".into(),
        ]);
        assert_eq!(argv[..2], ["/bin/sh", "-c"]);
        let out = std::process::Command::new("sh")
            .args(&argv[1..])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b|$HOME|'q'||");
    }

    #[test]
    fn the_exclusions_are_patterns_listed_once() {
        let mut seen = BTreeSet::new();
        for p in NEVER_PASSED {
            assert!(seen.insert(*p), "{p} listed twice");
            assert!(valid_name(&p.replace('*', "X")), "{p}");
        }
    }

    proptest! {
        #[test]
        fn any_value_survives_quoting(v in "\\PC*") {
            let f = env_file(&[("V".into(), v.clone())]);
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{f}\nprintf '%s' \"$V\""))
                .env_remove("V")
                .output()
                .unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&out.stdout).to_string(), v);
        }

        #[test]
        fn labels_round_trip(names in proptest::collection::vec("[A-Z_][A-Z0-9_]{0,8}", 0..5)) {
            prop_assert_eq!(names_from_label(&names_label(&names)), names);
        }
    }
}
