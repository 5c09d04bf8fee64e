//! berth's own SSH identity: an ed25519 key pair in the state directory (private
//! key 0600 in a 0700 directory), made on first use. Every workspace authorizes it,
//! and berth offers it first (create, `berth ssh`, ssh-config, shell tabs), so berth
//! works on a machine where the user has no key, or only keys behind a passphrase.
//! The user's own public keys are still authorized when they exist.
//! Blocking I/O: call from a blocking thread ([`ensure_blocking`] via spawn_blocking).
use crate::config::Paths;
use anyhow::{anyhow, Context, Result};
use ssh_key::{rand_core::OsRng, Algorithm, LineEnding, PrivateKey};
use std::path::{Path, PathBuf};

/// berth's key pair on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The private key file (for `ssh -i`).
    pub private_key: PathBuf,
    /// The public key line for authorized_keys.
    pub public_line: String,
}

/// Where berth keeps its private key.
pub fn key_path(paths: &Paths) -> PathBuf {
    paths.state_dir.join("ssh").join("id_ed25519")
}

/// berth's identity, made now if there is none. Safe when several berth processes
/// start at once: the key is published with a hard link, so exactly one wins and
/// everyone uses that one.
pub fn ensure_blocking(paths: &Paths) -> Result<Identity> {
    let file = key_path(paths);
    let dir = file.parent().context("key path has no directory")?;
    crate::private_fs::ensure_dir(&paths.state_dir)?;
    crate::private_fs::ensure_dir(dir)?;
    if !file.exists() {
        make(&file)?;
    }
    // ssh refuses a private key others can read; fix one an older berth left open.
    crate::private_fs::restrict(&file)?;
    let public_line = public_line(&file)?;
    let pub_file = file.with_extension("pub");
    if std::fs::read_to_string(&pub_file).ok().as_deref() != Some(&format!("{public_line}\n")) {
        crate::private_fs::write_atomic(&pub_file, format!("{public_line}\n").as_bytes(), 0o600)?;
    }
    Ok(Identity {
        private_key: file,
        public_line,
    })
}

/// [`ensure_blocking`] on a blocking thread.
pub async fn ensure(paths: &Paths) -> Result<Identity> {
    let paths = paths.clone();
    tokio::task::spawn_blocking(move || ensure_blocking(&paths))
        .await
        .map_err(|e| anyhow!("making berth's SSH identity failed: {e}"))?
}

fn comment() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("berth@{host}")
}

fn make(file: &Path) -> Result<()> {
    let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519)
        .map_err(|e| anyhow!("cannot generate an ed25519 key: {e}"))?;
    key.set_comment(comment());
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| anyhow!("cannot encode the key: {e}"))?;
    let tmp = file.with_extension(format!("new{}", crate::private_fs::unique()));
    crate::private_fs::write_private(&tmp, text.as_bytes())?;
    let linked = std::fs::hard_link(&tmp, file);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        // Another berth made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot write {}", file.display())),
    }
}

fn public_line(file: &Path) -> Result<String> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read berth's SSH key {}", file.display()))?;
    let key = PrivateKey::from_openssh(&text).map_err(|e| {
        anyhow!(
            "{} is not an OpenSSH private key ({e}); move it away and berth makes a new one",
            file.display()
        )
    })?;
    key.public_key()
        .to_openssh()
        .map_err(|e| anyhow!("cannot encode the public key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn made_once_private_and_stable() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        let a = ensure_blocking(&p).unwrap();
        assert!(
            a.public_line.starts_with("ssh-ed25519 AAAA"),
            "{}",
            a.public_line
        );
        let mode = |f: &Path| std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&a.private_key), 0o600);
        assert_eq!(mode(a.private_key.parent().unwrap()), 0o700);
        assert_eq!(mode(&p.state_dir), 0o700);
        let b = ensure_blocking(&p).unwrap();
        assert_eq!(a, b);
        assert!(crate::ssh_client::parse_public_key(&a.public_line).is_some());
    }

    #[test]
    fn racing_processes_agree_on_one_key() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let p = p.clone();
                std::thread::spawn(move || ensure_blocking(&p).unwrap().public_line)
            })
            .collect();
        let lines: std::collections::BTreeSet<String> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(lines.len(), 1);
    }

    #[test]
    fn ssh_keygen_reads_the_key() {
        let d = tempfile::tempdir().unwrap();
        let id = ensure_blocking(&Paths::under(d.path())).unwrap();
        let Ok(out) = std::process::Command::new("ssh-keygen")
            .arg("-y")
            .arg("-f")
            .arg(&id.private_key)
            .output()
        else {
            return; // no OpenSSH client here; the e2e tests use it for real
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let derived = String::from_utf8_lossy(&out.stdout);
        let key = |l: &str| l.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        assert_eq!(key(&derived), key(&id.public_line));
    }

    #[test]
    fn a_corrupt_key_says_what_to_do() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        std::fs::create_dir_all(key_path(&p).parent().unwrap()).unwrap();
        std::fs::write(key_path(&p), "nonsense").unwrap();
        let err = ensure_blocking(&p).unwrap_err().to_string();
        assert!(err.contains("move it away"), "{err}");
    }
}
