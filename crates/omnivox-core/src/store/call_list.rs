//! The Call Records list: which calls, in which order, a page at a time.
//!
//! The order is newest first by the call's sort time (`startedAt`, or when
//! the call was first seen while its start is unknown), ties broken by id;
//! pages continue strictly after the last row of the previous one (keyset
//! pagination), so a page costs the same however deep it is and rows
//! inserted meanwhile neither repeat nor hide older ones.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{CallRecordView, UserId};
use crate::CallSid;

/// Largest page the list answers.
pub const MAX_PAGE_SIZE: u32 = 200;
/// The page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// The position of a row in the list's order: where the next page starts
/// (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallListPosition {
    /// The sort time, Unix milliseconds.
    pub sort_at_ms: i64,
    pub id: i64,
}

/// At least this many digits make a phone search (fewer would match almost
/// every number, and cannot use the trigram indexes).
pub const MIN_PHONE_DIGITS: usize = 3;
/// At least this many characters make a contact-name search.
pub const MIN_NAME_CHARS: usize = 3;
/// At least this many hexadecimal digits after `CA` make a CallSid prefix.
pub const MIN_SID_PREFIX_HEX: usize = 4;

/// Part of a phone number: digits only, at least [`MIN_PHONE_DIGITS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneDigits(String);

impl PhoneDigits {
    /// Keeps the digits of what a person typed (`+1 (415) 555-01`), or
    /// `None` when the text holds anything but digits, spaces and `+-().`,
    /// or fewer than [`MIN_PHONE_DIGITS`] digits.
    pub fn parse(typed: &str) -> Option<Self> {
        if !typed.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
            return None;
        }
        let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
        (digits.len() >= MIN_PHONE_DIGITS).then_some(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the free-text search `q` looks for, decided from its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextSearch {
    /// Part of the contact's phone number.
    Phone(PhoneDigits),
    /// The start of a CallSid: `CA` and at least four hexadecimal digits
    /// (kept as typed after `CA`, lowercased: Twilio writes them so).
    CallSidPrefix(String),
    /// Part of the contact's name, case-insensitive.
    ContactName(String),
}

impl TextSearch {
    /// `None` when `q` is too short to search for anything.
    pub fn parse(q: &str) -> Option<Self> {
        let q = q.trim();
        if let Some(phone) = PhoneDigits::parse(q) {
            return Some(Self::Phone(phone));
        }
        if let Some(hex) = q.strip_prefix("CA") {
            if hex.len() >= MIN_SID_PREFIX_HEX && hex.len() <= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Some(Self::CallSidPrefix(format!("CA{}", hex.to_ascii_lowercase())));
            }
        }
        (q.chars().count() >= MIN_NAME_CHARS).then(|| Self::ContactName(q.to_owned()))
    }
}

/// Which calls to list. Every filter narrows; none set lists every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallListQuery {
    /// The campaign's code (`LIVE-CALLS`, …).
    pub campaign: Option<String>,
    pub agent: Option<UserId>,
    /// A Twilio call status (`completed`, `no-answer`, …).
    pub status: Option<String>,
    /// A Twilio direction (`inbound`, `outbound-api`, `outbound-dial`).
    pub direction: Option<String>,
    /// Part of the contact's phone number.
    pub phone: Option<PhoneDigits>,
    /// Sort time at or after.
    pub from: Option<DateTime<Utc>>,
    /// Sort time at or before.
    pub to: Option<DateTime<Utc>>,
    pub has_recording: Option<bool>,
    pub text: Option<TextSearch>,
    pub call_sid: Option<CallSid>,
    /// 1..=[`MAX_PAGE_SIZE`].
    pub limit: u32,
    /// Continue after this row (the previous page's `next`).
    pub after: Option<CallListPosition>,
}

impl Default for CallListQuery {
    fn default() -> Self {
        Self {
            campaign: None,
            agent: None,
            status: None,
            direction: None,
            phone: None,
            from: None,
            to: None,
            has_recording: None,
            text: None,
            call_sid: None,
            limit: DEFAULT_PAGE_SIZE,
            after: None,
        }
    }
}

/// One page of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct CallPage {
    pub items: Vec<CallRecordView>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<CallListPosition>,
}

/// One line of a call's timeline: a callback or an enrichment, as received.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallEventView {
    pub id: i64,
    /// call-status, calls-api, recording-status, import or sweep.
    pub source: String,
    pub status: Option<String>,
    pub sequence_number: Option<i64>,
    /// When Twilio says it happened.
    pub occurred_at: Option<DateTime<Utc>>,
    /// When Omnivox received it.
    pub received_at: DateTime<Utc>,
    /// The parameters as received.
    pub payload: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_digits_keep_digits_of_what_people_type() {
        assert_eq!(PhoneDigits::parse("+1 (415) 555-01").unwrap().as_str(), "141555501");
        assert_eq!(PhoneDigits::parse("555").unwrap().as_str(), "555");
        assert_eq!(PhoneDigits::parse("55"), None);
        assert_eq!(PhoneDigits::parse("555a"), None);
        assert_eq!(PhoneDigits::parse("5%5_5"), None);
    }

    #[test]
    fn text_search_is_decided_by_shape() {
        assert_eq!(TextSearch::parse(" 415 555 "), Some(TextSearch::Phone(PhoneDigits("415555".into()))));
        assert_eq!(TextSearch::parse("CA12AB"), Some(TextSearch::CallSidPrefix("CA12ab".into())));
        assert_eq!(TextSearch::parse("CA12"), Some(TextSearch::ContactName("CA12".into())));
        assert_eq!(TextSearch::parse("Ada Lovelace"), Some(TextSearch::ContactName("Ada Lovelace".into())));
        assert_eq!(TextSearch::parse("ab"), None);
        assert_eq!(TextSearch::parse("12"), None);
    }
}
