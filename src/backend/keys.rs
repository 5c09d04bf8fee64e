//! Which public keys a new workspace authorizes and which private keys berth offers
//! it: berth's own identity always (see `crate::ssh_identity`), plus the user's keys
//! (`--ssh-key FILE.pub`, else every `~/.ssh/*.pub`) when there are any.
use super::Ctx;
use crate::config::Paths;
use crate::ssh_client;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};

/// Keys for a create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    /// Public key lines for authorized_keys (berth's first).
    pub keys: Vec<String>,
    /// Private key files offered to the workspace (paths only; berth's first).
    pub identities: Vec<PathBuf>,
    /// Files in ~/.ssh that looked like public keys but were not (skipped).
    pub notes: Vec<String>,
}

/// Reads the keys for a create, making berth's identity if needed (on a blocking thread).
pub async fn for_create(paths: &Paths, explicit: Option<PathBuf>) -> Result<KeySet> {
    let paths = paths.clone();
    tokio::task::spawn_blocking(move || for_create_blocking(&paths, explicit.as_deref()))
        .await
        .map_err(|e| anyhow!("reading SSH keys failed: {e}"))?
}

fn for_create_blocking(paths: &Paths, explicit: Option<&Path>) -> Result<KeySet> {
    let own = crate::ssh_identity::ensure_blocking(paths)?;
    let (user_keys, notes) = user_public_keys(&paths.home, explicit)?;
    let mut set = KeySet {
        keys: vec![own.public_line.clone()],
        identities: vec![own.private_key],
        notes,
    };
    for k in user_keys {
        if !set.keys.iter().any(|x| same_key(x, &k)) {
            set.keys.push(k);
        }
    }
    for id in user_identity_files(&paths.home, explicit) {
        if !set.identities.contains(&id) {
            set.identities.push(id);
        }
    }
    Ok(set)
}

/// The private keys to offer an existing workspace: berth's own, the ones recorded
/// when it was created, then the user's current ones (when the record is lost).
pub async fn identities(ctx: &Ctx, name: &str) -> Result<Vec<PathBuf>> {
    let recorded = ctx.store.identities(&ctx.engine_name(), name).await?;
    let paths = ctx.paths.clone();
    let found = tokio::task::spawn_blocking(move || {
        let own = crate::ssh_identity::key_path(&paths);
        let mut ids: Vec<PathBuf> = own.is_file().then_some(own).into_iter().collect();
        ids.extend(recorded);
        ids.extend(user_identity_files(&paths.home, None));
        ids
    })
    .await
    .map_err(|e| anyhow!("reading SSH keys failed: {e}"))?;
    let mut ids = Vec::new();
    for id in found {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Same key material, whatever the comment.
fn same_key(a: &str, b: &str) -> bool {
    ssh_client::parse_public_key(a) == ssh_client::parse_public_key(b)
}

fn pub_files(home: &Path, explicit: Option<&Path>) -> Vec<PathBuf> {
    match explicit {
        Some(f) => vec![f.to_path_buf()],
        None => {
            let mut v: Vec<_> = std::fs::read_dir(home.join(".ssh"))
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "pub"))
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        }
    }
}

/// The key lines of one public key file, or why it is not one.
fn read_pub_file(f: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(f)
        .with_context(|| format!("cannot read SSH public key {}", f.display()))?;
    let mut keys = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        // Every type OpenSSH writes, hardware (sk-) keys included.
        if ssh_key::PublicKey::from_openssh(line).is_err() {
            bail!(
                "{} is not an SSH public key file (expected a line like `ssh-ed25519 AAAA... comment`)",
                f.display()
            );
        }
        keys.push(line.to_string());
    }
    if keys.is_empty() {
        bail!("{} holds no SSH public key", f.display());
    }
    Ok(keys)
}

/// The user's public keys: `explicit` (which must be a key file), else every
/// `~/.ssh/*.pub` that is one; the others are skipped with a note (none at all is
/// fine: berth's own identity is enough).
pub fn user_public_keys(
    home: &Path,
    explicit: Option<&Path>,
) -> Result<(Vec<String>, Vec<String>)> {
    if let Some(f) = explicit {
        return Ok((read_pub_file(f)?, Vec::new()));
    }
    let (mut keys, mut notes) = (Vec::new(), Vec::new());
    for f in &pub_files(home, None) {
        match read_pub_file(f) {
            Ok(k) => keys.extend(k),
            Err(e) => notes.push(format!("skipped {e:#}")),
        }
    }
    Ok((keys, notes))
}

/// The private keys next to the user's public keys (`X` for `X.pub`).
pub fn user_identity_files(home: &Path, explicit: Option<&Path>) -> Vec<PathBuf> {
    pub_files(home, explicit)
        .into_iter()
        .filter_map(|p| {
            p.to_str()
                .and_then(|s| s.strip_suffix(".pub"))
                .map(PathBuf::from)
        })
        .filter(|p| p.is_file())
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm a";
    const SK: &str = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIE3H4Lz+lPL8qv3EyrVgpSOuS6ti6tG4BPq5VvjZBHRbAAAABHNzaDo= yubikey";

    #[test]
    fn with_no_user_key_berths_own_identity_is_used() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        let set = for_create_blocking(&p, None).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.identities, [crate::ssh_identity::key_path(&p)]);
    }

    #[test]
    fn the_users_keys_are_authorized_too_and_bad_files_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::under(d.path());
        let ssh = p.home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::write(ssh.join("a.pub"), format!("{A}\n")).unwrap();
        std::fs::write(ssh.join("a"), "private").unwrap();
        // A hardware key (FIDO, `sk-`) is a key too.
        std::fs::write(ssh.join("b.pub"), format!("{SK}\n")).unwrap();
        let set = for_create_blocking(&p, None).unwrap();
        assert_eq!(set.keys.len(), 3);
        assert!(set.keys[1..].contains(&A.to_string()));
        assert_eq!(set.identities.len(), 2);
        assert!(set.identities[1].ends_with(".ssh/a"));
        let bad = d.path().join("bad.pub");
        std::fs::write(&bad, "hello\n").unwrap();
        let err = for_create_blocking(&p, Some(&bad)).unwrap_err().to_string();
        assert!(err.contains("not an SSH public key"), "{err}");
        // Found in ~/.ssh, a file that is not a key is skipped with a note.
        std::fs::write(ssh.join("zz-notes.pub"), "not a key\n").unwrap();
        let set = for_create_blocking(&p, None).unwrap();
        assert_eq!(set.keys.len(), 3);
        assert!(set.notes[0].contains("zz-notes.pub"), "{:?}", set.notes);
        let missing = d.path().join("missing.pub");
        let err = for_create_blocking(&p, Some(&missing))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.pub"), "{err}");
    }
}
