//! Retries of engine calls that fail for a while, with exponential backoff
//! (`domain::backoff`), bounded by a total time. What counts as done although the
//! engine answered with an error: not found (404: already gone, or already
//! stopped by going) and a removal already in progress (409 of that kind). A stop
//! of a stopped container (304) is success already (bollard takes it as one).
//! Other 409s, 500s and an engine that cannot be reached are retried; a permission
//! problem or an error that is not the engine's is not.
//!
//! Drop-safe: dropping the future stops between two attempts or inside one.
use crate::domain::backoff::Backoff;
use crate::engine::EngineError;
use serde::Serialize;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// An attempt gets at least this long, even when the total is shorter.
const ATTEMPT_FLOOR: Duration = Duration::from_secs(30);
/// Errors kept in a report (the count is always whole).
const KEPT_ERRORS: usize = 8;

/// What an error means for the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// The engine says it is done already (why, for the report).
    Done(&'static str),
    Retry,
    Fatal,
}

/// Sorts an error by the engine error inside it (anyhow keeps it findable through
/// context).
pub fn classify(e: &anyhow::Error) -> Class {
    match e.downcast_ref::<EngineError>() {
        Some(EngineError::NotFound { .. }) => Class::Done("already gone (404)"),
        Some(EngineError::RemovalInProgress(_)) => {
            Class::Done("its removal was already in progress (409)")
        }
        Some(
            EngineError::Api(_)
            | EngineError::Conflict(_)
            | EngineError::Unreachable { .. }
            | EngineError::PortTaken(_),
        ) => Class::Retry,
        Some(EngineError::PermissionDenied { .. }) | None => Class::Fatal,
    }
}

/// How a retried operation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "detail")]
pub enum Ended {
    Done,
    /// The engine said it was done already (404, 409 removal in progress).
    AlreadyDone(String),
    /// Still failing when the time ran out.
    GaveUp(String),
    /// An error retrying cannot help.
    Failed(String),
}

impl Ended {
    pub fn ok(&self) -> bool {
        matches!(self, Ended::Done | Ended::AlreadyDone(_))
    }
}

/// The attempts of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retried {
    pub ended: Ended,
    pub attempts: u32,
    /// The errors of the failed attempts (the first few).
    pub errors: Vec<String>,
    /// How many attempts failed in all.
    pub failures: u32,
}

impl Retried {
    /// The retries (attempts after the first).
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }
}

/// Runs `op` until it succeeds, the engine says it is done, an error says retrying
/// cannot help, or the backoff's waits run out. `op` gets the attempt's number
/// (from 1). Each attempt is bounded by what is left of the total (at least
/// [`ATTEMPT_FLOOR`]).
pub async fn retry<F, Fut>(backoff: &Backoff, mut op: F) -> Retried
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let deadline = Instant::now() + backoff.total;
    let mut waits = backoff.waits();
    let mut r = Retried {
        ended: Ended::Done,
        attempts: 0,
        errors: Vec::new(),
        failures: 0,
    };
    loop {
        r.attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let outcome = match tokio::time::timeout(left.max(ATTEMPT_FLOOR), op(r.attempts)).await {
            Ok(o) => o,
            Err(_) => Err(anyhow::Error::new(EngineError::Unreachable {
                endpoint: "the engine".into(),
                reason: format!(
                    "attempt {} took longer than {}s",
                    r.attempts,
                    left.max(ATTEMPT_FLOOR).as_secs()
                ),
            })),
        };
        let e = match outcome {
            Ok(()) => return r,
            Err(e) => e,
        };
        let text = format!("{e:#}");
        match classify(&e) {
            Class::Done(why) => {
                r.ended = Ended::AlreadyDone(why.to_string());
                return r;
            }
            Class::Fatal => {
                r.failures += 1;
                r.ended = Ended::Failed(text);
                return r;
            }
            Class::Retry => {}
        }
        r.failures += 1;
        if r.errors.len() < KEPT_ERRORS {
            r.errors.push(text.clone());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match waits.next() {
            Some(w) if !left.is_zero() => tokio::time::sleep(w.min(left)).await,
            _ => {
                r.ended = Ended::GaveUp(format!(
                    "still failing after {} attempts over {}: {text}",
                    r.attempts,
                    crate::domain::ttl::compact(backoff.total.as_secs())
                ));
                return r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn api() -> anyhow::Error {
        EngineError::Api("boom".into()).into()
    }

    #[test]
    fn not_found_and_removal_in_progress_are_done_other_conflicts_are_retried() {
        let nf: anyhow::Error = EngineError::NotFound { what: "x".into() }.into();
        assert_eq!(classify(&nf), Class::Done("already gone (404)"));
        let busy: anyhow::Error = EngineError::RemovalInProgress("r".into()).into();
        assert!(matches!(classify(&busy), Class::Done(_)));
        let running: anyhow::Error = EngineError::Conflict("container is running".into()).into();
        assert_eq!(classify(&running), Class::Retry);
        assert_eq!(classify(&api()), Class::Retry);
        // Through context too.
        assert_eq!(
            classify(&api().context("removing workspace-a")),
            Class::Retry
        );
        let perm: anyhow::Error = EngineError::PermissionDenied {
            endpoint: "e".into(),
        }
        .into();
        assert_eq!(classify(&perm), Class::Fatal);
        assert_eq!(classify(&anyhow::anyhow!("bad name")), Class::Fatal);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_with_backoff_then_succeeds() {
        let n = AtomicU32::new(0);
        let t0 = Instant::now();
        let r = retry(&Backoff::default(), |_| async {
            if n.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(api())
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(r.ended, Ended::Done);
        assert_eq!((r.attempts, r.failures, r.retries()), (4, 3, 3));
        assert_eq!(r.errors.len(), 3);
        // Waited 1 + 2 + 4 s of tokio time.
        assert_eq!(t0.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_when_the_total_is_spent() {
        let t0 = Instant::now();
        let r = retry(&Backoff::default(), |_| async { Err(api()) }).await;
        assert!(
            matches!(r.ended, Ended::GaveUp(ref m) if m.contains("boom")),
            "{:?}",
            r.ended
        );
        assert_eq!(t0.elapsed(), Duration::from_secs(900));
        assert_eq!(r.attempts, 21);
        assert_eq!(r.errors.len(), KEPT_ERRORS);
        assert_eq!(r.failures, 21);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_attempt_is_cut_and_counted() {
        let b = Backoff::within(Duration::from_secs(40));
        let t0 = Instant::now();
        let r = retry(&b, |_| std::future::pending::<anyhow::Result<()>>()).await;
        assert!(matches!(r.ended, Ended::GaveUp(_)));
        // The first attempt had 40 s; the total bounds the rest.
        assert!(
            t0.elapsed() <= Duration::from_secs(40 + 2 * 30 + 1),
            "{:?}",
            t0.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn done_answers_and_fatal_errors_end_at_once() {
        let r = retry(&Backoff::default(), |_| async {
            Err(EngineError::RemovalInProgress("r".into()).into())
        })
        .await;
        assert!(r.ended.ok());
        assert_eq!(r.attempts, 1);
        let r = retry(&Backoff::default(), |_| async {
            Err(anyhow::anyhow!("bad"))
        })
        .await;
        assert!(matches!(r.ended, Ended::Failed(_)));
        assert!(!r.ended.ok());
    }
}
