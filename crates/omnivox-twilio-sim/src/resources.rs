//! The Recording and Call resources exactly as the 2010-04-01 API returns them (field names,
//! strings where Twilio sends strings, RFC 2822 dates, relative `uri`s), shaped after the
//! spec's `fetch` and `readFull` examples. They double as the simulator's ground truth.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::wire;

pub const API_VERSION: &str = "2010-04-01";

/// `status` of a Recording resource. The REST enum has no `failed`: a recording whose
/// callback said `failed` is kept as `absent` with its `error_code` (see `spec::RecordingOutcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingStatus {
    InProgress,
    Paused,
    Stopped,
    Processing,
    Completed,
    Absent,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingSubresources {
    pub add_on_results: String,
    pub transcriptions: String,
}

/// One recording. `media_missing` is simulator-only (never serialized): its media answers 404.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingResource {
    pub account_sid: String,
    pub api_version: String,
    pub call_sid: String,
    pub conference_sid: Option<String>,
    pub channels: u8,
    #[serde(with = "wire::date")]
    pub date_created: DateTime<Utc>,
    #[serde(with = "wire::date")]
    pub date_updated: DateTime<Utc>,
    #[serde(with = "wire::date")]
    pub start_time: DateTime<Utc>,
    pub price: Option<String>,
    pub price_unit: String,
    #[serde(with = "wire::string_number")]
    pub duration: u32,
    pub sid: String,
    pub source: String,
    pub status: RecordingStatus,
    pub error_code: Option<u32>,
    pub uri: String,
    pub subresource_uris: RecordingSubresources,
    pub encryption_details: Option<serde_json::Value>,
    pub media_url: String,
    #[serde(skip)]
    pub media_missing: bool,
}

impl RecordingResource {
    /// `/2010-04-01/Accounts/AC…/Recordings/RE…` without extension: what `RecordingUrl` and
    /// `media_url` point at (Twilio appends `.wav`, `.mp3` or `.json`).
    #[must_use]
    pub fn path(account_sid: &str, sid: &str) -> String {
        format!("/{API_VERSION}/Accounts/{account_sid}/Recordings/{sid}")
    }

    pub fn is_deleted(&self) -> bool {
        self.status == RecordingStatus::Deleted
    }
}

/// A page of `GET …/Recordings.json`, field for field as in the spec's `readFull` example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingPage {
    pub end: usize,
    pub first_page_uri: String,
    /// Null on the last page; otherwise follow it exactly as given.
    pub next_page_uri: Option<String>,
    pub page: usize,
    pub page_size: usize,
    pub previous_page_uri: Option<String>,
    pub recordings: Vec<RecordingResource>,
    pub start: usize,
    pub uri: String,
}

/// `status` of a Call resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    Queued,
    Ringing,
    InProgress,
    Completed,
    Busy,
    Failed,
    NoAnswer,
    Canceled,
}

/// `direction` of a call leg.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Placed through the REST API (`Calls.json`): the dialer's own calls.
    #[default]
    OutboundApi,
    /// The child leg a `<Dial>` created; its parent is the leg that ran the TwiML.
    OutboundDial,
    Inbound,
}

impl Direction {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutboundApi => "outbound-api",
            Self::OutboundDial => "outbound-dial",
            Self::Inbound => "inbound",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSubresources {
    pub notifications: String,
    pub recordings: String,
    pub payments: String,
    pub events: String,
    pub siprec: String,
    pub streams: String,
    pub transcriptions: String,
    pub user_defined_message_subscriptions: String,
    pub user_defined_messages: String,
}

impl CallSubresources {
    fn for_call(call_uri_stem: &str) -> Self {
        let sub = |name: &str| format!("{call_uri_stem}/{name}.json");
        Self {
            notifications: sub("Notifications"),
            recordings: sub("Recordings"),
            payments: sub("Payments"),
            events: sub("Events"),
            siprec: sub("Siprec"),
            streams: sub("Streams"),
            transcriptions: sub("Transcriptions"),
            user_defined_message_subscriptions: sub("UserDefinedMessageSubscriptions"),
            user_defined_messages: sub("UserDefinedMessages"),
        }
    }
}

/// One call leg, as `GET …/Calls/{CallSid}.json` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallResource {
    pub account_sid: String,
    pub answered_by: Option<String>,
    pub api_version: String,
    pub caller_name: Option<String>,
    #[serde(with = "wire::date")]
    pub date_created: DateTime<Utc>,
    #[serde(with = "wire::date")]
    pub date_updated: DateTime<Utc>,
    pub direction: Direction,
    #[serde(with = "wire::string_number")]
    pub duration: u32,
    #[serde(with = "wire::opt_date")]
    pub end_time: Option<DateTime<Utc>>,
    pub forwarded_from: Option<String>,
    pub from: String,
    pub from_formatted: String,
    pub group_sid: Option<String>,
    pub parent_call_sid: Option<String>,
    pub phone_number_sid: Option<String>,
    pub price: Option<String>,
    pub price_unit: String,
    pub sid: String,
    #[serde(with = "wire::opt_date")]
    pub start_time: Option<DateTime<Utc>>,
    pub status: CallStatus,
    pub subresource_uris: CallSubresources,
    pub to: String,
    pub to_formatted: String,
    pub trunk_sid: Option<String>,
    pub uri: String,
    pub queue_time: String,
}

/// What a completed call leg looks like; the times come from the caller (`spec`).
pub(crate) struct CallLeg<'a> {
    pub account_sid: &'a str,
    pub sid: String,
    pub parent_call_sid: Option<String>,
    pub from: &'a str,
    pub to: &'a str,
    pub direction: Direction,
    pub created: DateTime<Utc>,
    pub answered: DateTime<Utc>,
    pub duration: u32,
}

impl CallLeg<'_> {
    pub fn into_resource(self) -> CallResource {
        let stem = format!("/{API_VERSION}/Accounts/{}/Calls/{}", self.account_sid, self.sid);
        let end = self.answered + chrono::Duration::seconds(i64::from(self.duration));
        CallResource {
            account_sid: self.account_sid.to_owned(),
            answered_by: None,
            api_version: API_VERSION.to_owned(),
            caller_name: None,
            date_created: self.created,
            date_updated: end,
            direction: self.direction,
            duration: self.duration,
            end_time: Some(end),
            forwarded_from: None,
            from: self.from.to_owned(),
            from_formatted: format_number(self.from),
            group_sid: None,
            parent_call_sid: self.parent_call_sid,
            phone_number_sid: None,
            // US outbound is billed per started minute; the rate only has to look plausible.
            price: Some(format!("-{:.5}", 0.014 * f64::from(self.duration.div_ceil(60)))),
            price_unit: "USD".to_owned(),
            sid: self.sid,
            start_time: Some(self.answered),
            status: CallStatus::Completed,
            subresource_uris: CallSubresources::for_call(&stem),
            to: self.to.to_owned(),
            to_formatted: format_number(self.to),
            trunk_sid: None,
            uri: format!("{stem}.json"),
            queue_time: "0".to_owned(),
        }
    }
}

/// Twilio formats North American numbers as `(305) 141-6799` and leaves others in E.164.
pub(crate) fn format_number(e164: &str) -> String {
    match e164.strip_prefix("+1") {
        Some(rest) if rest.len() == 10 && rest.bytes().all(|b| b.is_ascii_digit()) => {
            format!("({}) {}-{}", &rest[..3], &rest[3..6], &rest[6..])
        }
        _ => e164.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn north_american_numbers_are_formatted_like_twilio() {
        assert_eq!(format_number("+13051416799"), "(305) 141-6799");
        assert_eq!(format_number("+442071838750"), "+442071838750");
    }
}
