//! `engine = "NAME"`, `placement = "least-loaded"` and `[engines.NAME]`: the
//! engines berth's config adds to DOCKER_HOST and the Docker contexts
//! (`domain::engines`). Bad values are reported with the file, line and field.
use super::ConfigError;
use crate::domain::engines::{
    name_error, valid_name, EngineDef, EngineHost, EngineSource, Placement, TlsFiles,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

/// What the config says about engines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnginesConfig {
    /// `engine = "NAME"`: the engine commands use when `--engine` and
    /// BERTH_ENGINE do not say.
    pub default: Option<String>,
    /// `placement`: where a create that names no engine goes.
    pub placement: Placement,
    /// `[engines.NAME]`, by name.
    pub defs: BTreeMap<String, EngineDef>,
    /// `--engine NAME` of this run (never from the file).
    pub flag: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEngine {
    host: Spanned<String>,
    ca: Option<Spanned<String>>,
    cert: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    tls_verify: Option<bool>,
    port_range: Option<Spanned<String>>,
    init: Option<bool>,
}

type ErrAt<'a> = &'a dyn Fn(usize, String) -> ConfigError;

fn path(v: Option<Spanned<String>>) -> Option<PathBuf> {
    v.map(|s| s.into_inner())
        .filter(|s| !s.trim().is_empty())
        .map(PathBuf::from)
}

fn entry(name: &Spanned<String>, raw: RawEngine, err_at: ErrAt) -> Result<EngineDef, ConfigError> {
    let field = |f: &str| format!("engines.{}.{f}", name.get_ref());
    if !valid_name(name.get_ref()) {
        return Err(err_at(name.span().start, name_error(name.get_ref())));
    }
    let host = EngineHost::parse(raw.host.get_ref())
        .map_err(|e| err_at(raw.host.span().start, format!("{}: {e}", field("host"))))?;
    let port_range = match raw.port_range {
        Some(r) => Some(
            r.get_ref()
                .parse()
                .map_err(|e| err_at(r.span().start, format!("{}: {e}", field("port_range"))))?,
        ),
        None => None,
    };
    let any_tls = raw.ca.is_some() || raw.cert.is_some() || raw.key.is_some();
    let tls_at = [&raw.ca, &raw.cert, &raw.key]
        .into_iter()
        .flatten()
        .map(|s| s.span().start)
        .next()
        .unwrap_or(raw.host.span().start);
    let tls = match (&host, any_tls || raw.tls_verify == Some(true)) {
        (_, false) => None,
        (EngineHost::Tcp { .. }, true) => {
            let t = TlsFiles {
                ca: path(raw.ca),
                cert: path(raw.cert),
                key: path(raw.key),
                verify: raw.tls_verify.unwrap_or(true),
            };
            if t.cert.is_some() != t.key.is_some() {
                return Err(err_at(
                    tls_at,
                    format!(
                        "{}: `cert` and `key` go together (this client's certificate and its key)",
                        field("cert")
                    ),
                ));
            }
            if t.verify && t.ca.is_none() {
                return Err(err_at(
                    tls_at,
                    format!(
                        "{}: tls_verify needs `ca`, the CA that signed the engine's certificate",
                        field("ca")
                    ),
                ));
            }
            Some(t)
        }
        (_, true) => {
            return Err(err_at(
                tls_at,
                format!(
                    "{}: TLS files apply to tcp:// engines only ({} is {})",
                    field("ca"),
                    name.get_ref(),
                    host.scheme()
                ),
            ))
        }
    };
    Ok(EngineDef {
        name: name.get_ref().clone(),
        host,
        tls,
        source: EngineSource::Config,
        port_range,
        init: raw.init,
    })
}

/// Applies one layer's `engine`, `placement` and `[engines.NAME]`.
pub(super) fn apply(
    cfg: &mut EnginesConfig,
    default: Option<Spanned<String>>,
    placement: Option<Spanned<String>>,
    raw: BTreeMap<Spanned<String>, RawEngine>,
    err_at: ErrAt,
) -> Result<(), ConfigError> {
    if let Some(d) = default {
        let v = d.get_ref().trim();
        if v.is_empty() {
            cfg.default = None;
        } else if !valid_name(v) {
            return Err(err_at(d.span().start, format!("engine: {}", name_error(v))));
        } else {
            cfg.default = Some(v.to_string());
        }
    }
    if let Some(p) = placement {
        cfg.placement = Placement::parse(p.get_ref().trim())
            .map_err(|e| err_at(p.span().start, format!("placement: {e}")))?;
    }
    for (name, r) in raw {
        let def = entry(&name, r, err_at)?;
        cfg.defs.insert(def.name.clone(), def);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::domain::engines::{EngineHost, Placement};

    #[test]
    fn engines_are_read() {
        let c = Config::parse(
            "engine = \"box\"\nplacement = \"least-loaded\"\n[engines.box]\nhost = \"ssh://me@box:2222\"\nport_range = \"3000-3010\"\n[engines.tls]\nhost = \"tcp://10.0.0.2:2376\"\nca = \"/c/ca.pem\"\ncert = \"/c/cert.pem\"\nkey = \"/c/key.pem\"\n[engines.pod]\nhost = \"unix:///run/podman/podman.sock\"\ninit = false\n",
            "c.toml",
        )
        .unwrap();
        let e = &c.engines;
        assert_eq!(e.default.as_deref(), Some("box"));
        assert_eq!(e.placement, Placement::LeastLoaded);
        let b = &e.defs["box"];
        assert_eq!(
            b.host,
            EngineHost::Ssh {
                user: Some("me".into()),
                host: "box".into(),
                port: Some(2222)
            }
        );
        assert_eq!(b.port_range.unwrap().start, 3000);
        let t = e.defs["tls"].tls.as_ref().unwrap();
        assert!(t.verify && t.ca.is_some() && t.key.is_some());
        assert_eq!(e.defs["pod"].init, Some(false));
        assert_eq!(Config::default().engines.defs.len(), 0);
    }

    #[test]
    fn bad_engines_name_file_line_and_field() {
        for (text, line, says) in [
            ("[engines.Box]\nhost = \"ssh://b\"\n", 1, "engine name"),
            ("[engines.b]\nhost = \"ftp://b\"\n", 2, "engines.b.host"),
            ("[engines.b]\n", 1, "missing field `host`"),
            (
                "[engines.b]\nhost = \"ssh://b\"\nca = \"/ca\"\n",
                3,
                "tcp:// engines only",
            ),
            (
                "[engines.b]\nhost = \"tcp://b:1\"\ncert = \"/c\"\n",
                3,
                "go together",
            ),
            (
                "[engines.b]\nhost = \"tcp://b:1\"\ntls_verify = true\n",
                2,
                "needs `ca`",
            ),
            (
                "[engines.b]\nhost = \"ssh://b\"\nport_range = \"1-2\"\n",
                3,
                "engines.b.port_range",
            ),
            (
                "[engines.b]\nhost = \"ssh://b\"\nhosts = 1\n",
                3,
                "unknown field",
            ),
            ("\nplacement = \"random\"\n", 2, "placement"),
            ("engine = \"No\"\n", 1, "engine: engine name"),
        ] {
            let e = Config::parse(text, "c.toml").unwrap_err();
            assert!(
                e.line == line && e.to_string().contains(says),
                "{text:?}: {e} (line {})",
                e.line
            );
        }
    }
}
