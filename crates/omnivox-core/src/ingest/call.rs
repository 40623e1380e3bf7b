//! Call status events and how they merge into a call record.
//!
//! Every field of a call is the value of the *highest-ranked* event that
//! carried it, under a total order ([`OrderKey`]): the Calls API beats a
//! child leg's callbacks, which beat the parent leg's; within a source,
//! `SequenceNumber`, then `Timestamp`, then status rank. Taking a maximum
//! is commutative and idempotent, so duplicates and reordering cannot
//! change the result, and a late `ringing` never overwrites `completed`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::params::{ParamError, Params};
use crate::{CallSid, PhoneNumber};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    Queued,
    Initiated,
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Canceled,
    Failed,
}

impl CallStatus {
    pub fn parse(v: &str) -> Option<Self> {
        Some(match v {
            "queued" => Self::Queued,
            "initiated" => Self::Initiated,
            "ringing" => Self::Ringing,
            "in-progress" | "answered" => Self::InProgress,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "no-answer" => Self::NoAnswer,
            "canceled" => Self::Canceled,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::NoAnswer => "no-answer",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
        }
    }

    pub fn is_terminal(self) -> bool {
        self.rank() == 4
    }

    fn rank(self) -> u8 {
        match self {
            Self::Queued | Self::Initiated => 1,
            Self::Ringing => 2,
            Self::InProgress => 3,
            _ => 4,
        }
    }

    /// The outcome shown in the list: what happened to the call, once known.
    pub fn outcome(self) -> Option<&'static str> {
        match self {
            Self::Completed => Some("answered"),
            Self::Busy => Some("busy"),
            Self::NoAnswer => Some("no-answer"),
            Self::Canceled => Some("canceled"),
            Self::Failed => Some("failed"),
            _ => None,
        }
    }
}

/// The rank of a fact's source; larger wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderKey {
    /// 0 parent-leg callback, 1 child-leg callback, 2 the Calls API.
    pub source: u8,
    pub sequence: i64,
    pub timestamp_ms: i64,
    pub rank: u8,
}

/// A value with the key of the event that gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyed<T> {
    pub key: OrderKey,
    pub value: T,
}

fn offer<T: Ord + Clone>(slot: &mut Option<Keyed<T>>, key: OrderKey, value: Option<T>) {
    let Some(value) = value else { return };
    let wins = match slot {
        None => true,
        // Equal keys with different values (never seen from Twilio) are
        // settled by the value, so the result still does not depend on order.
        Some(cur) => (key, &value) > (cur.key, &cur.value),
    };
    if wins {
        *slot = Some(Keyed { key, value });
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Parties {
    pub direction: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Parties {
    /// The customer's number: the called party of an outbound call, the
    /// caller of an inbound one; `None` for clients and SIP addresses.
    pub fn customer_phone(&self) -> Option<PhoneNumber> {
        let inbound = self.direction.as_deref() == Some("inbound");
        let raw = if inbound { self.from.as_deref() } else { self.to.as_deref() };
        raw.and_then(|n| PhoneNumber::parse(n).ok())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ending {
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
}

/// A call status callback (or the Calls API's view of a call).
#[derive(Debug, Clone)]
pub struct CallStatusEvent {
    pub call_sid: CallSid,
    pub parent_call_sid: Option<CallSid>,
    pub status: CallStatus,
    pub parties: Parties,
    /// Known only from the Calls API.
    pub started_at: Option<DateTime<Utc>>,
    /// For a terminal status: when the call ended.
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub answered_by: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
    pub sequence_number: Option<i64>,
    /// From the Calls API rather than a callback.
    pub authoritative: bool,
    pub raw: serde_json::Value,
}

impl CallStatusEvent {
    /// Parses a call status callback; a 400 names the field at fault.
    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let sid = |name: &'static str, v: &str| {
            CallSid::parse(v).map_err(|e| ParamError::Invalid { field: name, problem: e.to_string() })
        };
        let call_sid = sid("CallSid", p.required("CallSid")?)?;
        let parent_call_sid = p.get("ParentCallSid").map(|v| sid("ParentCallSid", v)).transpose()?;
        let raw_status = p.required("CallStatus")?;
        let status = CallStatus::parse(raw_status).ok_or_else(|| ParamError::Invalid {
            field: "CallStatus",
            problem: format!("unknown status {raw_status:?}"),
        })?;
        let duration_seconds = match p.whole_number("CallDuration")? {
            Some(d) => Some(d),
            None if status.is_terminal() => p.whole_number("Duration")?.map(|minutes| minutes * 60),
            None => None,
        };
        let timestamp = p.time("Timestamp")?;
        Ok(Self {
            call_sid,
            parent_call_sid,
            status,
            parties: Parties {
                direction: p.get("Direction").map(str::to_owned),
                from: p.get("From").map(str::to_owned),
                to: p.get("To").map(str::to_owned),
            },
            started_at: None,
            ended_at: if status.is_terminal() { timestamp } else { None },
            duration_seconds,
            answered_by: p.get("AnsweredBy").map(str::to_owned),
            timestamp,
            sequence_number: p.whole_number("SequenceNumber")?,
            authoritative: false,
            raw: p.to_json(),
        })
    }

    /// The call record this event belongs to: the parent leg's.
    pub fn record_call_sid(&self) -> &CallSid {
        self.parent_call_sid.as_ref().unwrap_or(&self.call_sid)
    }

    pub fn order_key(&self) -> OrderKey {
        let source = if self.authoritative {
            2
        } else if self.parent_call_sid.is_some() {
            1
        } else {
            0
        };
        OrderKey {
            source,
            sequence: self.sequence_number.unwrap_or(-1),
            timestamp_ms: self.timestamp.map_or(-1, |t| t.timestamp_millis()),
            rank: self.status.rank(),
        }
    }
}

/// Everything the webhooks and the Calls API have said about a call,
/// each fact with the key of its source. Stored with the call record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFacts {
    pub status: Option<Keyed<CallStatus>>,
    pub parties: Option<Keyed<Parties>>,
    pub ending: Option<Keyed<Ending>>,
    pub answered_by: Option<Keyed<String>>,
    /// The earliest time any event reports; the start when nothing better is known.
    pub first_event_at: Option<DateTime<Utc>>,
    pub started_at: Option<Keyed<DateTime<Utc>>>,
}

impl CallFacts {
    pub fn merge(&mut self, e: &CallStatusEvent) {
        let key = e.order_key();
        offer(&mut self.status, key, Some(e.status));
        let has_parties = e.parties.direction.is_some() || e.parties.from.is_some() || e.parties.to.is_some();
        offer(&mut self.parties, key, has_parties.then(|| e.parties.clone()));
        if e.status.is_terminal() {
            let ending = Ending { ended_at: e.ended_at, duration_seconds: e.duration_seconds };
            offer(&mut self.ending, key, Some(ending));
        }
        offer(&mut self.answered_by, key, e.answered_by.clone());
        offer(&mut self.started_at, key, e.started_at);
        if let Some(t) = e.timestamp {
            self.first_event_at = Some(self.first_event_at.map_or(t, |cur| cur.min(t)));
        }
    }

    pub fn status(&self) -> Option<CallStatus> {
        self.status.as_ref().map(|k| k.value)
    }

    pub fn parties(&self) -> Option<&Parties> {
        self.parties.as_ref().map(|k| &k.value)
    }

    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.ending.as_ref().and_then(|k| k.value.ended_at)
    }

    pub fn duration_seconds(&self) -> Option<i64> {
        self.ending.as_ref().and_then(|k| k.value.duration_seconds)
    }

    /// The start: from the Calls API when known, else end minus duration,
    /// else the earliest event.
    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        if let Some(s) = &self.started_at {
            return Some(s.value);
        }
        match (self.ended_at(), self.duration_seconds()) {
            (Some(end), Some(d)) => Some(end - chrono::Duration::seconds(d)),
            _ => self.first_event_at,
        }
    }

    /// Whether the Calls API should be asked for what callbacks did not say.
    pub fn needs_details(&self) -> bool {
        self.parties.is_none() || self.started_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(status: &str, seq: i64, extra: &[(&str, &str)]) -> CallStatusEvent {
        let mut p = vec![
            ("CallSid".to_owned(), "CA00000000000000000000000000000001".to_owned()),
            ("CallStatus".to_owned(), status.to_owned()),
            ("SequenceNumber".to_owned(), seq.to_string()),
            ("Timestamp".to_owned(), format!("Mon, 16 Feb 2026 14:32:{:02} +0000", seq * 5)),
            ("Direction".to_owned(), "outbound-api".to_owned()),
            ("From".to_owned(), "+14155550100".to_owned()),
            ("To".to_owned(), "+14155550199".to_owned()),
        ];
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        CallStatusEvent::from_params(&Params(p)).unwrap()
    }

    fn lifecycle() -> Vec<CallStatusEvent> {
        vec![
            event("initiated", 0, &[]),
            event("ringing", 1, &[]),
            event("in-progress", 2, &[("AnsweredBy", "human")]),
            event("completed", 3, &[("CallDuration", "42")]),
        ]
    }

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for i in 0..=p.len() {
                let mut q = p.clone();
                q.insert(i, n - 1);
                out.push(q);
            }
        }
        out
    }

    #[test]
    fn every_order_and_any_duplicates_give_the_same_facts() {
        let events = lifecycle();
        let mut expected = CallFacts::default();
        for e in &events {
            expected.merge(e);
        }
        assert_eq!(expected.status(), Some(CallStatus::Completed));
        assert_eq!(expected.duration_seconds(), Some(42));
        assert_eq!(expected.answered_by.as_ref().map(|k| k.value.as_str()), Some("human"));
        assert_eq!(
            expected.started_at().map(|t| t.to_rfc3339()),
            Some("2026-02-16T14:31:33+00:00".to_owned()),
            "end minus duration"
        );
        for order in permutations(events.len()) {
            let mut facts = CallFacts::default();
            for &i in &order {
                facts.merge(&events[i]);
                facts.merge(&events[i]); // a duplicate delivery
            }
            assert_eq!(facts, expected, "order {order:?}");
        }
    }

    #[test]
    fn a_late_ringing_never_overwrites_completed() {
        let mut facts = CallFacts::default();
        facts.merge(&event("completed", 3, &[("CallDuration", "42")]));
        facts.merge(&event("ringing", 1, &[]));
        assert_eq!(facts.status(), Some(CallStatus::Completed));
        assert_eq!(facts.duration_seconds(), Some(42));
    }

    #[test]
    fn child_leg_events_belong_to_the_parent_record() {
        let child = event("busy", 2, &[("ParentCallSid", "CA00000000000000000000000000000009")]);
        assert_eq!(child.record_call_sid().as_str(), "CA00000000000000000000000000000009");
        let mut facts = CallFacts::default();
        facts.merge(&event("completed", 5, &[]));
        facts.merge(&child);
        assert_eq!(facts.status(), Some(CallStatus::Busy), "the customer's leg decides the outcome");
    }

    #[test]
    fn malformed_callbacks_say_what_is_wrong() {
        let missing = CallStatusEvent::from_params(&Params(vec![("CallStatus".into(), "completed".into())]));
        assert_eq!(missing.unwrap_err().to_string(), "missing required field CallSid");
        let bad = CallStatusEvent::from_params(&Params(vec![
            ("CallSid".into(), "CA00000000000000000000000000000001".into()),
            ("CallStatus".into(), "exploded".into()),
        ]));
        assert!(bad.unwrap_err().to_string().contains("CallStatus"));
    }
}
