//! User profiles: `<config dir>/profiles/NAME.toml`, each adding a profile or
//! replacing the built-in of its name (see `domain::profiles` for the format). A
//! bad file is an error naming the file, line and field, like the config's.
use crate::domain::profiles::{parse, ProfileSet};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The profiles directory next to the config file `config_file`.
pub fn dir(config_file: &Path) -> PathBuf {
    config_file
        .parent()
        .map_or_else(|| PathBuf::from("profiles"), |d| d.join("profiles"))
}

/// The built-ins with the files of `dir` over them (no directory: the built-ins).
/// Read at start, like the config file itself.
pub fn load(dir: &Path) -> Result<ProfileSet> {
    let mut set = ProfileSet::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(set),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the profiles in {}", dir.display()))
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read profile {}", path.display()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        set.insert(parse(&name, &text, &path.display().to_string())?);
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_files_override_and_add_and_a_bad_one_names_its_line() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(load(&d.path().join("none")).unwrap(), ProfileSet::default());
        std::fs::write(
            d.path().join("python.toml"),
            "description = \"my python\"\n",
        )
        .unwrap();
        std::fs::write(d.path().join("ml.toml"), "packages = [\"python3\"]\n").unwrap();
        std::fs::write(d.path().join("notes.txt"), "not a profile").unwrap();
        let s = load(d.path()).unwrap();
        assert_eq!(s.get("python").unwrap().description, "my python");
        assert_eq!(s.get("ml").unwrap().packages, ["python3"]);
        assert!(s.get("rust").is_ok(), "built-ins stay");
        std::fs::write(
            d.path().join("bad.toml"),
            "description = \"x\"\n[forward]\ngit = 1\n",
        )
        .unwrap();
        let e = format!("{:#}", load(d.path()).unwrap_err());
        assert!(
            e.contains("bad.toml: line 3") && e.contains("invalid type"),
            "{e}"
        );
    }

    #[test]
    fn the_directory_sits_next_to_the_config_file() {
        assert_eq!(
            dir(Path::new("/c/berth/config.toml")),
            Path::new("/c/berth/profiles")
        );
    }
}
