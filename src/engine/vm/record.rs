//! The files under `<state>/vm` (blocking: call from blocking threads): each
//! machine's `record.json`, each home disk's `home.json`, the name claims that
//! keep two creates of one name apart, and ids. See `engine::vm` for the layout.
use super::VmRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What is kept beside a home disk (`homes/<volume>/home.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeRecord {
    pub volume: String,
    pub labels: BTreeMap<String, String>,
    /// The guest's SSH host public key (its private key is in the disk).
    pub host_key_pub: String,
}

/// How long a create may take before its claim counts as abandoned (the
/// first create on a machine downloads a kernel and exports an image).
pub const UNFINISHED: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn machines(&self) -> PathBuf {
        self.root.join("machines")
    }
    pub fn machine(&self, id: &str) -> PathBuf {
        self.machines().join(id)
    }
    pub fn homes(&self) -> PathBuf {
        self.root.join("homes")
    }
    pub fn home(&self, volume: &str) -> PathBuf {
        self.homes().join(volume)
    }
    pub fn home_disk(&self, volume: &str) -> PathBuf {
        self.home(volume).join("home.ext4")
    }
    fn claims(&self) -> PathBuf {
        self.root.join("names")
    }
    fn claim(&self, container: &str) -> PathBuf {
        self.claims().join(container)
    }

    /// Every record (unreadable ones are skipped with a warning: a machine
    /// being made has none yet).
    pub fn list(&self) -> io::Result<Vec<VmRecord>> {
        let mut out = Vec::new();
        let dir = match fs::read_dir(self.machines()) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for entry in dir {
            let file = entry?.path().join("record.json");
            match fs::read(&file) {
                Ok(raw) => match serde_json::from_slice::<VmRecord>(&raw) {
                    Ok(r) => out.push(r),
                    Err(e) => tracing::warn!("skipping {}: {e}", file.display()),
                },
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.container.cmp(&b.container));
        Ok(out)
    }

    pub fn find(&self, container: &str) -> io::Result<Option<VmRecord>> {
        Ok(self.list()?.into_iter().find(|r| r.container == container))
    }

    /// An exclusive lock on the claims (held while one is read and changed:
    /// two berth processes taking over one stale claim would both win).
    fn lock_claims(&self) -> io::Result<fs::File> {
        private_dir(&self.claims())?;
        let f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(self.claims().join(".lock"))?;
        f.lock()?;
        Ok(f)
    }

    /// Claims `container` for machine `id` (exclusive create), making the
    /// machine's directory first: a claim whose directory is missing is stale,
    /// so it must never be seen before its directory. `Ok(false)` when another
    /// machine holds it; a claim whose machine directory is gone (a create that
    /// died) is taken over.
    pub fn claim_name(&self, container: &str, id: &str) -> io::Result<bool> {
        let _lock = self.lock_claims()?;
        let dir = self.machine(id);
        let made = !dir.exists();
        private_dir(&dir)?;
        let won = self.claim_locked(container, id)?;
        if !won && made {
            remove_dir_if_exists(&dir)?;
        }
        Ok(won)
    }

    fn claim_locked(&self, container: &str, id: &str) -> io::Result<bool> {
        let path = self.claim(container);
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(id.as_bytes())?;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    let holder = holder.trim().to_string();
                    if !self.claim_is_stale(&path, &holder)? {
                        return Ok(false);
                    }
                    tracing::warn!("taking over the stale claim on {container} (machine {holder} was never finished)");
                    if !holder.is_empty() {
                        remove_dir_if_exists(&self.machine(&holder))?;
                    }
                    remove_if_exists(&path)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// A claim whose machine is gone, or has had no record for [`UNFINISHED`]
    /// (its create died: a create in progress writes the record well before).
    fn claim_is_stale(&self, claim: &Path, holder: &str) -> io::Result<bool> {
        if holder.is_empty() {
            return Ok(false);
        }
        let dir = self.machine(holder);
        if !dir.exists() {
            return Ok(true);
        }
        if dir.join("record.json").exists() {
            return Ok(false);
        }
        let age = fs::metadata(claim)?
            .modified()?
            .elapsed()
            .unwrap_or_default();
        Ok(age > UNFINISHED)
    }

    /// Gives up `container`'s claim when `id` holds it.
    pub fn release_name(&self, container: &str, id: &str) -> io::Result<()> {
        let _lock = self.lock_claims()?;
        let path = self.claim(container);
        match fs::read_to_string(&path) {
            Ok(h) if h.trim() == id => remove_if_exists(&path),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn write_record(&self, rec: &VmRecord) -> io::Result<()> {
        write_json(&self.machine(&rec.id).join("record.json"), rec)
    }

    pub fn read_home(&self, volume: &str) -> io::Result<Option<HomeRecord>> {
        match fs::read(self.home(volume).join("home.json")) {
            Ok(raw) => serde_json::from_slice(&raw)
                .map(Some)
                .map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every home with its record (a home without `home.json` is not complete).
    pub fn homes_list(&self) -> io::Result<Vec<HomeRecord>> {
        let mut out = Vec::new();
        let dir = match fs::read_dir(self.homes()) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for entry in dir {
            let name = entry?.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            if let Some(h) = self.read_home(&name)? {
                out.push(h);
            }
        }
        out.sort_by(|a, b| a.volume.cmp(&b.volume));
        Ok(out)
    }
}

/// A directory only this user can enter (made with its parents).
pub fn private_dir(p: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(p)
}

/// `value` as JSON at `path`, through a temp file and a rename (never half-written).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let raw = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&raw)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

pub fn remove_if_exists(p: &Path) -> io::Result<()> {
    match fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

pub fn remove_dir_if_exists(p: &Path) -> io::Result<()> {
    match fs::remove_dir_all(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// 12 hex digits from the OS's randomness (a machine's id).
pub fn new_id() -> io::Result<String> {
    let mut b = [0u8; 6];
    getrandom_bytes(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn getrandom_bytes(buf: &mut [u8]) -> io::Result<()> {
    use std::io::Read;
    fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
