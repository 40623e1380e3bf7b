use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::{CallSid, PhoneNumber};

/// What is known of a call when it is first seen.
#[derive(Debug, Clone)]
pub struct NewCallRecord {
    pub call_sid: CallSid,
    /// Campaign code (`LIVE-CALLS`, `HISTORICAL-CALLS`, …) and display name;
    /// created with its data list when it does not exist yet.
    pub campaign_code: String,
    pub campaign_name: String,
    /// The customer's number; the contact is found or created by it.
    pub contact_phone: Option<PhoneNumber>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnsuredCall {
    pub id: i64,
    /// True for exactly one of any number of concurrent callers.
    pub created: bool,
}

#[async_trait]
pub trait CallRecordStore {
    /// Finds the call record for `call_sid` or creates it, with its
    /// campaign, data list and contact, in one transaction. Any number of
    /// concurrent calls for one CallSid end in one row and no error.
    async fn ensure_call_record(
        &self,
        call: &NewCallRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<EnsuredCall>;
    async fn count_call_records(&self) -> StoreResult<i64>;
}
