//! Purpose profiles as data: a profile names the Debian packages and root build
//! commands of a local image layer over berth's base image, the public variables
//! that image carries, the setup commands run in each new workspace, and the
//! defaults it gives to forwarding, dotfiles and env passthrough.
//!
//! Pure: TOML text in, checked [`Profile`]s out; the image's Dockerfile and the hash
//! that names its tag are computed here; `try-repo`'s choice from a repository's
//! top-level file names too. Loading files is the config layer's job.
use super::text_pos::line_col;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The profiles berth ships (`assets/profiles/<name>.toml`).
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "general",
        include_str!("../../assets/profiles/general.toml"),
    ),
    ("python", include_str!("../../assets/profiles/python.toml")),
    ("node", include_str!("../../assets/profiles/node.toml")),
    ("rust", include_str!("../../assets/profiles/rust.toml")),
    ("go", include_str!("../../assets/profiles/go.toml")),
    ("clean", include_str!("../../assets/profiles/clean.toml")),
    (
        "try-repo",
        include_str!("../../assets/profiles/try-repo.toml"),
    ),
];

/// The profile that picks another from a cloned repository's files.
pub const TRY_REPO: &str = "try-repo";
/// Where a build finds the host's CA bundle (in the build context, removed after).
pub const BUILD_CA_FILE: &str = "berth-build-ca.crt";
/// Where the profile's public variables are written for ssh sessions (sourced by
/// the base image's /etc/berth/env.sh).
pub const PROFILE_ENV_FILE: &str = "/etc/berth/profile.env";

/// Per-step forwarding defaults: `None` keeps the configuration's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardDefaults {
    pub git: Option<bool>,
    pub gh: Option<bool>,
    pub ssh: Option<bool>,
}

/// One profile, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// Debian packages installed in the image.
    pub packages: Vec<String>,
    /// Commands run as root while building the image (`/bin/sh -ec`).
    pub build: Vec<String>,
    /// Public variables baked into the image (`$VAR` expands at build time).
    pub env: BTreeMap<String, String>,
    /// Commands run in each new workspace at the `profile` step (`/bin/sh -lc` as
    /// the workspace user, in the home).
    pub setup: Vec<String>,
    pub forward: ForwardDefaults,
    /// Dotfiles from the configuration apply (flags always do).
    pub dotfiles: bool,
    /// Host variables are passed through by default.
    pub env_passthrough: bool,
    /// `provider = "vm"`: its workspaces' provider by default (`None`: the config's).
    pub provider: Option<super::vm::Provider>,
    /// Where it came from: "built-in" or a file path (for listings and errors).
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    description: Option<String>,
    #[serde(default)]
    packages: Vec<toml::Spanned<String>>,
    #[serde(default)]
    build: Vec<toml::Spanned<String>>,
    #[serde(default)]
    setup: Vec<String>,
    #[serde(default)]
    env: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    #[serde(default)]
    forward: ForwardDefaults,
    dotfiles: Option<bool>,
    env_passthrough: Option<bool>,
    provider: Option<toml::Spanned<String>>,
}

/// A bad profile file: its path, line, column and what is wrong (the field first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: line {line}, column {col}: {msg}")]
pub struct ProfileError {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

/// A profile name: lowercase letters, digits and '-', starting with a letter (it
/// becomes part of an image tag).
pub fn valid_name(name: &str) -> bool {
    let mut c = name.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && name.len() <= 40
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
}

/// A Debian package name (optionally `=version`), so it is safe on a command line.
fn valid_package(p: &str) -> bool {
    let mut c = p.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_lowercase() || f.is_ascii_digit())
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "+-.:=~".contains(ch))
}

/// Parses the profile `name` from `text` (read from `path`, named in errors).
pub fn parse(name: &str, text: &str, path: &str) -> Result<Profile, ProfileError> {
    let err_at = |offset: usize, msg: String| {
        let (line, col) = line_col(text, offset);
        ProfileError {
            path: path.into(),
            line,
            col,
            msg,
        }
    };
    if !valid_name(name) {
        return Err(err_at(
            0,
            format!("profile name {name:?}: use lowercase letters, digits and '-', starting with a letter (the file's name is the profile's)"),
        ));
    }
    let raw: Raw = toml::from_str(text)
        .map_err(|e| err_at(e.span().map_or(0, |s| s.start), e.message().to_string()))?;
    for p in &raw.packages {
        if !valid_package(p.get_ref()) {
            return Err(err_at(
                p.span().start,
                format!("packages: {:?} is not a Debian package name", p.get_ref()),
            ));
        }
    }
    for b in &raw.build {
        if b.get_ref().trim().is_empty() {
            return Err(err_at(b.span().start, "build: an empty command".into()));
        }
    }
    let mut env = BTreeMap::new();
    for (k, v) in raw.env {
        if !crate::domain::env::valid_name(k.get_ref()) {
            return Err(err_at(
                k.span().start,
                format!(
                    "env: {:?} is not a variable name (letters, digits and _)",
                    k.get_ref()
                ),
            ));
        }
        if v.get_ref().contains(['\n', '\r', '\0']) {
            return Err(err_at(
                v.span().start,
                format!("env.{}: a value must be one line", k.get_ref()),
            ));
        }
        env.insert(k.into_inner(), v.into_inner());
    }
    let provider = match raw.provider {
        None => None,
        Some(p) => Some(
            super::vm::Provider::parse(p.get_ref())
                .map_err(|e| err_at(p.span().start, format!("provider: {e}")))?,
        ),
    };
    Ok(Profile {
        name: name.into(),
        description: raw.description.unwrap_or_default().trim().to_string(),
        packages: raw.packages.into_iter().map(|p| p.into_inner()).collect(),
        build: raw.build.into_iter().map(|b| b.into_inner()).collect(),
        env,
        setup: raw
            .setup
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect(),
        forward: raw.forward,
        dotfiles: raw.dotfiles.unwrap_or(true),
        env_passthrough: raw.env_passthrough.unwrap_or(true),
        provider,
        source: path.into(),
    })
}

/// The built-in profiles, parsed (they are checked by the tests).
pub fn built_in() -> Vec<Profile> {
    BUILT_IN
        .iter()
        .filter_map(|(n, t)| parse(n, t, "built-in").ok())
        .collect()
}

/// The profiles a create can choose from: built-ins, then user files over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSet {
    profiles: BTreeMap<String, Profile>,
}

impl Default for ProfileSet {
    fn default() -> Self {
        Self::new(built_in())
    }
}

impl ProfileSet {
    pub fn new(profiles: impl IntoIterator<Item = Profile>) -> Self {
        Self {
            profiles: profiles.into_iter().map(|p| (p.name.clone(), p)).collect(),
        }
    }

    /// Adds `p`, replacing a profile of the same name.
    pub fn insert(&mut self, p: Profile) {
        self.profiles.insert(p.name.clone(), p);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// The profile `name`, or a sentence listing the ones there are.
    pub fn get(&self, name: &str) -> Result<&Profile, String> {
        self.profiles.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            format!(
                "there is no profile {name:?}; the profiles are: {} (add your own as <config dir>/profiles/NAME.toml)",
                names.join(", ")
            )
        })
    }
}

impl Profile {
    /// Does the profile need its own image (else the base image as is)?
    pub fn needs_image(&self) -> bool {
        !(self.packages.is_empty() && self.build.is_empty() && self.env.is_empty())
    }

    /// The Dockerfile of the profile's image over `base`; `with_ca`: the build
    /// context holds [`BUILD_CA_FILE`] (the host's CA bundle), trusted by the build's
    /// tools only (build arguments are not in the image's environment).
    pub fn dockerfile(&self, base: &str, with_ca: bool) -> String {
        let mut d = format!(
            "# berth profile {name}: a local layer over the base image.\nFROM {base}\nUSER root\nARG DEBIAN_FRONTEND=noninteractive\n",
            name = self.name
        );
        if with_ca {
            let ca = format!("/tmp/{BUILD_CA_FILE}");
            d.push_str(&format!("COPY {BUILD_CA_FILE} {ca}\n"));
            for var in [
                "SSL_CERT_FILE",
                "PIP_CERT",
                "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE",
                "NODE_EXTRA_CA_CERTS",
                "npm_config_cafile",
                "GIT_SSL_CAINFO",
            ] {
                d.push_str(&format!("ARG {var}={ca}\n"));
            }
        }
        if !self.packages.is_empty() {
            d.push_str(&format!(
                "RUN apt-get update && apt-get install -y --no-install-recommends {} && rm -rf /var/lib/apt/lists/*\n",
                self.packages.join(" ")
            ));
        }
        for cmd in &self.build {
            d.push_str(&format!("RUN {}\n", exec_form(&["/bin/sh", "-ec", cmd])));
        }
        for (k, v) in &self.env {
            d.push_str(&format!("ENV {k}={}\n", env_value(v)));
        }
        // Written from the build's expanded values, so ssh sessions get the same.
        let mut script = format!(
            "printf '# berth profile {}\\n' > {PROFILE_ENV_FILE}\n",
            self.name
        );
        for k in self.env.keys() {
            script.push_str(&format!(
                "printf \"export {k}='%s'\\n\" \"$(printf '%s' \"${k}\" | sed \"s/'/'\\\\\\\\''/g\")\" >> {PROFILE_ENV_FILE}\n"
            ));
        }
        script.push_str(&format!("chmod 0644 {PROFILE_ENV_FILE}\n"));
        if with_ca {
            script.push_str(&format!("rm -f /tmp/{BUILD_CA_FILE}\n"));
        }
        d.push_str(&format!(
            "RUN {}\n",
            exec_form(&["/bin/sh", "-ec", &script])
        ));
        d.push_str("USER workspace\n");
        d
    }

    /// What names the image: the Dockerfile (the definition) and the base image's id.
    pub fn image_hash(&self, base: &str, base_id: &str, with_ca: bool) -> String {
        let mut h = Sha256::new();
        h.update(self.dockerfile(base, with_ca).as_bytes());
        h.update(b"\0");
        h.update(base_id.as_bytes());
        short_hex(&h.finalize())
    }

    /// The image's tag: `berth/profile-<name>:<hash>`.
    pub fn image_tag(&self, hash: &str) -> String {
        format!("berth/profile-{}:{hash}", self.name)
    }
}

/// The first 16 hex digits of a digest.
pub fn short_hex(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A hash of some files (name and content), for a definition label.
pub fn files_hash<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut h = Sha256::new();
    for (name, text) in files {
        h.update(name.as_bytes());
        h.update(b"\0");
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    short_hex(&h.finalize())
}

/// A Dockerfile exec form (a JSON array): no escaping problems, newlines included.
fn exec_form(args: &[&str]) -> String {
    serde_json::Value::from(args.to_vec()).to_string()
}

/// A Dockerfile ENV value: double-quoted, `$VAR` still expands.
fn env_value(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `try-repo`: the profile for a repository whose top level holds `files`.
pub fn detect<'a>(files: impl IntoIterator<Item = &'a str>) -> &'static str {
    let files: Vec<&str> = files.into_iter().collect();
    for (marker, profile) in [
        ("Cargo.toml", "rust"),
        ("pyproject.toml", "python"),
        ("package.json", "node"),
        ("go.mod", "go"),
    ] {
        if files.contains(&marker) {
            return profile;
        }
    }
    crate::domain::workspace::DEFAULT_PROFILE
}

#[cfg(test)]
#[path = "profiles_tests.rs"]
mod tests;
