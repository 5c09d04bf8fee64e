//! How berth reaches an engine definition: a unix socket, plain tcp, tcp with TLS
//! (bollard's rustls client with the definition's CA and client certificate) or
//! ssh (`ssh_dial`: the remote's `docker system dial-stdio` over the user's ssh).
use super::docker::{map_err, DockerEngine};
use super::ssh_dial::{SshDial, SshHost};
use super::{EngineError, EngineResult};
use crate::domain::engines::{EngineDef, EngineHost, EngineSource, TlsFiles};
use bollard::Docker;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// bollard's read/write timeout for one request, in seconds (its default).
const TIMEOUT: u64 = 120;

/// Connects to `def` and agrees on an API version.
pub async fn connect(def: &EngineDef) -> EngineResult<DockerEngine> {
    let url = def.host.url();
    match (&def.host, &def.tls) {
        (EngineHost::Unix(_), _) | (EngineHost::Tcp { .. }, None) => {
            Ok(DockerEngine::connect_to(&url).await?.named(&def.name))
        }
        (EngineHost::Tcp { host, port }, Some(tls)) => {
            let files = tls_files(def, tls)
                .await
                .map_err(|reason| EngineError::Unreachable {
                    endpoint: url.clone(),
                    reason,
                })?;
            let addr = format!("tcp://{host}:{port}");
            let docker = Docker::connect_with_ssl(
                &addr,
                &files.key,
                &files.cert,
                &files.ca,
                TIMEOUT,
                bollard::API_DEFAULT_VERSION,
            )
            .map_err(|e| map_err(&url, e))?;
            DockerEngine::from_docker(docker, &url, &def.name, None).await
        }
        (EngineHost::Ssh { user, host, port }, _) => {
            let host = SshHost {
                user: user.clone(),
                host: host.clone(),
                port: *port,
            };
            let dial = Arc::new(SshDial::start(host, &url).await?);
            // Keep-alive: each new connection is a new remote dial-stdio.
            let docker =
                super::unix_pooled::connect(dial.socket(), TIMEOUT, bollard::API_DEFAULT_VERSION)
                    .map_err(|e| map_err(&url, e))?;
            match DockerEngine::from_docker(docker, &url, &def.name, Some(dial.clone())).await {
                Ok(engine) => Ok(engine),
                // Host keys, login, the network or docker there, as a sentence.
                Err(e) => Err(match dial.diagnose().await {
                    Some(reason) => EngineError::Unreachable {
                        endpoint: url.clone(),
                        reason,
                    },
                    None => e,
                }),
            }
        }
    }
}

/// The three files a TLS connection needs, checked.
#[derive(Debug)]
struct Files {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Where a TLS setting of `def` is written, for messages.
fn key_of(def: &EngineDef, key: &str) -> String {
    match &def.source {
        EngineSource::Context(c) => format!("the TLS file `{key}.pem` of docker context {c}"),
        EngineSource::Env | EngineSource::Builtin => format!("DOCKER_CERT_PATH's {key}.pem"),
        EngineSource::Config => format!("`{key}` in [engines.{}]", def.name),
    }
}

/// Checks each TLS file exists and holds PEM; the error names the file and the
/// setting it came from. Off the async threads.
async fn tls_files(def: &EngineDef, tls: &TlsFiles) -> Result<Files, String> {
    if !tls.verify {
        return Err(format!(
            "engine {}: berth always checks a TLS engine's certificate; set `tls_verify = true` and `ca` in [engines.{}] (or use an ssh:// host)",
            def.name, def.name
        ));
    }
    let mut out = Vec::new();
    for (key, path) in [("ca", &tls.ca), ("cert", &tls.cert), ("key", &tls.key)] {
        let Some(path) = path.clone() else {
            return Err(format!(
                "engine {}: TLS needs {}, which is not set",
                def.name,
                key_of(def, key)
            ));
        };
        let what = key_of(def, key);
        let p = path.clone();
        let check = tokio::task::spawn_blocking(move || check_pem(&p))
            .await
            .map_err(|e| e.to_string())?;
        if let Err(problem) = check {
            return Err(format!(
                "engine {}: {} ({}) {problem}; fix the file or the setting",
                def.name,
                what,
                path.display()
            ));
        }
        out.push(path);
    }
    let mut it = out.into_iter();
    match (it.next(), it.next(), it.next()) {
        (Some(ca), Some(cert), Some(key)) => Ok(Files { ca, cert, key }),
        _ => Err("TLS files are missing".into()),
    }
}

/// `Err(sentence part)` when `path` cannot be read or holds no PEM block.
fn check_pem(path: &Path) -> Result<(), String> {
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("does not exist".into()),
        Err(e) => Err(format!("cannot be read: {e}")),
        Ok(b) if !String::from_utf8_lossy(&b).contains("-----BEGIN ") => {
            Err("is not a PEM file".into())
        }
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(tls: TlsFiles) -> EngineDef {
        let mut d = EngineDef::plain(
            "box",
            EngineHost::Tcp {
                host: "127.0.0.1".into(),
                port: 1,
            },
            EngineSource::Config,
        );
        d.tls = Some(tls);
        d
    }

    #[tokio::test]
    async fn a_missing_or_bad_tls_file_names_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nx\n").unwrap();
        let bad = dir.path().join("cert.pem");
        std::fs::write(&bad, "hello").unwrap();
        let tls = TlsFiles {
            ca: Some(ca.clone()),
            cert: Some(bad.clone()),
            key: Some(dir.path().join("nope.pem")),
            verify: true,
        };
        let e = connect(&def(tls.clone())).await.err().unwrap().to_string();
        assert!(e.contains("`cert` in [engines.box]"), "{e}");
        assert!(e.contains("is not a PEM file"), "{e}");
        assert!(e.contains(&bad.display().to_string()), "{e}");
        let mut t = tls.clone();
        t.cert = Some(ca.clone());
        let e = connect(&def(t)).await.err().unwrap().to_string();
        assert!(
            e.contains("`key` in [engines.box]") && e.contains("does not exist"),
            "{e}"
        );
        let mut t = tls;
        t.ca = None;
        let e = connect(&def(t)).await.err().unwrap().to_string();
        assert!(
            e.contains("`ca` in [engines.box]") && e.contains("not set"),
            "{e}"
        );
    }
}
