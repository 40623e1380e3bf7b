//! Which part of a representation a request asks for: `Range`, guarded by
//! `If-Range`, and `If-None-Match`.

use std::ops::RangeInclusive;
use std::time::SystemTime;

use axum::http::{header, HeaderMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// `If-None-Match` matched: 304.
    NotModified,
    /// 200 with every byte.
    Full,
    /// 206 with these bytes.
    Partial(RangeInclusive<u64>),
    /// 416.
    Unsatisfiable,
}

/// Decides for a representation of `len` bytes with strong `etag` (quoted)
/// and `last_modified`. Several ranges are answered with the whole
/// representation, which HTTP allows and players never need otherwise.
pub(crate) fn decide(headers: &HeaderMap, len: u64, etag: &str, last_modified: Option<SystemTime>) -> Decision {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(tags) = text(header::IF_NONE_MATCH) {
        if tags.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag) {
            return Decision::NotModified;
        }
    }
    let Some(range) = text(header::RANGE) else { return Decision::Full };
    if let Some(validator) = text(header::IF_RANGE) {
        let current = if validator.starts_with('"') {
            validator == etag
        } else {
            let since = httpdate::parse_http_date(validator).ok();
            since.is_some() && since == last_modified.map(whole_seconds)
        };
        if !current {
            return Decision::Full;
        }
    }
    let Ok(parsed) = http_range_header::parse_range_header(range) else { return Decision::Unsatisfiable };
    match parsed.validate(len) {
        Ok(ranges) if ranges.len() == 1 => Decision::Partial(ranges[0].clone()),
        Ok(_) => Decision::Full,
        Err(_) => Decision::Unsatisfiable,
    }
}

/// HTTP dates have whole seconds.
pub(crate) fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const TAG: &str = "\"abc\"";

    fn with(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn decide_range(range: &str) -> Decision {
        decide(&with(&[(header::RANGE, range)]), 10_000, TAG, None)
    }

    #[test]
    fn ranges() {
        assert_eq!(decide(&HeaderMap::new(), 10_000, TAG, None), Decision::Full);
        assert_eq!(decide_range("bytes=0-99"), Decision::Partial(0..=99));
        assert_eq!(decide_range("bytes=-500"), Decision::Partial(9500..=9999));
        assert_eq!(decide_range("bytes=1000-"), Decision::Partial(1000..=9999));
        assert_eq!(decide_range("bytes=9000-20000"), Decision::Partial(9000..=9999), "clamped to the end");
        assert_eq!(decide_range("bytes=999999999-"), Decision::Unsatisfiable);
        assert_eq!(decide_range("bytes=0-1,5-6"), Decision::Full);
        assert_eq!(decide_range("lines=1-2"), Decision::Unsatisfiable);
    }

    #[test]
    fn validators() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_771_252_320);
        let date = httpdate::fmt_http_date(now);
        let stale = httpdate::fmt_http_date(now - std::time::Duration::from_secs(60));
        let d = |pairs: &[(header::HeaderName, &str)]| decide(&with(pairs), 10_000, TAG, Some(now));
        assert_eq!(d(&[(header::IF_NONE_MATCH, TAG)]), Decision::NotModified);
        assert_eq!(d(&[(header::IF_NONE_MATCH, "\"other\"")]), Decision::Full);
        assert_eq!(d(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, TAG)]), Decision::Partial(0..=9));
        assert_eq!(d(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, "\"old\"")]), Decision::Full);
        assert_eq!(d(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, &date)]), Decision::Partial(0..=9));
        assert_eq!(d(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, &stale)]), Decision::Full);
    }
}
