//! How a dotfiles repository is installed, decided from what its clone holds:
//! the explicit `--dotfiles-script`, else `install.sh`, `setup.sh`, `bootstrap.sh`,
//! `script/setup`, else a Makefile (`make`), else the dotfiles at the repo's top
//! symlinked into the home. Pure: the backend lists the clone and runs the answer.

/// Install scripts looked for, in this order, when none is given.
pub const SCRIPTS: &[&str] = &["install.sh", "setup.sh", "bootstrap.sh", "script/setup"];

/// The names `make` reads without `-f`.
pub const MAKEFILES: &[&str] = &["GNUmakefile", "makefile", "Makefile"];

/// Dot-names at a repository's top that belong to the repository (its VCS, CI and
/// editor metadata), not to the home: never linked.
pub const NOT_DOTFILES: &[&str] = &[
    ".git",
    ".github",
    ".gitlab",
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
    ".gitlab-ci.yml",
    ".travis.yml",
    ".circleci",
    ".pre-commit-config.yaml",
    ".editorconfig",
    ".DS_Store",
    ".hg",
    ".hgignore",
    ".svn",
];

/// What a top-level entry of the clone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File { executable: bool },
    Dir,
    Symlink,
    Other,
}

/// A candidate script found in the clone (a regular file, or a link to one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub path: String,
    pub executable: bool,
    /// Its first line (for the shebang).
    pub first_line: String,
}

/// What the backend found in the clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The entries at the repository's top (names, without `.` and `..`).
    pub top: Vec<(String, Kind)>,
    /// The candidate scripts that exist (of those asked about).
    pub scripts: Vec<Script>,
}

/// How the repository is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// Run a script: `argv` from the repository's directory. `explicit`: it was
    /// named by `--dotfiles-script` (or the config), not found by the rules.
    Script {
        path: String,
        argv: Vec<String>,
        explicit: bool,
    },
    /// `make` in the repository (it has `makefile`).
    Make { makefile: String },
    /// Symlink these top-level names into the home.
    Link(Vec<String>),
    /// No script, no Makefile and no dotfiles at its top.
    Nothing,
}

impl Install {
    /// For a progress note: which rule was used and what it does.
    pub fn describe(&self) -> String {
        match self {
            Install::Script {
                path,
                argv,
                explicit: true,
            } => format!(
                "running the given install script {path} ({})",
                argv.join(" ")
            ),
            Install::Script { path, argv, .. } => format!(
                "found {path}: running it ({}); the rules look for install.sh, setup.sh, bootstrap.sh, script/setup, then a Makefile",
                argv.join(" ")
            ),
            Install::Make { makefile } => format!(
                "no install script; found {makefile}: running make"
            ),
            Install::Link(names) => format!(
                "no install script or Makefile: symlinking {} from the repository into the home ({})",
                names.len(),
                names.join(", ")
            ),
            Install::Nothing => "no install script, no Makefile and no dotfiles at the repository's top: nothing to install (the clone stays)".into(),
        }
    }
}

/// The scripts the backend should look for: the explicit one alone, else the rules'.
pub fn candidates(explicit: Option<&str>) -> Vec<String> {
    match explicit {
        Some(s) => vec![s.to_string()],
        None => SCRIPTS.iter().map(|s| s.to_string()).collect(),
    }
}

/// A top-level name that is a dotfile of the home (`.bashrc`, `.config`), not the
/// repository's own metadata (`.git`, `.github`, `.gitignore`, ...).
pub fn is_dotfile(name: &str) -> bool {
    name.len() > 1
        && name.starts_with('.')
        && name != ".."
        && !name.contains('/')
        && !NOT_DOTFILES.contains(&name)
}

/// Decides how to install, in the documented order.
pub fn resolve(explicit: Option<&str>, listing: &Listing) -> Result<Install, String> {
    let script = |path: &str| listing.scripts.iter().find(|s| s.path == path);
    if let Some(want) = explicit {
        let s = script(want).ok_or_else(|| {
            format!("the dotfiles script {want:?} (--dotfiles-script) is not a file in the dotfiles repository")
        })?;
        return Ok(Install::Script {
            path: s.path.clone(),
            argv: runner(s),
            explicit: true,
        });
    }
    if let Some(s) = SCRIPTS.iter().find_map(|p| script(p)) {
        return Ok(Install::Script {
            path: s.path.clone(),
            argv: runner(s),
            explicit: false,
        });
    }
    let makefile = MAKEFILES.iter().find(|m| {
        listing
            .top
            .iter()
            .any(|(n, k)| n == *m && matches!(k, Kind::File { .. } | Kind::Symlink))
    });
    if let Some(m) = makefile {
        return Ok(Install::Make {
            makefile: m.to_string(),
        });
    }
    let mut links: Vec<String> = listing
        .top
        .iter()
        .filter(|(n, k)| is_dotfile(n) && *k != Kind::Other)
        .map(|(n, _)| n.clone())
        .collect();
    links.sort();
    Ok(if links.is_empty() {
        Install::Nothing
    } else {
        Install::Link(links)
    })
}

/// The command that runs `s` from the repository: itself when executable, else the
/// interpreter its shebang names (`#!/bin/bash` -> `/bin/bash s`), else `sh s`.
pub fn runner(s: &Script) -> Vec<String> {
    let path = if s.path.starts_with('/') {
        s.path.clone()
    } else {
        format!("./{}", s.path)
    };
    if s.executable {
        return vec![path];
    }
    let mut argv = match s.first_line.strip_prefix("#!").map(str::trim) {
        Some(line) if !line.is_empty() => {
            // Like the kernel: the interpreter, then the rest as one argument.
            match line.split_once(char::is_whitespace) {
                Some((interp, arg)) if !arg.trim().is_empty() => {
                    vec![interp.to_string(), arg.trim().to_string()]
                }
                _ => vec![line.to_string()],
            }
        }
        _ => vec!["sh".to_string()],
    };
    argv.push(path);
    argv
}

/// Where the repository is cloned: `~/x` and relative paths under `home`; an
/// absolute path as is. Never the home itself, never with `..`.
pub fn target_path(target: &str, home: &str) -> Result<String, String> {
    let t = target.trim();
    let rel = if t == "~" {
        ""
    } else if let Some(r) = t.strip_prefix("~/") {
        r
    } else if t.starts_with('~') {
        return Err(format!(
            "dotfiles target {target:?}: ~user paths are not supported; give ~/DIR, a path relative to the home, or an absolute path"
        ));
    } else {
        t
    };
    if rel.split('/').any(|c| c == "..") {
        return Err(format!(
            "dotfiles target {target:?}: no '..' in the path, please"
        ));
    }
    let full = if rel.starts_with('/') {
        rel.trim_end_matches('/').to_string()
    } else {
        let rel = rel.trim_start_matches("./").trim_end_matches('/');
        if rel.is_empty() || rel == "." {
            String::new()
        } else {
            format!("{home}/{rel}")
        }
    };
    if full.is_empty() || full == home || full == "/" {
        return Err(format!(
            "dotfiles target {target:?}: the repository needs a directory of its own, like ~/.dotfiles"
        ));
    }
    Ok(full)
}

/// Parses the backend's listing of a clone: NUL-separated records
/// `T<tab>KIND<tab>NAME` (KIND: d, l, x, f, o) and `S<tab>X<tab>PATH<tab>FIRST LINE`
/// (X: x or -).
pub fn parse_listing(out: &[u8]) -> Listing {
    let mut l = Listing::default();
    for rec in out.split(|b| *b == 0) {
        let rec = String::from_utf8_lossy(rec);
        let mut it = rec.splitn(4, '\t');
        match (it.next(), it.next(), it.next()) {
            (Some("T"), Some(kind), Some(name)) if !name.is_empty() => {
                let kind = match kind {
                    "d" => Kind::Dir,
                    "l" => Kind::Symlink,
                    "x" => Kind::File { executable: true },
                    "f" => Kind::File { executable: false },
                    _ => Kind::Other,
                };
                // A name with a tab: the rest of the record is the name.
                let name = match it.next() {
                    Some(rest) => format!("{name}\t{rest}"),
                    None => name.to_string(),
                };
                l.top.push((name, kind));
            }
            (Some("S"), Some(x), Some(path)) if !path.is_empty() => l.scripts.push(Script {
                path: path.to_string(),
                executable: x == "x",
                first_line: it.next().unwrap_or("").trim_end().to_string(),
            }),
            _ => {}
        }
    }
    l
}

#[cfg(test)]
#[path = "dotfiles_tests.rs"]
mod tests;
