//! TLS material for a test engine listening on 127.0.0.1: a CA, a server
//! certificate and a client certificate, made with openssl.
#![allow(dead_code)]

use super::dockerd::must;
use std::path::{Path, PathBuf};
use std::process::Command;

/// TLS material made by [`super::dockerd::ExtraDockerd::start`] for a TLS engine.
#[derive(Debug, Clone)]
pub struct TlsCerts {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A CA, a server certificate for 127.0.0.1/localhost and a client certificate,
/// made with openssl in `dir`.
pub fn make_certs(dir: &Path) -> TlsCerts {
    std::fs::create_dir_all(dir).unwrap();
    let ossl = |args: &[&str]| {
        must(Command::new("openssl").current_dir(dir).args(args));
    };
    ossl(&["genrsa", "-out", "ca-key.pem", "2048"]);
    ossl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "ca-key.pem",
        "-days",
        "2",
        "-subj",
        "/CN=berth-test-ca",
        "-out",
        "ca.pem",
    ]);
    for (who, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        ),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ] {
        std::fs::write(dir.join(format!("{who}.ext")), ext).unwrap();
        ossl(&["genrsa", "-out", &format!("{who}-key.pem"), "2048"]);
        ossl(&[
            "req",
            "-new",
            "-key",
            &format!("{who}-key.pem"),
            "-subj",
            &format!("/CN=berth-test-{who}"),
            "-out",
            &format!("{who}.csr"),
        ]);
        ossl(&[
            "x509",
            "-req",
            "-in",
            &format!("{who}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{who}.ext"),
            "-out",
            &format!("{who}-cert.pem"),
        ]);
    }
    TlsCerts {
        dir: dir.to_path_buf(),
        ca: dir.join("ca.pem"),
        cert: dir.join("client-cert.pem"),
        key: dir.join("client-key.pem"),
    }
}
