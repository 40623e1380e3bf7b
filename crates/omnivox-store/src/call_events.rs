//! The row shape of a call's timeline (`call_events`) and its conversion
//! to the API's view. Times are Unix milliseconds, as in `rows`.

use omnivox_core::store::CallEventView;
use omnivox_core::StoreError;
use sqlx::types::Json;

use crate::rows::from_ms;

#[derive(sqlx::FromRow)]
pub(crate) struct CallEventRow {
    pub id: i64,
    pub source: String,
    pub status: Option<String>,
    pub sequence_number: Option<i64>,
    pub occurred_at: Option<i64>,
    pub received_at: i64,
    pub payload: Json<serde_json::Value>,
}

pub(crate) const CALL_EVENT_SELECT: &str =
    "SELECT id, source, status, sequence_number, occurred_at, received_at, payload FROM call_events";

impl TryFrom<CallEventRow> for CallEventView {
    type Error = StoreError;
    fn try_from(r: CallEventRow) -> Result<Self, StoreError> {
        Ok(CallEventView {
            id: r.id,
            source: r.source,
            status: r.status,
            sequence_number: r.sequence_number,
            occurred_at: r.occurred_at.map(from_ms).transpose()?,
            received_at: from_ms(r.received_at)?,
            payload: r.payload.0,
        })
    }
}
