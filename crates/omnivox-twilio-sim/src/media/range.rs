//! The HTTP `Range` header for one byte range (RFC 9110 §14): `bytes=a-b`, `bytes=a-`,
//! `bytes=-n`. Several ranges, other units and malformed values are ignored (the whole body
//! is sent), which the RFC allows; a well-formed range that misses the body entirely is
//! unsatisfiable (416).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeRequest {
    Full,
    /// First and last byte, inclusive.
    Partial {
        first: u64,
        last: u64,
    },
    Unsatisfiable,
}

pub(crate) fn parse(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let number = |s: &str| -> Option<Option<u64>> {
        let s = s.trim();
        if s.is_empty() {
            Some(None)
        } else if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok().map(Some)
        } else {
            None
        }
    };
    match (number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (Some(None), Some(Some(suffix))) => {
            if suffix == 0 || len == 0 {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial { first: len.saturating_sub(suffix), last: len - 1 }
            }
        }
        // bytes=a- and bytes=a-b.
        (Some(Some(first)), Some(last)) => match last {
            Some(last) if last < first => RangeRequest::Full,
            _ if first >= len => RangeRequest::Unsatisfiable,
            last => RangeRequest::Partial { first, last: last.map_or(len - 1, |l| l.min(len - 1)) },
        },
        _ => RangeRequest::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeRequest::*;

    #[test]
    fn ranges_per_rfc_9110() {
        let p = |h: &str| parse(Some(h), 1000);
        assert_eq!(parse(None, 1000), Full);
        assert_eq!(p("bytes=0-0"), Partial { first: 0, last: 0 });
        assert_eq!(p("bytes=10-19"), Partial { first: 10, last: 19 });
        assert_eq!(p("bytes=990-5000"), Partial { first: 990, last: 999 });
        assert_eq!(p("bytes=500-"), Partial { first: 500, last: 999 });
        assert_eq!(p("bytes=-100"), Partial { first: 900, last: 999 });
        assert_eq!(p("bytes=-5000"), Partial { first: 0, last: 999 });
        assert_eq!(p("bytes=1000-"), Unsatisfiable);
        assert_eq!(p("bytes=1000-1001"), Unsatisfiable);
        assert_eq!(p("bytes=-0"), Unsatisfiable);
        assert_eq!(p("bytes=5-1"), Full, "invalid: ignored");
        assert_eq!(p("bytes=0-1,5-6"), Full, "multipart not supported: ignored");
        assert_eq!(p("items=0-1"), Full);
        assert_eq!(p("bytes=x-1"), Full);
        assert_eq!(p("bytes=-"), Full);
    }
}
