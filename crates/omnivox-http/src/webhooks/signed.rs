//! The `SignedForm` extractor: a Twilio request whose `X-Twilio-Signature`
//! matches the URL Twilio called (the configured public base URL plus this
//! request's path and raw query) and its body. Anything else is refused
//! before a byte of it is used.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use omnivox_core::ingest::Params;
use omnivox_twilio::RequestValidator;

use crate::error::ApiError;
use crate::state::AppState;

/// What the service needs to accept and answer Twilio's requests.
pub struct TwilioWebhooks {
    pub validator: RequestValidator,
    /// `OMNIVOX_PUBLIC_URL`, as Twilio calls it.
    pub public_base: String,
    /// The number outbound calls show, for the softphone TwiML.
    pub caller_id: Option<String>,
}

pub struct SignedForm {
    pub params: Params,
    /// The query of the URL Twilio called (our own callback URLs carry
    /// `agentId` and `campaignId` there).
    pub query: Params,
}

impl<S> FromRequest<S> for SignedForm
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let twilio: Arc<TwilioWebhooks> = app.twilio.clone().ok_or_else(|| {
            ApiError::NotConfigured("Twilio webhooks need TWILIO_AUTH_TOKEN and OMNIVOX_PUBLIC_URL".into())
        })?;
        let signature = req
            .headers()
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or(ApiError::BadSignature)?;
        let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        let raw_query = req.uri().query().unwrap_or_default().to_owned();
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })?;
        let url = omnivox_twilio::public_url(&twilio.public_base, &path_and_query);
        if !twilio.validator.validate(&url, &body, &signature) {
            tracing::warn!(path = %path_and_query.split('?').next().unwrap_or_default(), "refused a request with a bad Twilio signature");
            return Err(ApiError::BadSignature);
        }
        Ok(SignedForm { params: decode(&body), query: decode(raw_query.as_bytes()) })
    }
}

fn decode(raw: &[u8]) -> Params {
    Params(url::form_urlencoded::parse(raw).into_owned().collect())
}
