//! Retrying Twilio requests: a 429 waits its `Retry-After` (or a jittered
//! backoff when there is none), a 5xx or a network failure a jittered
//! backoff; anything else is final at once.

use std::future::Future;
use std::time::Duration;

use omnivox_jobs::Backoff;
use omnivox_twilio::TwilioError;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub backoff: Backoff,
    /// The longest `Retry-After` honoured; longer ones are cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            backoff: Backoff { base: Duration::from_millis(250), cap: Duration::from_secs(20) },
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, TwilioError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, TwilioError>>,
    {
        let mut attempt = 1u32;
        loop {
            match op().await {
                Err(e) if e.is_transient() && attempt < self.attempts => {
                    let wait = match e.retry_after() {
                        Some(after) => after.min(self.max_retry_after),
                        None => self.backoff.delay(i64::from(attempt)),
                    };
                    tracing::debug!(error = %e, attempt, wait_ms = wait.as_millis() as u64, "Twilio request will be retried");
                    metrics::counter!("omnivox_twilio_retries_total").increment(1);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn api(status: u16, retry_after: Option<Duration>) -> TwilioError {
        TwilioError::Api { status, code: None, message: "x".into(), retry_after }
    }

    fn quick() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            backoff: Backoff { base: Duration::from_millis(1), cap: Duration::from_millis(2) },
            max_retry_after: Duration::from_millis(5),
        }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let out = quick()
            .run(|| async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(api(429, Some(Duration::from_secs(30)))),
                    1 => Err(api(503, None)),
                    _ => Ok(7),
                }
            })
            .await;
        assert_eq!(out.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn permanent_errors_stop_at_once_and_attempts_are_bounded() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = quick()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api(404, None))
            })
            .await;
        assert!(out.unwrap_err().is_not_found());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = quick()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api(500, None))
            })
            .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }
}
