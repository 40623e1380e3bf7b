use chrono::TimeZone;
use omnivox_core::Role;

use super::*;

fn user(role: Role) -> User {
    User { id: UserId(7), username: "u".into(), display_name: None, role, created_at: Utc::now() }
}

fn parse(pairs: &[(&str, &str)], role: Role) -> ApiResult<Option<CallListQuery>> {
    let qs = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let uri: axum::http::Uri = format!("/?{qs}").parse().unwrap();
    let params = axum::extract::Query::<CallListParams>::try_from_uri(&uri).unwrap().0;
    params.into_query(&user(role))
}

fn message(r: ApiResult<Option<CallListQuery>>) -> String {
    match r {
        Err(ApiError::BadRequest(m)) => m,
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[test]
fn cursors_round_trip_and_garbage_is_refused() {
    let c = Cursor(CallListPosition { sort_at_ms: 1_771_252_320_000, id: 123_456 });
    assert_eq!(Cursor::decode(&c.encode()), Some(c));
    assert_eq!(Cursor::decode("abc"), None);
    assert!(message(parse(&[("cursor", "abc")], Role::Admin)).starts_with("cursor:"));
}

#[test]
fn every_filter_parses() {
    let q = parse(
        &[
            ("campaignId", "LIVE-CALLS"),
            ("agentId", "9"),
            ("status", "no-answer"),
            ("direction", "inbound"),
            ("phone", "(415) 555"),
            ("from", "2026-02-16"),
            ("to", "2026-02-17T10:00:00+01:00"),
            ("hasRecording", "false"),
            ("q", "CA12ab"),
            ("callSid", &format!("CA{:032x}", 5)),
            ("limit", "200"),
        ],
        Role::Supervisor,
    )
    .unwrap()
    .unwrap();
    assert_eq!(q.campaign.as_deref(), Some("LIVE-CALLS"));
    assert_eq!(q.agent, Some(UserId(9)));
    assert_eq!(q.status.as_deref(), Some("no-answer"));
    assert_eq!(q.direction.as_deref(), Some("inbound"));
    assert_eq!(q.phone.as_ref().map(|p| p.as_str()), Some("415555"));
    assert_eq!(q.from, Some(Utc.with_ymd_and_hms(2026, 2, 16, 0, 0, 0).unwrap()));
    assert_eq!(q.to, Some(Utc.with_ymd_and_hms(2026, 2, 17, 9, 0, 0).unwrap()));
    assert_eq!(q.has_recording, Some(false));
    assert_eq!(q.text, Some(TextSearch::CallSidPrefix("CA12ab".into())));
    assert_eq!(q.limit, 200);
}

#[test]
fn a_date_to_covers_the_whole_day_and_blank_means_absent() {
    let q = parse(&[("to", "2026-02-16"), ("status", ""), ("limit", " ")], Role::Admin).unwrap().unwrap();
    assert_eq!(
        q.to,
        Some(Utc.with_ymd_and_hms(2026, 2, 16, 23, 59, 59).unwrap() + chrono::Duration::milliseconds(999))
    );
    assert_eq!((q.status, q.limit), (None, 50));
}

#[test]
fn bad_values_are_refused_naming_the_field() {
    for (field, value) in [
        ("agentId", "x"),
        ("agentId", "-1"),
        ("status", "answered"),
        ("status", "done"),
        ("direction", "outbound"),
        ("phone", "12"),
        ("phone", "555%"),
        ("from", "yesterday"),
        ("to", "2026-02-30"),
        ("hasRecording", "yes"),
        ("q", "ab"),
        ("callSid", "CA123"),
        ("limit", "0"),
        ("limit", "201"),
        ("limit", "ten"),
        ("campaignId", &"X".repeat(65)),
    ] {
        let m = message(parse(&[(field, value)], Role::Admin));
        assert!(m.starts_with(&format!("{field}: ")), "{field}={value}: {m}");
    }
    let m = message(parse(&[("from", "2026-02-17"), ("to", "2026-02-16")], Role::Admin));
    assert!(m.starts_with("to: "), "{m}");
}

#[test]
fn an_agent_sees_only_its_own_calls() {
    let q = parse(&[], Role::Agent).unwrap().unwrap();
    assert_eq!(q.agent, Some(UserId(7)));
    assert_eq!(parse(&[("agentId", "7")], Role::Agent).unwrap().unwrap().agent, Some(UserId(7)));
    assert_eq!(parse(&[("agentId", "8")], Role::Agent).unwrap(), None);
    assert_eq!(parse(&[("agentId", "8")], Role::Supervisor).unwrap().unwrap().agent, Some(UserId(8)));
}
