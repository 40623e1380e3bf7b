//! Calls for tests, made the only way calls are made: through ingest, as
//! Twilio's callbacks would make them, at a chosen time.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use omnivox_core::ingest::{
    Attribution, CallStatusEvent, FollowUps, FoundBy, IngestEvent, IngestRequest, Params, RecordingEvent, LIVE_CALLS,
};
use omnivox_core::store::UserId;
use omnivox_core::Store;

/// One call: `n` names its CallSid (`CA` + n in 32 hex digits).
#[derive(Debug, Clone)]
pub struct SeedCall {
    pub n: u32,
    pub campaign: Option<String>,
    pub agent: Option<UserId>,
    /// A Twilio call status.
    pub status: &'static str,
    /// `inbound`, `outbound-api`, …: the customer is `From` of inbound calls, `To` otherwise.
    pub direction: &'static str,
    pub customer: String,
    /// When the callback arrives: the call's sort time.
    pub at: DateTime<Utc>,
    pub recording: bool,
}

impl SeedCall {
    pub fn new(n: u32, at: DateTime<Utc>) -> Self {
        Self {
            n,
            campaign: None,
            agent: None,
            status: "completed",
            direction: "outbound-api",
            customer: format!("+1415555{:04}", n % 10_000),
            at,
            recording: false,
        }
    }

    pub fn call_sid(&self) -> String {
        format!("CA{:032x}", self.n)
    }
}

/// Our side of every seeded call.
pub const OUR_NUMBER: &str = "+14155550000";

fn params(pairs: &[(&str, &str)]) -> Params {
    Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

fn no_follow_ups(_: &IngestRequest, _: &omnivox_core::ingest::IngestOutcome) -> Vec<omnivox_core::store::NewJob> {
    Vec::new()
}

/// Ingests the call's status callback (and its recording's), returning the
/// call record's id.
pub async fn seed_call(store: &Arc<dyn Store>, call: &SeedCall) -> i64 {
    let sid = call.call_sid();
    let (from, to) = match call.direction {
        "inbound" => (call.customer.as_str(), OUR_NUMBER),
        _ => (OUR_NUMBER, call.customer.as_str()),
    };
    let p = params(&[
        ("CallSid", &sid),
        ("CallStatus", call.status),
        ("SequenceNumber", "3"),
        ("Direction", call.direction),
        ("From", from),
        ("To", to),
        ("CallDuration", "30"),
    ]);
    let event = IngestEvent::CallStatus(CallStatusEvent::from_params(&p).expect("call status params"));
    let request = |event| IngestRequest {
        event,
        attribution: Attribution { campaign_code: call.campaign.clone(), agent_id: call.agent },
        default_campaign: LIVE_CALLS,
        found_by: FoundBy::Webhook,
        received_at: call.at,
    };
    let none: Arc<FollowUps> = Arc::new(no_follow_ups);
    let id = store.ingest(&request(event), &none).await.expect("ingest call").call_record_id;
    if call.recording {
        let rec = format!("RE{:032x}", call.n);
        let p = params(&[
            ("CallSid", &sid),
            ("RecordingSid", &rec),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", "30"),
            ("RecordingChannels", "2"),
        ]);
        let event = IngestEvent::Recording(RecordingEvent::from_params(&p).expect("recording params"));
        store.ingest(&request(event), &none).await.expect("ingest recording");
    }
    id
}
