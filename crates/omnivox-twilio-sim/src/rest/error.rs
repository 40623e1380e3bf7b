//! Twilio's error answers: JSON `{code, message, more_info, status}` with the HTTP status,
//! plus the headers that go with some of them (`WWW-Authenticate`, `Retry-After`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TwilioError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: u32,
    message: &'a str,
    more_info: String,
    status: u16,
}

impl TwilioError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    /// Missing or wrong HTTP Basic credentials (Twilio error 20003).
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }

    /// Twilio's 20404, naming the path asked for.
    pub fn not_found(path: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, 20404, format!("The requested resource {path} was not found"))
    }

    /// A query parameter with a value Twilio would refuse. Code 20001 is a simulator choice.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 20001, message)
    }

    pub fn too_many_requests(retry_after: Option<u64>) -> Self {
        Self { retry_after, ..Self::new(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests") }
    }

    /// 503 (code 20503) or 500 (code 20500).
    pub fn server_error(status: u16) -> Self {
        if status == 503 {
            Self::new(StatusCode::SERVICE_UNAVAILABLE, 20503, "Service Unavailable")
        } else {
            Self::new(StatusCode::INTERNAL_SERVER_ERROR, 20500, "Internal Server Error")
        }
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let body = Body {
            code: self.code,
            message: &self.message,
            more_info: format!("https://www.twilio.com/docs/errors/{}", self.code),
            status: self.status.as_u16(),
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Twilio API\""));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<TwilioError> for Response {
    fn from(error: TwilioError) -> Self {
        error.into_response()
    }
}
