//! Injected trouble for REST and media requests: latency before every answer, and 429s or
//! 5xx answers drawn at random per request at the configured rates (seedable, so a test can
//! replay the same sequence). `/_sim/*` control requests are exempt, or a rate of 1.0 could
//! never be switched off again.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

use crate::rest::error::TwilioError;
use crate::state::{lock, Shared};

/// What goes wrong, and how often. `Default` is a healthy Twilio.
///
/// As JSON (`POST /_sim/faults`): `{"latency_ms":100,"rate_429":0.1,"retry_after_secs":2,
/// "rate_5xx":0.01,"media_bytes_per_sec":65536}`, every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Slept before answering each request.
    #[serde(rename = "latency_ms", with = "millis")]
    pub latency: Duration,
    /// Share of requests (0.0–1.0) answered `429 Too Many Requests` (Twilio code 20429).
    pub rate_429: f64,
    /// `Retry-After` sent with each 429, when set.
    pub retry_after_secs: Option<u64>,
    /// Share of requests (0.0–1.0) answered 503 or 500.
    pub rate_5xx: f64,
    /// Media bodies are sent no faster than this (a slow link), when set.
    pub media_bytes_per_sec: Option<u64>,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// What a request gets instead of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass,
    TooManyRequests { retry_after: Option<u64> },
    ServerError { status: u16 },
}

pub(crate) struct FaultState {
    pub faults: Faults,
    rng: StdRng,
}

impl FaultState {
    pub fn new(seed: Option<u64>) -> Self {
        Self { faults: Faults::default(), rng: seeded(seed) }
    }

    pub fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// One draw decides: below `rate_429` a 429, below `rate_429 + rate_5xx` a 5xx. A rate of
    /// 1.0 therefore hits every request and 0.0 none (the draw is in `[0, 1)`).
    pub fn roll(&mut self) -> Verdict {
        let Faults { rate_429, rate_5xx, .. } = self.faults;
        if rate_429 <= 0.0 && rate_5xx <= 0.0 {
            return Verdict::Pass;
        }
        let draw: f64 = self.rng.random();
        if draw < rate_429 {
            Verdict::TooManyRequests { retry_after: self.faults.retry_after_secs }
        } else if draw < rate_429 + rate_5xx {
            let status = if self.rng.random_bool(0.5) { 503 } else { 500 };
            Verdict::ServerError { status }
        } else {
            Verdict::Pass
        }
    }
}

pub(crate) fn seeded(seed: Option<u64>) -> StdRng {
    match seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_rng(&mut rand::rng()),
    }
}

/// Middleware: sleeps the configured latency, then answers a drawn fault or passes on.
pub(crate) async fn inject(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (latency, verdict) = {
        let mut state = lock(&shared.faults);
        (state.faults.latency, state.roll())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match verdict {
        Verdict::Pass => next.run(req).await,
        Verdict::TooManyRequests { retry_after } => TwilioError::too_many_requests(retry_after).into(),
        Verdict::ServerError { status } => TwilioError::server_error(status).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(rate_429: f64, rate_5xx: f64) -> FaultState {
        let mut state = FaultState::new(Some(7));
        state.faults = Faults { rate_429, rate_5xx, retry_after_secs: Some(3), ..Faults::default() };
        state
    }

    #[test]
    fn rate_one_hits_every_request_and_zero_none() {
        let mut all = state(1.0, 0.0);
        let mut none = state(0.0, 0.0);
        for _ in 0..1000 {
            assert_eq!(all.roll(), Verdict::TooManyRequests { retry_after: Some(3) });
            assert_eq!(none.roll(), Verdict::Pass);
        }
    }

    #[test]
    fn rates_are_roughly_honoured_and_seeded_draws_repeat() {
        let draws = |mut s: FaultState| (0..10_000).map(|_| s.roll()).collect::<Vec<_>>();
        let a = draws(state(0.2, 0.1));
        assert_eq!(a, draws(state(0.2, 0.1)), "same seed, same sequence");
        let count_429 = a.iter().filter(|v| matches!(v, Verdict::TooManyRequests { .. })).count();
        let count_5xx = a.iter().filter(|v| matches!(v, Verdict::ServerError { .. })).count();
        assert!((1700..2300).contains(&count_429), "{count_429}");
        assert!((800..1200).contains(&count_5xx), "{count_5xx}");
    }

    #[test]
    fn faults_json_uses_milliseconds_and_defaults_missing_fields() {
        let faults: Faults =
            serde_json::from_str(r#"{"latency_ms":250,"rate_429":0.5}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(faults.latency, Duration::from_millis(250));
        assert_eq!(faults.rate_429, 0.5);
        assert_eq!(faults.rate_5xx, 0.0);
        assert_eq!(faults.retry_after_secs, None);
    }
}
