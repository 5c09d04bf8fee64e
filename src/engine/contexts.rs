//! Docker contexts as engines: `$DOCKER_CONFIG` (default `~/.docker`)
//! `contexts/meta/*/meta.json` (Name, Endpoints.docker.Host, SkipTLSVerify) with
//! TLS files under `contexts/tls/<dir>/docker/{ca,cert,key}.pem`, and the current
//! context (`DOCKER_CONTEXT`, else `currentContext` in `config.json`). A broken
//! file or an unusable context is a note, never fatal. Blocking: call from
//! `spawn_blocking`.
use crate::domain::engines::{valid_name, EngineDef, EngineHost, EngineSource, TlsFiles};
use std::path::{Path, PathBuf};

/// What the Docker contexts say.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Contexts {
    pub defs: Vec<EngineDef>,
    /// The current context, by berth's name for it (`None`: `default` or unset).
    pub current: Option<String>,
    /// Sentences about contexts skipped or renamed and files that could not be read.
    pub notes: Vec<String>,
}

/// Docker's configuration directory: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")),
    }
}

/// Reads the contexts from the environment's Docker configuration directory.
pub fn load() -> Contexts {
    let env_current = std::env::var("DOCKER_CONTEXT").ok();
    match docker_config_dir() {
        Some(dir) => read(&dir, env_current.as_deref()),
        None => Contexts::default(),
    }
}

/// berth's name for a context: itself when valid, else lowercased with other
/// characters as `-`; `None` when nothing usable is left.
pub fn engine_name(context: &str) -> Option<String> {
    if valid_name(context) {
        return Some(context.to_string());
    }
    let s: String = context
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s
        .trim_start_matches(['.', '_', '-'])
        .chars()
        .take(40)
        .collect::<String>();
    valid_name(&s).then_some(s)
}

/// Reads the contexts under `dir`; `env_current` is DOCKER_CONTEXT.
pub fn read(dir: &Path, env_current: Option<&str>) -> Contexts {
    let mut out = Contexts::default();
    let meta = dir.join("contexts").join("meta");
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(&meta) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    entries.sort();
    // Docker's name for each context, to map the current one onto berth's name.
    let mut names: Vec<(String, String)> = Vec::new();
    for sub in entries {
        let file = sub.join("meta.json");
        match one(dir, &sub, &file) {
            Ok((docker_name, def)) => {
                if def.name != docker_name {
                    out.notes.push(format!(
                        "docker context {docker_name:?} is engine {:?} in berth (engine names are lowercase)",
                        def.name
                    ));
                }
                if out.defs.iter().any(|d| d.name == def.name) {
                    out.notes.push(format!(
                        "docker context {docker_name:?} is skipped: another context is already engine {:?}",
                        def.name
                    ));
                    continue;
                }
                names.push((docker_name, def.name.clone()));
                out.defs.push(def);
            }
            Err(Some(note)) => out.notes.push(note),
            Err(None) => {}
        }
    }
    let current = match env_current.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(c.to_string()),
        None => match std::fs::read(dir.join("config.json")) {
            Ok(b) => match serde_json::from_slice::<serde_json::Value>(&b) {
                Ok(v) => v
                    .get("currentContext")
                    .and_then(|c| c.as_str())
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
                Err(e) => {
                    out.notes.push(format!(
                        "{} is not valid JSON ({e}); the current docker context is ignored",
                        dir.join("config.json").display()
                    ));
                    None
                }
            },
            Err(_) => None,
        },
    };
    out.current = current.and_then(|c| {
        if c == "default" {
            return None;
        }
        names
            .iter()
            .find(|(d, _)| *d == c)
            .map(|(_, b)| b.clone())
            .or_else(|| {
                out.notes.push(format!(
                    "the current docker context {c:?} has no usable definition under {}; berth uses its default engine",
                    meta.display()
                ));
                None
            })
    });
    out
}

/// One context: (Docker's name, the definition); `Err(None)` for a directory
/// that is not a context, `Err(Some(note))` for one berth cannot use.
fn one(dir: &Path, sub: &Path, file: &Path) -> Result<(String, EngineDef), Option<String>> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => {
            return Err(Some(format!(
                "{} cannot be read ({e}); skipped",
                file.display()
            )))
        }
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        Some(format!(
            "{} is not valid JSON ({e}); skipped",
            file.display()
        ))
    })?;
    let name = v
        .get("Name")
        .and_then(|n| n.as_str())
        .ok_or_else(|| Some(format!("{} has no Name; skipped", file.display())))?
        .to_string();
    let docker = v.get("Endpoints").and_then(|e| e.get("docker"));
    let Some(host) = docker.and_then(|d| d.get("Host")).and_then(|h| h.as_str()) else {
        return Err(Some(format!(
            "docker context {name:?} has no docker endpoint; skipped"
        )));
    };
    let host = EngineHost::parse(host)
        .map_err(|e| Some(format!("docker context {name:?}: {e}; skipped")))?;
    let Some(berth_name) = engine_name(&name) else {
        return Err(Some(format!(
            "docker context {name:?} has no usable engine name in berth; skipped (add it as [engines.NAME] in berth's config)"
        )));
    };
    if berth_name == crate::domain::engines::DEFAULT_ENGINE {
        return Err(None);
    }
    let skip_verify = docker
        .and_then(|d| d.get("SkipTLSVerify"))
        .and_then(|s| s.as_bool())
        .unwrap_or(false);
    let mut def = EngineDef::plain(&berth_name, host, EngineSource::Context(name.clone()));
    if matches!(def.host, EngineHost::Tcp { .. }) {
        // Docker names the TLS directory like the meta one (a digest of the name).
        let tls = dir
            .join("contexts")
            .join("tls")
            .join(sub.file_name().unwrap_or_default())
            .join("docker");
        let f = |n: &str| Some(tls.join(n)).filter(|p| p.exists());
        if tls.is_dir() || skip_verify {
            def.tls = Some(TlsFiles {
                ca: f("ca.pem"),
                cert: f("cert.pem"),
                key: f("key.pem"),
                verify: !skip_verify,
            });
        }
    }
    Ok((name, def))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(dir: &Path, sub: &str, json: &str) {
        let d = dir.join("contexts/meta").join(sub);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("meta.json"), json).unwrap();
    }

    #[test]
    fn names_are_kept_lowercased_or_skipped() {
        assert_eq!(engine_name("build-box").as_deref(), Some("build-box"));
        assert_eq!(engine_name("My Box").as_deref(), Some("my-box"));
        assert_eq!(engine_name("__").as_deref(), None);
    }

    #[test]
    fn contexts_are_read_with_tls_and_the_current_one() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        ctx(
            d,
            "aa",
            r#"{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://dev@box:2200","SkipTLSVerify":false}}}"#,
        );
        ctx(
            d,
            "bb",
            r#"{"Name":"Secure","Endpoints":{"docker":{"Host":"tcp://10.0.0.2:2376","SkipTLSVerify":false}}}"#,
        );
        let tls = d.join("contexts/tls/bb/docker");
        std::fs::create_dir_all(&tls).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(tls.join(f), "-----BEGIN X-----").unwrap();
        }
        ctx(d, "cc", "{not json");
        ctx(d, "dd", r#"{"Name":"nohost","Endpoints":{}}"#);
        std::fs::write(d.join("config.json"), r#"{"currentContext":"Secure"}"#).unwrap();
        let c = read(d, None);
        let names: Vec<&str> = c.defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["remote", "secure"]);
        assert_eq!(c.current.as_deref(), Some("secure"));
        let secure = &c.defs[1];
        assert_eq!(secure.source, EngineSource::Context("Secure".into()));
        let tlsf = secure.tls.as_ref().unwrap();
        assert!(tlsf.verify && tlsf.ca == Some(tls.join("ca.pem")));
        assert!(c.defs[0].tls.is_none());
        assert_eq!(c.notes.len(), 3, "{:?}", c.notes);
        assert!(c.notes.iter().any(|n| n.contains("not valid JSON")));
        // DOCKER_CONTEXT wins over config.json; `default` is no context.
        assert_eq!(read(d, Some("remote")).current.as_deref(), Some("remote"));
        assert_eq!(read(d, Some("default")).current, None);
        let missing = read(d, Some("gone"));
        assert_eq!(missing.current, None);
        assert!(missing.notes.iter().any(|n| n.contains("\"gone\"")));
    }

    #[test]
    fn no_directory_is_no_context() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(read(&t.path().join("nope"), None), Contexts::default());
    }
}
