//! The page's scripts, styles and icon, compiled into the binary: nothing
//! to build or copy at deployment. Each is served with a strong ETag (its
//! SHA-256), so a browser revalidates with one small request and a new
//! release is picked up at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset { name: $name, content_type: $type, body: include_bytes!(concat!("../../assets/", $name)) }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("common.js", JS),
    asset!("login.js", JS),
    asset!("call-records.js", JS),
    asset!("call-record.js", JS),
    asset!("player.js", JS),
    asset!("icon.svg", "image/svg+xml"),
];

static ETAGS: LazyLock<Vec<String>> =
    LazyLock::new(|| ASSETS.iter().map(|a| format!("\"{}\"", &hex::encode(Sha256::digest(a.body))[..20])).collect());

pub(super) async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let index = ASSETS.iter().position(|a| a.name == name).ok_or(ApiError::NotFound)?;
    let asset = &ASSETS[index];
    let etag = ETAGS.get(index).map(String::as_str).unwrap_or("\"0\"");
    let cache = [(header::ETAG, etag), (header::CACHE_CONTROL, "no-cache")];
    let matches = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((cache, [(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response())
}
