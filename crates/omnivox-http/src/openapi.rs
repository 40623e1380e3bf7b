//! `GET /api/openapi.json`: the OpenAPI 3 document of the JSON API, derived
//! from the handlers' `#[utoipa::path]` annotations and the serde types they
//! answer with, so it changes with them. Built and serialized once.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::path::OperationBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::session::SESSION_COOKIE;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::webhooks::{RECORDING_CALLBACK_PATH, RECORDING_STATUS_PATH};

pub const OPENAPI_PATH: &str = "/api/openapi.json";

pub fn router() -> Router<AppState> {
    Router::new().route(OPENAPI_PATH, get(openapi_json))
}

/// The error responses most operations share, described once and referred
/// to (`response = crate::openapi::NotSignedIn`): types for the document
/// only, each an [`ErrorBody`].
macro_rules! error_responses {
    ($($name:ident: $description:literal,)*) => {$(
        #[derive(utoipa::ToResponse)]
        #[response(description = $description)]
        #[expect(dead_code, reason = "describes a response in the OpenAPI document; never built")]
        pub(crate) struct $name(ErrorBody);
    )*};
}

error_responses! {
    BadRequest: "Malformed request; the message names the field",
    NotSignedIn: "Not signed in",
    Forbidden: "Signed in without the role this needs, or a cookie-authenticated change without `X-CSRF-Token`",
    NotFound: "No such thing, or not visible to this user",
    BadSignature: "`X-Twilio-Signature` missing or wrong; nothing written",
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Omnivox Call Records",
        description = "Calls placed through Twilio and their recordings. JSON in camelCase; every error is \
                       `{\"error\":{\"code\",\"message\"}}`. Sign in with `POST /api/auth/login`, then send the \
                       token as `Authorization: Bearer` or let the browser send the `omnivox_session` cookie; a \
                       change (POST, PUT, DELETE) that rides on the cookie must carry the page's `X-CSRF-Token`. \
                       Roles, least to most: agent (only the calls it handled; any other answers 404), supervisor, \
                       admin. Each operation's description names who may call it."
    ),
    paths(
        crate::auth::login,
        crate::auth::logout,
        crate::auth::me,
        crate::calls::list::list_call_records,
        crate::calls::call_record,
        crate::retention::set_legal_hold,
        crate::imports::start,
        crate::imports::list,
        crate::imports::one,
        crate::imports::items,
        crate::recordings::metadata,
        crate::recordings::play,
        crate::recordings::download,
        crate::recordings::peaks,
        crate::recordings::retry::retry_sync,
        crate::events::events,
        crate::directory::campaigns,
        crate::directory::users,
        crate::admin::list_jobs,
        crate::admin::retry_job,
        crate::admin::list_audit,
        crate::imports::sync_gaps,
        crate::retention::set_retention,
        crate::purge::purge,
        crate::webhooks::call_status,
        crate::webhooks::recording_status,
        crate::webhooks::twiml::outbound,
        crate::health::healthz,
        crate::health::readyz,
        crate::health::metrics,
        openapi_json,
    ),
    components(schemas(ErrorBody), responses(BadRequest, NotSignedIn, Forbidden, NotFound, BadSignature)),
    modifiers(&SecuritySchemes, &RecordingCallbackAlias),
    security(("bearer_token" = []), ("session_cookie" = [])),
    tags(
        (name = "auth", description = "Sign-in and sessions"),
        (name = "call-records", description = "Calls, their recordings and timeline, live events"),
        (name = "recordings", description = "Recording metadata, playback, download, peaks"),
        (name = "imports", description = "Historical import of the Twilio account's recordings (admins)"),
        (name = "directory", description = "What the list's filters offer"),
        (name = "admin", description = "Jobs, audit log, retention, sync gaps, purge (admins)"),
        (name = "twilio", description = "Twilio's webhooks, checked against `X-Twilio-Signature`"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// The ways a request proves who sends it.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `token` of `POST /api/auth/login`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "Set by `POST /api/auth/login`; changes also need `X-CSRF-Token`",
            ))),
        );
        components.add_security_scheme(
            "twilio_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Twilio-Signature",
                "HMAC-SHA1 of the public URL and the sorted form parameters, keyed by TWILIO_AUTH_TOKEN",
            ))),
        );
    }
}

/// `/api/calls/recording-callback` is served by the recording-status
/// handler; one handler carries one annotation, so the second path is a
/// copy of the first with its own operation id.
struct RecordingCallbackAlias;

impl Modify for RecordingCallbackAlias {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(item) = openapi.paths.paths.get(RECORDING_STATUS_PATH).cloned() else { return };
        let mut alias = item;
        if let Some(post) = alias.post.take() {
            let post = OperationBuilder::from(post)
                .operation_id(Some("recording_callback"))
                .description(Some("The older name of `POST /api/dialer/webhook/recording-status`: the same handler."))
                .build();
            alias.post = Some(post);
        }
        openapi.paths.paths.insert(RECORDING_CALLBACK_PATH.to_owned(), alias);
    }
}

/// Serialized on first use; an error (which would be a bug) is kept and
/// answered as a 500 rather than panicking in a request.
static DOCUMENT: LazyLock<Result<Bytes, String>> =
    LazyLock::new(|| ApiDoc::openapi().to_json().map(Bytes::from).map_err(|e| e.to_string()));

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    security(()),
    description = "Anyone.",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json", body = serde_json::Value))
)]
async fn openapi_json() -> Response {
    match &*DOCUMENT {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        Err(e) => ApiError::Internal(anyhow::anyhow!("cannot serialize the OpenAPI document: {e}")).into_response(),
    }
}
