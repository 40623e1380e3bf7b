//! Retry delays: exponential, capped, with "equal jitter" (half the delay is
//! fixed, half random) so that retries of many jobs that failed together
//! spread out, while each retry still waits at least as long as the last.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::from_secs(5), cap: Duration::from_secs(60 * 60) }
    }
}

impl Backoff {
    /// The un-jittered delay after the `attempt`-th failure (1-based).
    pub fn ceiling(&self, attempt: i64) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.base.saturating_mul(1u32 << exp).min(self.cap)
    }

    /// A delay in `[ceiling/2, ceiling]`.
    pub fn delay(&self, attempt: i64) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let jitter_ms = rand::rng().random_range(0..=u64::try_from(half.as_millis()).unwrap_or(u64::MAX));
        half + Duration::from_millis(jitter_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_never_shrinks() {
        let b = Backoff { base: Duration::from_secs(2), cap: Duration::from_secs(60) };
        assert_eq!(b.ceiling(1), Duration::from_secs(2));
        assert_eq!(b.ceiling(3), Duration::from_secs(8));
        assert_eq!(b.ceiling(40), Duration::from_secs(60));
        for attempt in 1..20 {
            let d = b.delay(attempt);
            assert!(d >= b.ceiling(attempt) / 2 && d <= b.ceiling(attempt), "{d:?}");
            assert!(b.delay(attempt + 1) >= b.ceiling(attempt) / 2);
        }
    }
}
