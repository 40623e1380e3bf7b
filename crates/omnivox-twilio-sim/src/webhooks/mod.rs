//! The webhook sender: Twilio's call progress and recording status callbacks for simulated
//! calls, signed with `X-Twilio-Signature` over the exact URL and form, delivered the way
//! Twilio really does it: duplicated, out of order, concurrently, retried once on failure.

pub(crate) mod params;
mod send;

use std::fmt;
use std::ops::RangeInclusive;

use rand::seq::SliceRandom as _;

use crate::sid::new_sid;
use crate::spec::SimCall;

pub(crate) use send::deliver;

/// A call progress event (`statusCallbackEvent`), in the order a call goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallEvent {
    Initiated,
    Ringing,
    /// Sent with `CallStatus=in-progress`: Twilio names the event `answered` but not the status.
    Answered,
    Completed,
}

impl CallEvent {
    pub const ALL: [CallEvent; 4] = [Self::Initiated, Self::Ringing, Self::Answered, Self::Completed];

    /// The `CallStatus` this event carries.
    #[must_use]
    pub fn call_status(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::Answered => "in-progress",
            Self::Completed => "completed",
        }
    }
}

/// One kind of callback of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Callback {
    Call(CallEvent),
    Recording,
}

impl fmt::Display for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Call(CallEvent::Initiated) => f.write_str("initiated"),
            Self::Call(CallEvent::Ringing) => f.write_str("ringing"),
            Self::Call(CallEvent::Answered) => f.write_str("answered"),
            Self::Call(CallEvent::Completed) => f.write_str("completed"),
            Self::Recording => f.write_str("recording"),
        }
    }
}

/// How to deliver a call's callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOptions {
    /// Each callback is delivered a random number of times in this range. A range that
    /// includes 0 lets callbacks go missing, as webhooks sometimes do.
    pub copies: RangeInclusive<u32>,
    /// Random order across all of the callbacks (and copies) instead of the natural one.
    pub shuffle: bool,
    /// Which call progress events to send (default: all four).
    pub events: Vec<CallEvent>,
    /// Send the recording status callback (if the call was recorded).
    pub send_recording: bool,
    /// Retry once after a 5xx, a timeout or a connection error, as Twilio does.
    pub retry_on_failure: bool,
    /// Requests in flight at once for [`crate::Simulator::deliver`].
    pub concurrency: usize,
    /// Seed for copies and shuffling; the same seed plans the same deliveries.
    pub seed: Option<u64>,
    /// The base URL Twilio was configured with, when requests reach the
    /// service some other way (a proxy in front of it): signatures cover
    /// this URL, while the requests go to the target.
    pub public_base: Option<String>,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            copies: 1..=1,
            shuffle: false,
            events: CallEvent::ALL.to_vec(),
            send_recording: true,
            retry_on_failure: true,
            concurrency: 1,
            seed: None,
            public_base: None,
        }
    }
}

/// What one HTTP attempt ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Status(u16),
    /// Connection refused, timeout, reset…
    TransportError(String),
}

impl AttemptOutcome {
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Status(code) if (200..300).contains(code))
    }

    /// What Twilio retries: server errors and anything that never got an answer.
    fn is_retryable(&self) -> bool {
        match self {
            Self::Status(code) => *code >= 500,
            Self::TransportError(_) => true,
        }
    }
}

/// One HTTP request the sender made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// Position in the delivery plan; copies of a callback have different positions.
    pub seq: usize,
    /// The leg the callback is about (`CallSid` of call events; the recording callback
    /// names the parent leg, which is the same unless the call is `outbound-dial`).
    pub call_sid: String,
    pub callback: Callback,
    /// Which copy of the callback this is (0-based).
    pub copy: u32,
    /// 0 for the first attempt, 1 for Twilio's retry.
    pub attempt: u32,
    pub url: String,
    pub outcome: AttemptOutcome,
}

/// Every attempt of a delivery, in plan order (a retry right after its first attempt).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub attempts: Vec<DeliveryAttempt>,
}

impl DeliveryReport {
    /// Planned deliveries (callback copies) that ended with a 2xx answer.
    #[must_use]
    pub fn acknowledged(&self) -> usize {
        self.attempts.iter().filter(|a| a.outcome.is_success()).count()
    }

    /// The final attempt of every planned delivery that never got a 2xx.
    #[must_use]
    pub fn unacknowledged(&self) -> Vec<&DeliveryAttempt> {
        let mut failed = Vec::new();
        for (i, attempt) in self.attempts.iter().enumerate() {
            let last_of_seq = self.attempts.get(i + 1).is_none_or(|next| next.seq != attempt.seq);
            if last_of_seq && !attempt.outcome.is_success() {
                failed.push(attempt);
            }
        }
        failed
    }

    #[must_use]
    pub fn all_acknowledged(&self) -> bool {
        self.unacknowledged().is_empty()
    }
}

/// One planned delivery: a copy of one callback of one call.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub seq: usize,
    pub call: usize,
    pub callback: Callback,
    pub copy: u32,
    /// Sent as `I-Twilio-Idempotency-Token`; the same for the copies and retries of one
    /// callback, since those are what Twilio would send twice.
    pub token: String,
}

/// The callbacks of `call` in their natural order.
fn callbacks_of(call: &SimCall, options: &DeliveryOptions) -> Vec<Callback> {
    let mut events = options.events.clone();
    events.sort();
    events.dedup();
    let mut callbacks: Vec<Callback> = events.into_iter().map(Callback::Call).collect();
    if options.send_recording && call.recording.is_some() {
        callbacks.push(Callback::Recording);
    }
    callbacks
}

/// Decides every delivery: how many copies of each callback, and in which order. Without
/// shuffling, calls are interleaved stage by stage (every call's first callback, then every
/// call's second…), the way many concurrent calls progress; a single call keeps its order.
pub(crate) fn plan(
    calls: &[SimCall],
    options: &DeliveryOptions,
    rng: &mut impl rand::Rng,
) -> anyhow::Result<Vec<Planned>> {
    anyhow::ensure!(options.copies.start() <= options.copies.end(), "copies range {:?} is empty", options.copies);
    let per_call: Vec<Vec<Callback>> = calls.iter().map(|c| callbacks_of(c, options)).collect();
    let stages = per_call.iter().map(Vec::len).max().unwrap_or(0);
    let mut planned = Vec::new();
    for stage in 0..stages {
        for (call, callbacks) in per_call.iter().enumerate() {
            let Some(&callback) = callbacks.get(stage) else {
                continue;
            };
            let token = new_sid("");
            for copy in 0..rng.random_range(options.copies.clone()) {
                planned.push(Planned { seq: 0, call, callback, copy, token: token.clone() });
            }
        }
    }
    if options.shuffle {
        planned.shuffle(rng);
    }
    for (seq, item) in planned.iter_mut().enumerate() {
        item.seq = seq;
    }
    Ok(planned)
}

/// The `SequenceNumber` of `event` among the events `options` sends.
pub(crate) fn sequence_number(options: &DeliveryOptions, event: CallEvent) -> usize {
    let mut events = options.events.clone();
    events.sort();
    events.dedup();
    events.iter().position(|e| *e == event).unwrap_or(0)
}

#[cfg(test)]
mod tests;
