//! The create form's last choices (profile, passthrough mode, dotfiles URL),
//! remembered across runs in a small file in the state directory. Never a secret:
//! a dotfiles URL with credentials in it is not remembered. Read and written on
//! blocking threads (the UI loop never touches the file).
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormChoices {
    pub profile: Option<String>,
    /// "auto", "all" or "none"; `None`: the profile's or the config's default.
    pub passthrough: Option<String>,
    pub dotfiles: Option<String>,
}

pub fn file(state_dir: &Path) -> PathBuf {
    state_dir.join("create-form.json")
}

/// The remembered choices; nothing (defaults) when the file is missing or bad.
/// Blocking.
pub fn load(state_dir: &Path) -> FormChoices {
    std::fs::read(file(state_dir))
        .ok()
        .and_then(|b| serde_json::from_slice::<FormChoices>(&b).ok())
        .map(FormChoices::safe)
        .unwrap_or_default()
}

/// Writes the choices (private file). Blocking.
pub fn save(state_dir: &Path, choices: &FormChoices) -> anyhow::Result<()> {
    crate::private_fs::ensure_dir(state_dir)?;
    let json = serde_json::to_vec_pretty(&choices.clone().safe())?;
    crate::private_fs::write_private(&file(state_dir), &json)
}

/// Does a URL carry credentials (`https://user:token@host/...`, `https://token@host`)?
/// scp-like `git@host:repo` names a user, not a secret.
pub fn has_credentials(url: &str) -> bool {
    url.split_once("://").is_some_and(|(_, rest)| {
        let authority = rest.split('/').next().unwrap_or("");
        authority.contains('@')
    })
}

impl FormChoices {
    /// Without anything that could be a secret.
    pub fn safe(mut self) -> Self {
        if self.dotfiles.as_deref().is_some_and(has_credentials) {
            self.dotfiles = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_round_trip_through_the_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), FormChoices::default());
        let c = FormChoices {
            profile: Some("python".into()),
            passthrough: Some("none".into()),
            dotfiles: Some("https://example.com/me/dots.git".into()),
        };
        save(dir.path(), &c).unwrap();
        assert_eq!(load(dir.path()), c);
        // A bad file is ignored.
        std::fs::write(file(dir.path()), "{not json").unwrap();
        assert_eq!(load(dir.path()), FormChoices::default());
    }

    #[test]
    fn urls_with_credentials_are_never_written() {
        for secret in [
            "https://me:ghp_abc@github.com/me/dots",
            "https://ghp_abc@github.com/me/dots",
        ] {
            assert!(has_credentials(secret), "{secret}");
            let dir = tempfile::tempdir().unwrap();
            let c = FormChoices {
                dotfiles: Some(secret.into()),
                ..Default::default()
            };
            save(dir.path(), &c).unwrap();
            let text = std::fs::read_to_string(file(dir.path())).unwrap();
            assert!(!text.contains("ghp_abc"), "{text}");
        }
        for fine in ["git@github.com:me/dots.git", "https://github.com/me/a@b"] {
            assert!(!has_credentials(fine), "{fine}");
        }
    }
}
