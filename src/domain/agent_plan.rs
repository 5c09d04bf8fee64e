//! Pure decisions for starting an agent session (issue 12): its branch, its
//! profile layer, the directory of its clone. No I/O here.
use super::agents::AgentDef;
use super::profiles::{Profile, ProfileSet};
use super::workspace::WORKSPACE_HOME;

/// The prefix of an agent's numbered session branches (`AGENT/session-`).
pub fn session_prefix(agent: &str) -> String {
    format!("{agent}/session-")
}

/// The next free `AGENT/session-N` over `taken` (the host repository's branches
/// and the branches of existing sessions): one above the highest N in use.
pub fn next_session_branch<'a>(agent: &str, taken: impl IntoIterator<Item = &'a str>) -> String {
    let prefix = session_prefix(agent);
    let highest = taken
        .into_iter()
        .filter_map(|b| b.strip_prefix(&prefix))
        .filter_map(|n| n.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    format!("{prefix}{}", highest.saturating_add(1))
}

/// The name of an agent's profile layer (and of its image, `berth/profile-agent-NAME`).
pub fn profile_name(agent: &str) -> String {
    format!("agent-{agent}")
}

/// The agent's profile: its base profile with the agent's packages and install
/// commands added, so the profile image machinery builds it once and reuses it.
pub fn agent_profile(profiles: &ProfileSet, def: &AgentDef) -> Result<Profile, String> {
    let base = profiles
        .get(&def.profile)
        .map_err(|e| format!("agent {}: {e}", def.name))?;
    let mut p = base.clone();
    p.name = profile_name(&def.name);
    p.description = format!("agent {} over profile {}", def.name, def.profile);
    for pkg in &def.packages {
        if !p.packages.contains(pkg) {
            p.packages.push(pkg.clone());
        }
    }
    p.build.extend(def.install.iter().cloned());
    p.source = def.source.clone();
    Ok(p)
}

/// The repository's directory name (the last component of its path), for the
/// session's name and its clone.
pub fn repo_dir_name(repo: &str) -> String {
    let last = repo.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let clean: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    match clean.trim_start_matches('.') {
        "" => "repo".into(),
        s => s.into(),
    }
}

/// Where the clone of `repo` lives inside the workspace.
pub fn clone_path(repo: &str) -> String {
    format!("{WORKSPACE_HOME}/{}", repo_dir_name(repo))
}

/// Is `b` a branch name berth passes safely to git (git's own check runs too)?
pub fn plausible_branch(b: &str) -> bool {
    !b.is_empty()
        && !b.starts_with(['-', '/'])
        && !b.ends_with(['/', '.'])
        && !b.contains("..")
        && !b.contains("//")
        && b.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::agents::built_in;

    #[test]
    fn the_next_session_is_one_above_the_highest() {
        assert_eq!(next_session_branch("fake", []), "fake/session-1");
        let taken = [
            "main",
            "fake/session-1",
            "fake/session-7",
            "other/session-9",
        ];
        assert_eq!(next_session_branch("fake", taken), "fake/session-8");
        assert_eq!(
            next_session_branch("fake", ["fake/session-x", "fake/session-2"]),
            "fake/session-3"
        );
    }

    #[test]
    fn the_agent_profile_extends_its_base() {
        let set = ProfileSet::default();
        let mut def = built_in().remove(0);
        def.profile = "clean".into();
        def.packages = vec!["jq".into()];
        let p = agent_profile(&set, &def).unwrap();
        assert_eq!(p.name, "agent-claude");
        assert!(p.packages.contains(&"jq".to_string()));
        assert_eq!(p.build.last(), def.install.last());
        assert!(p.needs_image());
        def.profile = "nope".into();
        assert!(agent_profile(&set, &def).unwrap_err().contains("nope"));
    }

    #[test]
    fn clone_paths_and_branches() {
        assert_eq!(clone_path("/src/My Repo/"), "/home/workspace/My-Repo");
        assert_eq!(clone_path("/"), "/home/workspace/repo");
        assert_eq!(repo_dir_name("/x/.hidden"), "hidden");
        assert!(plausible_branch("fake/session-1"));
        for bad in ["", "-f", "a..b", "a b", "x/", "a;b"] {
            assert!(!plausible_branch(bad), "{bad}");
        }
    }
}
