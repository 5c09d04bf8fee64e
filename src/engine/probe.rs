//! A runtime's probe container: what to run and how it ended (see
//! `domain::runtime` for what that says about the runtime).
use std::collections::BTreeMap;
use std::time::Duration;

/// A tiny container started with `runtime` that runs `true` and is removed
/// afterwards, whatever happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Its container name (unique per probe).
    pub name: String,
    /// An image present in the engine (never pulled for a probe).
    pub image: String,
    /// `None`: the engine's default runtime.
    pub runtime: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// How long it may take to exit before it counts as failed.
    pub timeout: Duration,
}

/// How a probe container ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeOutcome {
    pub exit_code: Option<i64>,
    pub timed_out: bool,
    /// Its output (only read when it failed), for the reason.
    pub output: String,
}

/// The command a probe runs (as its entrypoint, so an image's own does not run).
pub const PROBE_CMD: &str = "true";
