//! Exponential backoff for engine calls that fail for a while (the engine restarting,
//! a removal the engine is still busy with): the waits between attempts, pure and
//! deterministic. The first wait, doubling, capped per wait, and the waits together
//! never longer than the total (`[cleanup] retry_for`, 15 minutes by default).
//! Jitter is optional and drawn from a seed, so a test knows every wait.
use std::time::Duration;

/// The waits between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub first: Duration,
    /// No single wait is longer.
    pub max_wait: Duration,
    /// The waits together are at most this long.
    pub total: Duration,
    /// `Some(seed)`: each wait is drawn between half and all of its step (fewer
    /// callers retry in lockstep); `None`: the steps exactly.
    pub jitter: Option<u64>,
}

/// The default total: a quarter of an hour.
pub const DEFAULT_TOTAL: Duration = Duration::from_secs(15 * 60);

impl Default for Backoff {
    fn default() -> Self {
        Self::within(DEFAULT_TOTAL)
    }
}

impl Backoff {
    /// 1 s doubling, at most a minute per wait, at most `total` in all; no jitter.
    pub fn within(total: Duration) -> Self {
        Self {
            first: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            total,
            jitter: None,
        }
    }

    pub fn with_jitter(self, seed: u64) -> Self {
        Self {
            jitter: Some(seed),
            ..self
        }
    }

    /// The waits, in order: after the first failed attempt, the first of them, and
    /// so on. When they run out, the caller gives up.
    pub fn waits(&self) -> Waits {
        Waits {
            step: self.first.max(Duration::from_millis(1)),
            max_wait: self.max_wait.max(Duration::from_millis(1)),
            left: self.total,
            rng: self.jitter.map(|s| s ^ 0x9E37_79B9_7F4A_7C15),
        }
    }
}

/// The iterator of [`Backoff::waits`].
#[derive(Debug, Clone)]
pub struct Waits {
    step: Duration,
    max_wait: Duration,
    left: Duration,
    rng: Option<u64>,
}

/// splitmix64: a small, good enough generator with no dependency.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Iterator for Waits {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.left.is_zero() {
            return None;
        }
        let step = self.step.min(self.max_wait);
        self.step = self.step.saturating_mul(2);
        let wait = match &mut self.rng {
            None => step,
            Some(state) => {
                let ms = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
                let half = ms / 2;
                let extra = if ms - half == 0 {
                    0
                } else {
                    next_random(state) % (ms - half + 1)
                };
                Duration::from_millis(half + extra)
            }
        }
        .min(self.left);
        self.left -= wait;
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(v: &[Duration]) -> Vec<u64> {
        v.iter().map(|d| d.as_secs()).collect()
    }

    #[test]
    fn doubles_from_a_second_caps_at_a_minute_and_ends_at_fifteen_minutes() {
        let w: Vec<_> = Backoff::default().waits().collect();
        assert_eq!(secs(&w[..8]), [1, 2, 4, 8, 16, 32, 60, 60]);
        let total: Duration = w.iter().sum();
        assert_eq!(total, Duration::from_secs(900));
        // 1+2+...+32 = 63, then thirteen minutes of 60 s, then the 57 s left.
        assert_eq!(w.len(), 6 + 13 + 1);
        assert_eq!(w.last(), Some(&Duration::from_secs(57)));
    }

    #[test]
    fn a_short_total_cuts_the_last_wait() {
        let w: Vec<_> = Backoff::within(Duration::from_secs(5)).waits().collect();
        assert_eq!(secs(&w), [1, 2, 2]);
        assert_eq!(Backoff::within(Duration::ZERO).waits().count(), 0);
    }

    #[test]
    fn jitter_is_deterministic_for_a_seed_and_stays_within_half_and_all_of_a_step() {
        let a: Vec<_> = Backoff::default().with_jitter(7).waits().collect();
        let b: Vec<_> = Backoff::default().with_jitter(7).waits().collect();
        assert_eq!(a, b);
        let c: Vec<_> = Backoff::default().with_jitter(8).waits().collect();
        assert_ne!(a, c);
        let steps = [1000u128, 2000, 4000, 8000, 16000, 32000, 60000];
        for (w, s) in a.iter().zip(steps) {
            assert!(
                w.as_millis() >= s / 2 && w.as_millis() <= s,
                "{w:?} for {s}"
            );
        }
    }

    proptest! {
        #[test]
        fn the_waits_never_pass_the_total_nor_the_cap(
            total in 0u64..10_000, first in 1u64..5_000, cap in 1u64..120_000, seed in proptest::option::of(any::<u64>())
        ) {
            let b = Backoff {
                first: Duration::from_millis(first),
                max_wait: Duration::from_millis(cap),
                total: Duration::from_secs(total),
                jitter: seed,
            };
            let w: Vec<_> = b.waits().collect();
            let sum: Duration = w.iter().sum();
            prop_assert!(sum <= b.total);
            prop_assert!(w.iter().all(|d| *d <= b.max_wait));
            // Without jitter the whole total is used: giving up is never early.
            if seed.is_none() {
                prop_assert_eq!(sum, b.total);
            }
        }
    }
}
