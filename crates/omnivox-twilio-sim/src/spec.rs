//! What a test asks for ([`CallSpec`]) and what it gets back ([`SimCall`]): a completed call,
//! optionally recorded, with every SID, time and resource the callbacks will mention.

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use serde::{Deserialize, Serialize};

use crate::resources::{
    CallLeg, CallResource, Direction, RecordingResource, RecordingStatus, RecordingSubresources, API_VERSION,
};
use crate::sid::new_sid;

/// How a recording ended, as the `RecordingStatus` of its status callback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingOutcome {
    #[default]
    Completed,
    /// Too short or silent: no media.
    Absent,
    /// Recording failed: no media.
    Failed,
}

impl RecordingOutcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Absent => "absent",
            Self::Failed => "failed",
        }
    }

    /// `ErrorCode` used when the spec gives none. 16101 is one of the codes Twilio documents
    /// for an absent recording; 16104 for `failed` is a simulator choice (no source found).
    fn default_error_code(self) -> Option<u32> {
        match self {
            Self::Completed => None,
            Self::Absent => Some(16101),
            Self::Failed => Some(16104),
        }
    }
}

/// A call to put into the simulator. `..Default::default()` gives a 30-second recorded
/// outbound-api call answered now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSpec {
    /// E.164 caller ID.
    pub from: String,
    /// E.164 number called.
    pub to: String,
    /// `outbound-dial` also creates the parent leg: callbacks are then sent for the child leg
    /// (with `ParentCallSid`) while the recording belongs to the parent, as on Twilio.
    pub direction: Direction,
    pub duration_secs: u32,
    pub record: bool,
    pub recording_status: RecordingOutcome,
    /// `ErrorCode` for `absent`/`failed`; a default code when `None`.
    pub recording_error_code: Option<u32>,
    /// 2 (dual channel, Twilio's default for `<Dial>` recordings) or 1.
    pub recording_channels: u8,
    /// When the call was answered; the recording's `date_created` (truncated to the second).
    pub date_created: DateTime<Utc>,
    /// The recording is already deleted: listed only with `IncludeSoftDeleted=true`.
    pub soft_deleted: bool,
    /// The recording's media answers 404 although its metadata exists.
    pub media_missing: bool,
    /// Passed through as `agentId` in the callback URLs' query, as a dialer's TwiML would.
    pub agent_id: Option<String>,
    /// Passed through as `campaignId` in the callback URLs' query.
    pub campaign_id: Option<String>,
}

impl Default for CallSpec {
    fn default() -> Self {
        Self {
            from: "+14155550100".to_owned(),
            to: "+14155550199".to_owned(),
            direction: Direction::OutboundApi,
            duration_secs: 30,
            record: true,
            recording_status: RecordingOutcome::Completed,
            recording_error_code: None,
            recording_channels: 2,
            date_created: Utc::now(),
            soft_deleted: false,
            media_missing: false,
            agent_id: None,
            campaign_id: None,
        }
    }
}

/// A call the simulator holds: the leg whose status callbacks are sent, its parent for
/// `outbound-dial`, and its recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCall {
    pub call: CallResource,
    pub parent: Option<CallResource>,
    pub recording: Option<RecordingResource>,
    /// `RecordingStatus` of the recording callback (the resource says `absent` for `failed`).
    pub recording_outcome: RecordingOutcome,
    /// When the call was answered (`in-progress`).
    pub answered_at: DateTime<Utc>,
    /// Extra query parameters on both callback URLs (`agentId`, `campaignId`).
    pub callback_query: Vec<(String, String)>,
}

impl SimCall {
    /// SID of the leg whose status callbacks are delivered.
    #[must_use]
    pub fn call_sid(&self) -> &str {
        &self.call.sid
    }

    /// The call a recording callback names: the parent leg when there is one.
    #[must_use]
    pub fn parent_call_sid(&self) -> &str {
        self.call.parent_call_sid.as_deref().unwrap_or(&self.call.sid)
    }

    #[must_use]
    pub fn recording_sid(&self) -> Option<&str> {
        self.recording.as_ref().map(|r| r.sid.as_str())
    }
}

/// Builds the resources for `spec` in account `account_sid`, media served from `base_url`.
pub(crate) fn build_call(spec: CallSpec, account_sid: &str, base_url: &str) -> SimCall {
    let answered = spec.date_created.trunc_subsecs(0);
    let secs = |s: i64| Duration::seconds(s);
    let parent = (spec.direction == Direction::OutboundDial).then(|| {
        // The agent leg the dialer placed first; it ran the <Dial> that created our leg.
        let agent = format!("client:{}", spec.agent_id.as_deref().unwrap_or("agent"));
        CallLeg {
            account_sid,
            sid: new_sid("CA"),
            parent_call_sid: None,
            from: &spec.from,
            to: &agent,
            direction: Direction::OutboundApi,
            created: answered - secs(10),
            answered: answered - secs(8),
            duration: spec.duration_secs + 8,
        }
        .into_resource()
    });
    let call = CallLeg {
        account_sid,
        sid: new_sid("CA"),
        parent_call_sid: parent.as_ref().map(|p| p.sid.clone()),
        from: &spec.from,
        to: &spec.to,
        direction: spec.direction,
        created: answered - secs(6),
        answered,
        duration: spec.duration_secs,
    }
    .into_resource();
    let recording = spec.record.then(|| {
        let owner = parent.as_ref().unwrap_or(&call).sid.clone();
        build_recording(&spec, account_sid, base_url, owner, answered)
    });
    let mut callback_query = Vec::new();
    if let Some(agent) = &spec.agent_id {
        callback_query.push(("agentId".to_owned(), agent.clone()));
    }
    if let Some(campaign) = &spec.campaign_id {
        callback_query.push(("campaignId".to_owned(), campaign.clone()));
    }
    SimCall { call, parent, recording, recording_outcome: spec.recording_status, answered_at: answered, callback_query }
}

fn build_recording(
    spec: &CallSpec,
    account_sid: &str,
    base_url: &str,
    call_sid: String,
    started: DateTime<Utc>,
) -> RecordingResource {
    let sid = new_sid("RE");
    let path = RecordingResource::path(account_sid, &sid);
    let completed = spec.recording_status == RecordingOutcome::Completed;
    // An absent or failed recording has no audio, so no length and no charge.
    let duration = if completed { spec.duration_secs } else { 0 };
    let status = if spec.soft_deleted {
        RecordingStatus::Deleted
    } else if completed {
        RecordingStatus::Completed
    } else {
        RecordingStatus::Absent
    };
    RecordingResource {
        account_sid: account_sid.to_owned(),
        api_version: API_VERSION.to_owned(),
        call_sid,
        conference_sid: None,
        channels: spec.recording_channels.clamp(1, 2),
        date_created: started,
        date_updated: started + Duration::seconds(i64::from(duration) + 1),
        start_time: started,
        price: completed.then(|| format!("-{:.5}", 0.0025 * f64::from(duration.div_ceil(60)))),
        price_unit: "USD".to_owned(),
        duration,
        sid,
        source: "DialVerb".to_owned(),
        status,
        error_code: spec.recording_error_code.or_else(|| spec.recording_status.default_error_code()),
        uri: format!("{path}.json"),
        subresource_uris: RecordingSubresources {
            add_on_results: format!("{path}/AddOnResults.json"),
            transcriptions: format!("{path}/Transcriptions.json"),
        },
        encryption_details: None,
        media_url: format!("{}{path}", base_url.trim_end_matches('/')),
        media_missing: spec.media_missing || !completed,
    }
}
