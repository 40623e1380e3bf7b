//! The HTTP side of the simulator: Twilio's 2010-04-01 REST paths (recordings, their media,
//! calls) behind HTTP Basic auth and the fault injector, the `/_sim` control endpoints, and
//! a request log around everything.

pub(crate) mod calls;
pub(crate) mod control;
pub(crate) mod error;
pub(crate) mod listing;
pub(crate) mod recordings;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Uri};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::faults;
use crate::state::{lock, LoggedRequest, Shared};
use error::TwilioError;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // Layers run outside-in in reverse order of `.layer` calls: auth, then faults, so a
    // request with bad credentials is refused at once and fault rates count real requests.
    let api = Router::new()
        .route("/2010-04-01/Accounts/{account}/Recordings.json", get(recordings::list))
        .route("/2010-04-01/Accounts/{account}/Recordings/{file}", get(recordings::fetch).delete(recordings::delete))
        .route("/2010-04-01/Accounts/{account}/Calls/{file}", get(calls::fetch))
        .fallback(not_found)
        .layer(from_fn_with_state(shared.clone(), faults::inject));
    Router::new()
        .route("/_sim/faults", get(control::get_faults).post(control::set_faults))
        .merge(api)
        .layer(from_fn_with_state(shared.clone(), require_basic_auth))
        .layer(from_fn_with_state(shared.clone(), log_request))
        .with_state(shared)
}

async fn not_found(uri: Uri) -> TwilioError {
    TwilioError::not_found(uri.path())
}

/// Every request needs `Authorization: Basic base64(AccountSid:AuthToken)`, as on Twilio.
async fn require_basic_auth(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if credentials_match(req.headers(), &shared.account_sid, &shared.auth_token) {
        next.run(req).await
    } else {
        TwilioError::unauthenticated().into()
    }
}

fn credentials_match(headers: &HeaderMap, account_sid: &str, auth_token: &str) -> bool {
    let Some(encoded) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = BASE64.decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    // The account SID never contains ':', so the first one separates user from password.
    text.split_once(':') == Some((account_sid, auth_token))
}

/// Records method, path with query, final status and `Range` of every request.
async fn log_request(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path_and_query().map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    let range = req.headers().get(header::RANGE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let response = next.run(req).await;
    lock(&shared.log).push(LoggedRequest { method, path, status: response.status().as_u16(), range });
    response
}

/// The account in the path must be the simulated one; any other is unknown (404).
pub(crate) fn check_account(shared: &Shared, account: &str, uri: &Uri) -> Result<(), TwilioError> {
    if account == shared.account_sid {
        Ok(())
    } else {
        Err(TwilioError::not_found(uri.path()))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[test]
    fn basic_credentials_must_match_exactly() {
        let ok = format!("Basic {}", BASE64.encode("ACx:secret"));
        assert!(credentials_match(&headers(&ok), "ACx", "secret"));
        let wrong = format!("Basic {}", BASE64.encode("ACx:secrets"));
        assert!(!credentials_match(&headers(&wrong), "ACx", "secret"));
        assert!(!credentials_match(&headers("Bearer abc"), "ACx", "secret"));
        assert!(!credentials_match(&headers("Basic !!!"), "ACx", "secret"));
        assert!(!credentials_match(&HeaderMap::new(), "ACx", "secret"));
    }
}
