//! Cross-site request forgery protection for requests that ride on the
//! session cookie.
//!
//! The cookie is already `SameSite=Strict`; on top of that, a request that
//! changes state (any method but GET, HEAD, OPTIONS) and is authenticated
//! by the cookie rather than an `Authorization` header must carry the
//! page's token in `X-CSRF-Token`, and must not come from another origin.
//! The token is derived from the session token (a keyed hash of it), so it
//! needs no storage, changes with every sign-in, and cannot be computed by
//! anyone who does not already hold the session. Clients that send
//! `Authorization: Bearer` are not exposed to CSRF (a browser never adds
//! that header by itself) and are left alone; so are Twilio's webhooks,
//! which carry no cookie and are checked by signature instead.

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::session::SESSION_COOKIE;
use crate::error::ApiError;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of the session whose cookie holds `session_token`.
pub fn csrf_token(session_token: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"omnivox csrf v1\0");
    hash.update(session_token.as_bytes());
    hex::encode(&hash.finalize()[..16])
}

/// Whether a request to `method` with `headers` may proceed.
pub fn check(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if !same_origin(headers) {
        return Err(ApiError::CrossSite("the request comes from another site"));
    }
    if headers.contains_key(AUTHORIZATION) {
        return Ok(());
    }
    let Some(session) = CookieJar::from_headers(headers).get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(());
    };
    let sent = headers.get(CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    let expected = csrf_token(&session);
    if bool::from(sent.ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::CrossSite("the request lacks this page's CSRF token (X-CSRF-Token); reload the page"))
    }
}

/// A browser names the page's origin in `Origin` on every cross-origin
/// request (and on same-origin POSTs); it must be this service's host, as
/// the client asked for it (`Host`, or `X-Forwarded-Host` behind a proxy).
/// Requests without `Origin` (curl, Twilio, older browsers on GET) pass.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    [HOST.as_str(), "x-forwarded-host"]
        .iter()
        .filter_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .any(|host| origin_host.eq_ignore_ascii_case(host.trim()))
}

pub(crate) async fn guard(req: Request, next: Next) -> Response {
    match check(req.method(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => {
            tracing::info!(method = %req.method(), path = %req.uri().path(), "refused a cross-site request");
            e.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_pass_and_cookie_writes_need_the_token() {
        let token = csrf_token("session-a");
        let cookie = format!("{SESSION_COOKIE}=session-a");
        assert!(check(&Method::GET, &headers(&[("cookie", &cookie)])).is_ok());
        assert!(check(&Method::POST, &headers(&[("cookie", &cookie)])).is_err());
        assert!(check(&Method::POST, &headers(&[("cookie", &cookie), (CSRF_HEADER, "nope")])).is_err());
        assert!(check(&Method::POST, &headers(&[("cookie", &cookie), (CSRF_HEADER, &token)])).is_ok());
        assert!(check(&Method::DELETE, &headers(&[("cookie", &cookie), (CSRF_HEADER, &csrf_token("b"))])).is_err());
    }

    #[test]
    fn bearer_and_cookieless_writes_pass_but_not_from_another_site() {
        assert!(check(&Method::POST, &headers(&[("authorization", "Bearer x")])).is_ok());
        assert!(check(&Method::POST, &headers(&[])).is_ok());
        let foreign = [("host", "omnivox.example:8080"), ("origin", "https://evil.example")];
        assert!(check(&Method::POST, &headers(&foreign)).is_err());
        let same = [("host", "omnivox.example:8080"), ("origin", "http://omnivox.example:8080")];
        assert!(check(&Method::POST, &headers(&same)).is_ok());
        let proxied =
            [("host", "127.0.0.1:8080"), ("x-forwarded-host", "calls.example"), ("origin", "https://calls.example")];
        assert!(check(&Method::POST, &headers(&proxied)).is_ok());
    }

    #[test]
    fn tokens_differ_per_session_and_do_not_reveal_it() {
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert!(!csrf_token("secret-session").contains("secret"));
        assert_eq!(csrf_token("a").len(), 32);
    }
}
