//! Preflight (issue 12): the checks before an agent session or an MCP client's
//! first create, in the shape the container-operator seed returns:
//! `{"ready", "runtime", "checks": [{"name", "passed", "detail", "guidance"?}]}`.
use serde::Serialize;

/// One check: its name (snake_case), whether it passed, what was found, and when it
/// failed, the command or step that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
}

impl Check {
    pub fn pass(name: &str, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            passed: true,
            detail: detail.into(),
            guidance: None,
        }
    }

    pub fn fail(name: &str, detail: impl Into<String>, guidance: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            passed: false,
            detail: detail.into(),
            guidance: Some(guidance.into()),
        }
    }
}

/// The whole answer: ready when every check passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preflight {
    pub ready: bool,
    /// The engine berth talks to ("docker", or "unknown" when it does not answer).
    pub runtime: String,
    pub checks: Vec<Check>,
}

impl Preflight {
    pub fn new(runtime: impl Into<String>, checks: Vec<Check>) -> Self {
        Self {
            ready: checks.iter().all(|c| c.passed),
            runtime: runtime.into(),
            checks,
        }
    }

    /// The failed checks as one sentence each ("NAME: DETAIL; fix: GUIDANCE").
    pub fn failures(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| match &c.guidance {
                Some(g) => format!("{}: {}; {g}", c.name, c.detail),
                None => format!("{}: {}", c.name, c.detail),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_check_passed_and_guidance_is_left_out_when_none() {
        let ok = Preflight::new("docker", vec![Check::pass("daemon_running", "answers")]);
        assert!(ok.ready);
        let v = serde_json::to_value(&ok).unwrap();
        assert!(v["checks"][0].get("guidance").is_none());
        let bad = Preflight::new(
            "docker",
            vec![
                Check::pass("daemon_running", "answers"),
                Check::fail("image_integrity", "altered", "run `berth image build`"),
            ],
        );
        assert!(!bad.ready);
        assert_eq!(
            bad.failures(),
            ["image_integrity: altered; run `berth image build`"]
        );
    }
}
