//! What Twilio calls: the status callbacks (`/api/dialer/webhook/*`, and
//! `/api/calls/recording-callback`, an older name of the recording one) and
//! the softphone's TwiML. Every request is signature-checked first; a 2xx is
//! sent only once the ingest transaction has committed.

mod signed;
pub(crate) mod twiml;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use omnivox_core::ingest::{
    Attribution, CallStatusEvent, FoundBy, IngestEvent, IngestRequest, ParamError, Params, RecordingEvent, LIVE_CALLS,
};
use omnivox_core::store::UserId;
use tracing::Instrument;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
pub use signed::{SignedForm, TwilioWebhooks};

pub const CALL_STATUS_PATH: &str = "/api/dialer/webhook/call-status";
pub const RECORDING_STATUS_PATH: &str = "/api/dialer/webhook/recording-status";
pub const RECORDING_CALLBACK_PATH: &str = "/api/calls/recording-callback";
pub const OUTBOUND_TWIML_PATH: &str = "/api/dialer/twiml/outbound";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(CALL_STATUS_PATH, post(call_status))
        .route(RECORDING_STATUS_PATH, post(recording_status))
        .route(RECORDING_CALLBACK_PATH, post(recording_status))
        .route(OUTBOUND_TWIML_PATH, post(twiml::outbound))
}

#[utoipa::path(
    post, path = "/api/dialer/webhook/call-status", tag = "twilio",
    description = "Twilio's call status callback, signed with `X-Twilio-Signature`. Optional query `agentId`, `campaignId`. 2xx only once committed.",
    security(("twilio_signature" = [])),
    request_body(content = std::collections::HashMap<String, String>, content_type = "application/x-www-form-urlencoded", description = "Twilio's call status parameters: CallSid, CallStatus, ParentCallSid, From, To, Direction, CallDuration, SequenceNumber, Timestamp, …"),
    responses((status = 204, description = "Ingested"), (status = 400, response = crate::openapi::BadRequest), (status = 403, response = crate::openapi::BadSignature))
)]
async fn call_status(State(app): State<AppState>, form: SignedForm) -> ApiResult<StatusCode> {
    let event = CallStatusEvent::from_params(&form.params).map_err(bad_input)?;
    let span = tracing::debug_span!("call_status", call_sid = %event.record_call_sid(), status = event.status.as_str());
    ingest(&app, IngestEvent::CallStatus(event), &form.query).instrument(span).await
}

#[utoipa::path(
    post, path = "/api/dialer/webhook/recording-status", tag = "twilio",
    description = "Twilio's recording status callback, signed with `X-Twilio-Signature`. Optional query `agentId`, `campaignId`. 2xx only once committed.",
    security(("twilio_signature" = [])),
    request_body(content = std::collections::HashMap<String, String>, content_type = "application/x-www-form-urlencoded", description = "Twilio's recording status parameters: RecordingSid, CallSid, RecordingStatus, RecordingUrl, RecordingDuration, RecordingChannels, RecordingSource, …"),
    responses((status = 204, description = "Ingested"), (status = 400, response = crate::openapi::BadRequest), (status = 403, response = crate::openapi::BadSignature))
)]
async fn recording_status(State(app): State<AppState>, form: SignedForm) -> ApiResult<StatusCode> {
    let event = RecordingEvent::from_params(&form.params).map_err(bad_input)?;
    let span =
        tracing::debug_span!("recording_status", call_sid = %event.call_sid, recording_sid = %event.recording_sid);
    ingest(&app, IngestEvent::Recording(event), &form.query).instrument(span).await
}

async fn ingest(app: &AppState, event: IngestEvent, query: &Params) -> ApiResult<StatusCode> {
    let request = IngestRequest {
        event,
        attribution: attribution(query)?,
        default_campaign: LIVE_CALLS,
        found_by: FoundBy::Webhook,
        received_at: app.clock.now(),
    };
    let outcome = app.ingestor.ingest(&request).await?;
    tracing::trace!(call_record_id = outcome.call_record_id, created = outcome.call_created, "ingested");
    Ok(StatusCode::NO_CONTENT)
}

fn bad_input(e: ParamError) -> ApiError {
    ApiError::BadRequest(e.to_string())
}

/// `agentId` and `campaignId` from our own callback URLs.
fn attribution(query: &Params) -> ApiResult<Attribution> {
    let agent_id = query
        .parse("agentId", |v| v.parse::<i64>().map(UserId).map_err(|_| format!("{v:?} is not a user id")))
        .map_err(bad_input)?;
    let campaign_code = query.parse("campaignId", twiml::campaign_code).map_err(bad_input)?;
    Ok(Attribution { campaign_code, agent_id })
}
