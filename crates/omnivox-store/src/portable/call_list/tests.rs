use chrono::{TimeZone, Utc};
use omnivox_core::store::call_list::{CallListPosition, CallListQuery, PhoneDigits, TextSearch};
use omnivox_core::store::UserId;

use super::*;

#[test]
fn no_filter_walks_the_newest_first_order() {
    let s = page_ids(&CallListQuery::default(), Contacts::Any, &SQLITE);
    assert_eq!(s.sql, "SELECT c.id, c.sort_at FROM call_records c ORDER BY c.sort_at DESC, c.id DESC LIMIT $1");
    assert_eq!(s.values, [Value::Int(51)]);
}

#[test]
fn every_filter_is_a_bound_value_in_order() {
    let q = CallListQuery {
        campaign: Some("LIVE-CALLS".into()),
        agent: Some(UserId(7)),
        status: Some("completed".into()),
        direction: Some("inbound".into()),
        has_recording: Some(true),
        from: Some(Utc.timestamp_millis_opt(1_000).unwrap()),
        to: Some(Utc.timestamp_millis_opt(2_000).unwrap()),
        text: Some(TextSearch::CallSidPrefix("CA09af".into())),
        limit: 10,
        after: Some(CallListPosition { sort_at_ms: 1_500, id: 42 }),
        ..CallListQuery::default()
    };
    let s = page_ids(&q, Contacts::Any, &POSTGRES);
    assert_eq!(
        s.sql,
        "SELECT c.id, c.sort_at FROM call_records c WHERE c.campaign_id = (SELECT id FROM campaigns WHERE code = $1) \
         AND c.agent_id = $2 AND c.status = $3 AND c.direction = $4 AND c.has_recording = $5 AND c.sort_at >= $6 \
         AND c.sort_at <= $7 AND c.call_sid >= $8 AND c.call_sid < $9 AND (c.sort_at, c.id) < ($10, $11) \
         ORDER BY c.sort_at DESC, c.id DESC LIMIT $12"
    );
    assert_eq!(
        s.values,
        [
            Value::Text("LIVE-CALLS".into()),
            Value::Int(7),
            Value::Text("completed".into()),
            Value::Text("inbound".into()),
            Value::Bool(true),
            Value::Int(1_000),
            Value::Int(2_000),
            Value::Text("CA09af".into()),
            Value::Text("CA09ag".into()),
            Value::Int(1_500),
            Value::Int(42),
            Value::Int(11),
        ]
    );
}

#[test]
fn a_sid_prefix_ends_before_the_next_hex_digit() {
    assert_eq!(sid_prefix_end("CA0000"), "CA0001");
    assert_eq!(sid_prefix_end("CA0009"), "CA000a");
    assert_eq!(sid_prefix_end("CA000f"), "CA000g");
}

#[test]
fn contact_searches_go_through_the_trigram_index() {
    let q = CallListQuery {
        phone: PhoneDigits::parse("555 01"),
        text: Some(TextSearch::ContactName("50%_o\\ff".into())),
        ..CallListQuery::default()
    };
    let s = matching_contacts(&q, &SQLITE).unwrap();
    assert_eq!(s.sql, "SELECT rowid FROM contacts_search WHERE phone LIKE $1 AND name LIKE $2 LIMIT 1001");
    assert_eq!(s.values, [Value::Text("%55501%".into()), Value::Text("%50__o_ff%".into())]);
    let s = matching_contacts(&q, &POSTGRES).unwrap();
    assert_eq!(s.sql, "SELECT id FROM contacts WHERE phone LIKE $1 AND name ILIKE $2 LIMIT 1001");
    assert!(matching_contacts(&CallListQuery::default(), &POSTGRES).is_none());
}

#[test]
fn few_contacts_are_listed_and_many_are_checked_per_call() {
    let q = CallListQuery { phone: PhoneDigits::parse("555"), ..CallListQuery::default() };
    let s = page_ids(&q, Contacts::Among(&[3, 4, 5]), &SQLITE);
    assert!(s.sql.contains("c INDEXED BY call_records_by_contact WHERE c.contact_id IN ($1, $2, $3, $4) ORDER BY"));
    assert!(page_ids(&q, Contacts::Among(&[3]), &POSTGRES).sql.contains("c WHERE c.contact_id IN ($1) ORDER BY"));
    assert_eq!(s.values[..4], [Value::Int(3), Value::Int(4), Value::Int(5), Value::Int(5)]);
    let s = page_ids(&q, Contacts::Matching, &SQLITE);
    assert!(s.sql.contains("WHERE (SELECT k.phone FROM contacts k WHERE k.id = c.contact_id) LIKE $1 ORDER BY"));
}
