//! `…/Recordings/{Sid}.json`: the resource's JSON shape, soft delete, and special recordings.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone as _, Utc};
use omnivox_twilio_sim::{CallSpec, RecordingOutcome, RecordingResource, RecordingStatus};
use serde_json::Value;

use crate::helpers::*;

/// The keys of the spec's `fetch` example for a recording.
const RECORDING_KEYS: [&str; 19] = [
    "account_sid",
    "api_version",
    "call_sid",
    "conference_sid",
    "channels",
    "date_created",
    "date_updated",
    "start_time",
    "price",
    "price_unit",
    "duration",
    "sid",
    "source",
    "status",
    "error_code",
    "uri",
    "subresource_uris",
    "encryption_details",
    "media_url",
];

fn is_rfc2822(value: &Value) -> bool {
    value.as_str().is_some_and(|s| DateTime::parse_from_rfc2822(s).is_ok() && s.ends_with(" +0000"))
}

#[tokio::test]
async fn fetched_recording_is_shaped_like_the_spec_example() {
    let sim = start().await;
    let at = Utc.with_ymd_and_hms(2016, 10, 14, 21, 56, 34).unwrap();
    let call = recorded_call(&sim, 4, at);
    let sid = call.recording_sid().unwrap();
    let (status, body) = get_json(&sim, &recording_path(&sim, sid, ".json")).await;
    assert_eq!(status, 200);
    let keys: BTreeSet<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, RECORDING_KEYS.into_iter().collect());
    assert_eq!(body["date_created"], "Fri, 14 Oct 2016 21:56:34 +0000");
    assert!(is_rfc2822(&body["date_updated"]) && is_rfc2822(&body["start_time"]));
    assert_eq!(body["duration"], "4", "duration is a string");
    assert!(body["price"].is_string());
    assert_eq!(body["channels"], 2);
    assert_eq!(body["status"], "completed");
    assert_eq!(body["source"], "DialVerb");
    assert_eq!(body["error_code"], Value::Null);
    assert_eq!(body["call_sid"], call.call_sid());
    let path = format!("/2010-04-01/Accounts/{}/Recordings/{sid}", sim.account_sid());
    assert_eq!(body["uri"], format!("{path}.json"));
    assert_eq!(body["media_url"], format!("{}{path}", sim.base_url()));
    assert_eq!(body["subresource_uris"]["transcriptions"], format!("{path}/Transcriptions.json"));
    assert_eq!(body["subresource_uris"]["add_on_results"], format!("{path}/AddOnResults.json"));
    // And it parses back into the ground truth.
    let parsed: RecordingResource = serde_json::from_value(body).unwrap();
    assert_eq!(Some(&parsed), call.recording.as_ref());
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_or_malformed_recording_sids_are_404() {
    let sim = start().await;
    for file in ["RE00000000000000000000000000000000.json", "nope.json", "RE00000000000000000000000000000000.ogg"] {
        let (status, body) =
            get_json(&sim, &format!("/2010-04-01/Accounts/{}/Recordings/{file}", sim.account_sid())).await;
        assert_eq!(status, 404, "{file}");
        assert_twilio_error(&body, 404, 20404);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_marks_deleted_and_hides_it_unless_soft_deleted_are_asked_for() {
    let sim = start().await;
    let call = recorded_call(&sim, 5, Utc::now());
    let sid = call.recording_sid().unwrap();
    let url = format!("{}{}", sim.base_url(), recording_path(&sim, sid, ".json"));
    let delete = || client().delete(&url).basic_auth(sim.account_sid(), Some(sim.auth_token())).send();
    assert_eq!(delete().await.unwrap().status(), 204);
    assert_eq!(delete().await.unwrap().status(), 404, "already deleted");

    assert_eq!(get(&sim, &recording_path(&sim, sid, ".json")).await.status(), 404);
    assert_eq!(get(&sim, &recording_path(&sim, sid, ".wav")).await.status(), 404);
    let (status, body) =
        get_json(&sim, &format!("{}?IncludeSoftDeleted=true", recording_path(&sim, sid, ".json"))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("deleted")));

    let (_, list) = get_json(&sim, &recordings_path(&sim)).await;
    assert_eq!(list["recordings"].as_array().unwrap().len(), 0);
    let (_, list) = get_json(&sim, &format!("{}?IncludeSoftDeleted=true", recordings_path(&sim))).await;
    assert_eq!(list["recordings"][0]["status"], "deleted");
    assert_eq!(sim.recordings()[0].status, RecordingStatus::Deleted);
    sim.shutdown().await;
}

#[tokio::test]
async fn absent_failed_soft_deleted_and_media_missing_recordings() {
    let sim = start().await;
    let add = |spec: CallSpec| sim.add_call(CallSpec { duration_secs: 3, ..spec });
    let absent = add(CallSpec { recording_status: RecordingOutcome::Absent, ..CallSpec::default() });
    let failed = add(CallSpec {
        recording_status: RecordingOutcome::Failed,
        recording_error_code: Some(16999),
        ..CallSpec::default()
    });
    let deleted = add(CallSpec { soft_deleted: true, ..CallSpec::default() });
    let missing = add(CallSpec { media_missing: true, ..CallSpec::default() });
    let unrecorded = add(CallSpec { record: false, ..CallSpec::default() });
    assert_eq!(unrecorded.recording, None);

    let (_, body) = get_json(&sim, &recording_path(&sim, absent.recording_sid().unwrap(), ".json")).await;
    assert_eq!(
        (body["status"].as_str(), body["error_code"].as_u64(), body["duration"].as_str()),
        (Some("absent"), Some(16101), Some("0"))
    );
    let (_, body) = get_json(&sim, &recording_path(&sim, failed.recording_sid().unwrap(), ".json")).await;
    assert_eq!((body["status"].as_str(), body["error_code"].as_u64()), (Some("absent"), Some(16999)));
    assert_eq!(get(&sim, &recording_path(&sim, deleted.recording_sid().unwrap(), ".json")).await.status(), 404);

    let (_, list) = get_json(&sim, &recordings_path(&sim)).await;
    assert_eq!(list["recordings"].as_array().unwrap().len(), 3, "absent, failed and media-missing are listed");
    for call in [&absent, &failed, &missing] {
        let response = get(&sim, &recording_path(&sim, call.recording_sid().unwrap(), ".wav")).await;
        assert_eq!(response.status(), 404);
    }
    // Metadata of the media-missing recording is fine.
    let (status, _) = get_json(&sim, &recording_path(&sim, missing.recording_sid().unwrap(), ".json")).await;
    assert_eq!(status, 200);
    sim.shutdown().await;
}
