#![allow(clippy::unwrap_used)]

use chrono::{TimeZone as _, Utc};

use super::*;
use crate::spec::{build_call, CallSpec};

const AC: &str = "AC0123456789abcdef0123456789abcdef";

fn recording_at(y: i32, m: u32, d: u32, h: u32) -> RecordingResource {
    let spec =
        CallSpec { date_created: Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap(), ..CallSpec::default() };
    build_call(spec, AC, "http://sim").recording.unwrap()
}

fn parse(query: &str) -> ListQuery {
    ListQuery::parse(Some(query)).unwrap()
}

#[test]
fn defaults_are_page_size_50_and_page_0() {
    let q = ListQuery::parse(None).unwrap();
    assert_eq!((q.page_size, q.page, q.token.is_none()), (50, 0, true));
}

#[test]
fn page_size_outside_1_to_1000_is_a_400() {
    for bad in ["0", "1001", "-1", "ten", ""] {
        let err = ListQuery::parse(Some(&format!("PageSize={bad}"))).unwrap_err();
        assert_eq!(err.status.as_u16(), 400, "PageSize={bad}");
    }
    assert_eq!(parse("PageSize=1").page_size, 1);
    assert_eq!(parse("PageSize=1000").page_size, 1000);
}

#[test]
fn date_inequalities_include_the_named_day() {
    let before = parse("DateCreated%3C=2024-03-10");
    let after = parse("DateCreated%3E=2024-03-10");
    let exact = parse("DateCreated=2024-03-10");
    let on_day = recording_at(2024, 3, 10, 23);
    let day_before = recording_at(2024, 3, 9, 23);
    let day_after = recording_at(2024, 3, 11, 0);
    assert!(before.matches(&on_day) && before.matches(&day_before) && !before.matches(&day_after));
    assert!(after.matches(&on_day) && after.matches(&day_after) && !after.matches(&day_before));
    assert!(exact.matches(&on_day) && !exact.matches(&day_before) && !exact.matches(&day_after));
    // Raw `<` and `>` in the name decode the same.
    assert!(!parse("DateCreated<=2024-03-10").matches(&day_after));
}

#[test]
fn date_times_compare_instants() {
    let q = parse("DateCreated%3E=2024-03-10T12:00:00Z");
    assert!(!q.matches(&recording_at(2024, 3, 10, 11)));
    assert!(q.matches(&recording_at(2024, 3, 10, 12)));
}

#[test]
fn malformed_dates_and_tokens_are_400s() {
    for bad in [
        "DateCreated=yesterday",
        "DateCreated%3C=2024-13-01",
        "PageToken=XX1-RE",
        "PageToken=PAx-RE1",
        "Page=-1",
        "IncludeSoftDeleted=maybe",
    ] {
        let err = ListQuery::parse(Some(bad)).unwrap_err();
        assert_eq!(err.status.as_u16(), 400, "{bad}");
    }
}

#[test]
fn page_uris_keep_the_filters_in_twilio_encoding() {
    let q = parse("PageSize=10&DateCreated%3E=2024-03-01&Unknown=1&CallSid=CA1&DateCreated%3C=2024-03-31");
    let token = PageToken::After(RecordingKey { created: 42, sid: "RE9".into() });
    assert_eq!(
        q.page_uri(AC, 3, Some(&token)),
        format!(
            "/2010-04-01/Accounts/{AC}/Recordings.json?CallSid=CA1&DateCreated%3C=2024-03-31\
             &DateCreated%3E=2024-03-01&PageSize=10&Page=3&PageToken=PA42-RE9"
        )
    );
    assert_eq!(PageToken::decode(&token.encode()), Some(token));
}

#[test]
fn soft_deleted_only_with_include_soft_deleted() {
    let mut deleted = recording_at(2024, 1, 1, 0);
    deleted.status = crate::resources::RecordingStatus::Deleted;
    assert!(!parse("").matches(&deleted));
    assert!(parse("IncludeSoftDeleted=true").matches(&deleted));
}
