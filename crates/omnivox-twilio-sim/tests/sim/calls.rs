//! `GET …/Calls/{CallSid}.json`.

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone as _, Utc};
use omnivox_twilio_sim::{CallResource, CallSpec, Direction};

use crate::helpers::*;

const CALL_KEYS: [&str; 26] = [
    "account_sid",
    "answered_by",
    "api_version",
    "caller_name",
    "date_created",
    "date_updated",
    "direction",
    "duration",
    "end_time",
    "forwarded_from",
    "from",
    "from_formatted",
    "group_sid",
    "parent_call_sid",
    "phone_number_sid",
    "price",
    "price_unit",
    "sid",
    "start_time",
    "status",
    "subresource_uris",
    "to",
    "to_formatted",
    "trunk_sid",
    "uri",
    "queue_time",
];

#[tokio::test]
async fn call_resource_is_shaped_like_the_spec_example() {
    let sim = start().await;
    let answered = Utc.with_ymd_and_hms(2019, 10, 18, 17, 2, 0).unwrap();
    let call = sim.add_call(CallSpec {
        from: "+13051416799".into(),
        to: "+13051913581".into(),
        duration_secs: 125,
        date_created: answered,
        ..CallSpec::default()
    });
    let path = format!("/2010-04-01/Accounts/{}/Calls/{}.json", sim.account_sid(), call.call_sid());
    let (status, body) = get_json(&sim, &path).await;
    assert_eq!(status, 200);
    let keys: BTreeSet<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, CALL_KEYS.into_iter().collect());
    assert_eq!(body["duration"], "125");
    assert_eq!(body["start_time"], "Fri, 18 Oct 2019 17:02:00 +0000");
    assert_eq!(body["end_time"], "Fri, 18 Oct 2019 17:04:05 +0000");
    assert_eq!(body["from_formatted"], "(305) 141-6799");
    assert_eq!(body["to_formatted"], "(305) 191-3581");
    assert_eq!(body["direction"], "outbound-api");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["parent_call_sid"], serde_json::Value::Null);
    assert_eq!(body["uri"], path);
    assert!(body["price"].is_string() && body["queue_time"].is_string());
    let parsed: CallResource = serde_json::from_value(body).unwrap();
    assert_eq!(parsed, call.call);
    assert_eq!(parsed.date_created, answered - Duration::seconds(6));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_outbound_dial_leg_has_a_parent_that_owns_the_recording() {
    let sim = start().await;
    let call = sim.add_call(CallSpec { direction: Direction::OutboundDial, ..CallSpec::default() });
    let parent = call.parent.clone().unwrap();
    assert_eq!(call.call.parent_call_sid.as_deref(), Some(parent.sid.as_str()));
    assert_eq!(call.recording.as_ref().unwrap().call_sid, parent.sid);
    let (status, body) =
        get_json(&sim, &format!("/2010-04-01/Accounts/{}/Calls/{}.json", sim.account_sid(), parent.sid)).await;
    assert_eq!((status, body["direction"].as_str()), (200, Some("outbound-api")));
    assert_eq!(sim.calls().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_call_is_404() {
    let sim = start().await;
    let (status, body) = get_json(
        &sim,
        &format!("/2010-04-01/Accounts/{}/Calls/CA00000000000000000000000000000000.json", sim.account_sid()),
    )
    .await;
    assert_eq!(status, 404);
    assert_twilio_error(&body, 404, 20404);
    sim.shutdown().await;
}
