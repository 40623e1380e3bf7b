//! The one error type of the HTTP API. Every failure leaves as
//! `{"error":{"code","message"}}`; a 5xx is logged with its cause and
//! answered with an opaque message, so internal details never reach clients.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use omnivox_core::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthorized,
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("you are not allowed to do this")]
    Forbidden,
    /// A state-changing request that rode on the session cookie without
    /// this page's CSRF token, or came from another site.
    #[error("{0}")]
    CrossSite(&'static str),
    #[error("the request's Twilio signature is missing or does not match")]
    BadSignature,
    #[error("{0}")]
    NotConfigured(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// It existed and was removed on purpose (media past its retention).
    #[error("{0}")]
    Gone(String),
    /// Twilio failed to answer a request made on the client's behalf.
    #[error("{0}")]
    Upstream(String),
    #[error("too many attempts; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the service is not ready")]
    Unavailable,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::CrossSite(_) => (StatusCode::FORBIDDEN, "csrf"),
            ApiError::BadSignature => (StatusCode::FORBIDDEN, "bad_signature"),
            ApiError::NotConfigured(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_configured"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Gone(_) => (StatusCode::GONE, "gone"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(what) => ApiError::Conflict(what.to_owned()),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let body = Json(ErrorBody { error: ErrorDetail { code: code.to_owned(), message: self.to_string() } });
        let mut response = (status, body).into_response();
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// The body of every error answer, as the OpenAPI document describes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `bad_request`, `unauthorized`, `bad_credentials`, `forbidden`, `csrf`,
    /// `bad_signature`, `not_configured`, `not_found`, `conflict`, `gone`, `upstream`, `too_many_requests`,
    /// `payload_too_large`, `unavailable` or `internal`.
    pub code: String,
    /// For people; opaque for `internal`.
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;
