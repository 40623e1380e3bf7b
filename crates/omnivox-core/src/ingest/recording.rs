//! Recording status events and how they merge into a recording.
//!
//! A recording's status only moves forward (`in-progress` → `completed`);
//! `absent` and `failed` are kept with Twilio's ErrorCode. The recording's
//! details come from the event with the highest status, so any order of
//! deliveries gives the same row.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::params::{ParamError, Params};
use crate::{CallSid, RecordingSid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingStatus {
    // Declared in forward order: the derived `Ord` is the merge order.
    InProgress,
    Paused,
    Stopped,
    Processing,
    Absent,
    Failed,
    Completed,
    Deleted,
}

impl RecordingStatus {
    pub fn parse(v: &str) -> Option<Self> {
        Some(match v {
            "in-progress" => Self::InProgress,
            "paused" => Self::Paused,
            "stopped" => Self::Stopped,
            "processing" => Self::Processing,
            "absent" => Self::Absent,
            "failed" => Self::Failed,
            "completed" => Self::Completed,
            "deleted" => Self::Deleted,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in-progress",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
            Self::Processing => "processing",
            Self::Absent => "absent",
            Self::Failed => "failed",
            Self::Completed => "completed",
            Self::Deleted => "deleted",
        }
    }
}

/// Where a recording's media is in its life in Omnivox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    Pending,
    Stored,
    Verified,
    Transcribed,
    Failed,
    Deleted,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Stored => "stored",
            Self::Verified => "verified",
            Self::Transcribed => "transcribed",
            Self::Failed => "failed",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        Some(match v {
            "pending" => Self::Pending,
            "stored" => Self::Stored,
            "verified" => Self::Verified,
            "transcribed" => Self::Transcribed,
            "failed" => Self::Failed,
            "deleted" => Self::Deleted,
            _ => return None,
        })
    }
}

/// What a recording status callback (or a Recordings API item) says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordingFacts {
    pub status: RecordingStatus,
    pub duration_seconds: Option<i64>,
    pub channels: Option<i64>,
    pub source: Option<String>,
    pub track: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub error_code: Option<String>,
}

impl RecordingFacts {
    /// The facts after also hearing `other`: the more advanced status wins
    /// whole; equal statuses keep the larger value, so order never matters.
    pub fn merged(self, other: &RecordingFacts) -> RecordingFacts {
        if *other > self {
            other.clone()
        } else {
            self
        }
    }

    /// The sync state a recording starts in, with the reason when it failed.
    pub fn initial_sync(&self) -> (SyncStatus, Option<String>) {
        match self.status {
            RecordingStatus::Absent | RecordingStatus::Failed => {
                let code = self.error_code.as_deref().map(|c| format!(" (ErrorCode {c})")).unwrap_or_default();
                (SyncStatus::Failed, Some(format!("Twilio reported the recording {}{code}", self.status.as_str())))
            }
            RecordingStatus::Deleted => (SyncStatus::Deleted, Some("deleted at Twilio".into())),
            _ => (SyncStatus::Pending, None),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RecordingEvent {
    pub recording_sid: RecordingSid,
    /// The parent leg of the call.
    pub call_sid: CallSid,
    pub facts: RecordingFacts,
    pub raw: serde_json::Value,
}

impl RecordingEvent {
    pub fn from_params(p: &Params) -> Result<Self, ParamError> {
        let recording_sid = RecordingSid::parse(p.required("RecordingSid")?)
            .map_err(|e| ParamError::Invalid { field: "RecordingSid", problem: e.to_string() })?;
        let call_sid = CallSid::parse(p.required("CallSid")?)
            .map_err(|e| ParamError::Invalid { field: "CallSid", problem: e.to_string() })?;
        let raw_status = p.required("RecordingStatus")?;
        let status = RecordingStatus::parse(raw_status).ok_or_else(|| ParamError::Invalid {
            field: "RecordingStatus",
            problem: format!("unknown status {raw_status:?}"),
        })?;
        let channels = p.whole_number("RecordingChannels")?;
        if channels.is_some_and(|c| !(1..=2).contains(&c)) {
            return Err(ParamError::Invalid { field: "RecordingChannels", problem: "must be 1 or 2".into() });
        }
        Ok(Self {
            recording_sid,
            call_sid,
            facts: RecordingFacts {
                status,
                // Twilio sends -1 while a recording is in progress.
                duration_seconds: p
                    .parse("RecordingDuration", |v| {
                        v.parse::<i64>().map_err(|_| format!("{v:?} is not a whole number"))
                    })?
                    .filter(|d| *d >= 0),
                channels,
                source: p.get("RecordingSource").map(str::to_owned),
                track: p.get("RecordingTrack").map(str::to_owned),
                started_at: p.time("RecordingStartTime")?,
                error_code: p.get("ErrorCode").filter(|c| *c != "0").map(str::to_owned),
            },
            raw: p.to_json(),
        })
    }
}
