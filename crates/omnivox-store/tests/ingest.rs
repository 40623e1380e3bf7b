//! The ingest transaction on both backends: exactly one call record per
//! call, whatever the number, order or concurrency of deliveries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::Utc;
use omnivox_core::ingest::{
    Attribution, CallStatusEvent, FollowUps, IngestEvent, IngestOutcome, IngestRequest, RecordingEvent,
};
use omnivox_core::store::{CallRecordView, JobState, NewJob};
use omnivox_core::{CallSid, Store};
mod common;

use common::{params, request, sid};
use omnivox_testkit::{both_backends, TestDb};

fn call_event(call: &str, status: &str, seq: i64, extra: &[(&str, &str)]) -> IngestEvent {
    let ts = format!("Mon, 16 Feb 2026 14:32:{:02} +0000", seq * 5);
    let seq = seq.to_string();
    let mut p = vec![
        ("CallSid", call),
        ("CallStatus", status),
        ("SequenceNumber", seq.as_str()),
        ("Timestamp", ts.as_str()),
        ("Direction", "outbound-api"),
        ("From", "+14155550100"),
        ("To", "+14155550199"),
    ];
    p.extend_from_slice(extra);
    IngestEvent::CallStatus(CallStatusEvent::from_params(&params(&p)).unwrap())
}

fn recording_event(call: &str, rec: &str, status: &str, extra: &[(&str, &str)]) -> IngestEvent {
    let mut p = vec![
        ("CallSid", call),
        ("RecordingSid", rec),
        ("RecordingStatus", status),
        ("RecordingDuration", "42"),
        ("RecordingChannels", "2"),
        ("RecordingSource", "DialVerb"),
    ];
    p.extend_from_slice(extra);
    IngestEvent::Recording(RecordingEvent::from_params(&params(&p)).unwrap())
}

/// Archive completed recordings, like the service does.
fn archive_when_ready(req: &IngestRequest, out: &IngestOutcome) -> Vec<NewJob> {
    let IngestEvent::Recording(e) = &req.event else {
        return vec![];
    };
    if !out.recording_ready {
        return vec![];
    }
    vec![NewJob {
        kind: "archive-media".into(),
        payload: serde_json::json!({ "recordingSid": e.recording_sid }),
        dedupe_key: Some(e.recording_sid.to_string()),
        run_at: req.received_at,
        max_attempts: 5,
    }]
}

fn none(_: &IngestRequest, _: &IngestOutcome) -> Vec<NewJob> {
    vec![]
}

fn no_follow_ups() -> Arc<FollowUps> {
    Arc::new(none)
}

async fn ingest(store: &Arc<dyn Store>, event: IngestEvent) -> IngestOutcome {
    let follow_ups: Arc<FollowUps> = Arc::new(archive_when_ready);
    store.ingest(&request(event), &follow_ups).await.unwrap()
}

/// The row without what legitimately differs between two calls.
fn comparable(mut v: CallRecordView) -> CallRecordView {
    v.id = 0;
    v.call_id = String::new();
    for r in &mut v.recordings {
        r.id = 0;
        r.call_record_id = 0;
        r.recording_sid = String::new();
    }
    v
}

async fn sixty_four_concurrent_deliveries_of_one_call_leave_one_row(db: TestDb) {
    let call = sid("CA", 1);
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = Arc::clone(&db.store);
            let event = if i % 2 == 0 {
                call_event(&call, "completed", 3, &[("CallDuration", "42")])
            } else {
                recording_event(&call, &sid("RE", 1), "completed", &[])
            };
            tokio::spawn(async move { store.ingest(&request(event), &no_follow_ups()).await })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let outcome = t.await.unwrap().expect("no error reaches the caller");
        created += usize::from(outcome.call_created);
    }
    assert_eq!(created, 1, "exactly one delivery created the call");
    assert_eq!(db.store.count_call_records().await.unwrap(), 1);
    assert_eq!(db.store.count_recordings().await.unwrap(), 1);
    let view = db.store.call_record_by_sid(&CallSid::parse(&call).unwrap()).await.unwrap().unwrap();
    assert_eq!(view.campaign_id, "LIVE-CALLS");
    assert_eq!(view.campaign_name, "Live Calls");
    assert_eq!(view.status.as_deref(), Some("completed"));
}

async fn every_order_of_a_calls_callbacks_ends_in_the_same_row(db: TestDb) {
    let events = |call: &str| {
        vec![
            call_event(call, "initiated", 0, &[]),
            call_event(call, "ringing", 1, &[]),
            call_event(call, "in-progress", 2, &[("AnsweredBy", "human")]),
            call_event(call, "completed", 3, &[("CallDuration", "42")]),
            recording_event(call, &call.replacen("CA", "RE", 1), "completed", &[]),
        ]
    };
    let mut orders = vec![vec![0usize, 1, 2, 3, 4]];
    // All 120 orders of the five callbacks.
    let mut all = Vec::new();
    permute(&mut orders[0], 0, &mut all);
    orders = all;
    assert_eq!(orders.len(), 120);
    let mut expected: Option<CallRecordView> = None;
    for (n, order) in orders.iter().enumerate() {
        let call = sid("CA", 1000 + n as u32);
        let evs = events(&call);
        for &i in order {
            ingest(&db.store, evs[i].clone()).await;
        }
        let row = db.store.call_record_by_sid(&CallSid::parse(&call).unwrap()).await.unwrap().unwrap();
        let row = comparable(row);
        match &expected {
            None => {
                assert_eq!(row.status.as_deref(), Some("completed"));
                assert_eq!(row.outcome.as_deref(), Some("answered"));
                assert_eq!(row.duration_seconds, Some(42));
                assert_eq!(row.answered_by.as_deref(), Some("human"));
                assert_eq!(row.to.as_deref(), Some("+14155550199"));
                assert_eq!(row.contact_phone.as_deref(), Some("+14155550199"));
                assert_eq!(row.recordings.len(), 1);
                assert_eq!(row.recordings[0].status, "completed");
                assert_eq!(row.recordings[0].sync_status, "pending");
                expected = Some(row);
            }
            Some(e) => assert_eq!(&row, e, "order {order:?}"),
        }
    }
    // One contact for the one number, however many calls.
    let again = db.store.call_record_by_sid(&CallSid::parse(&sid("CA", 1000)).unwrap()).await.unwrap().unwrap();
    let other = db.store.call_record_by_sid(&CallSid::parse(&sid("CA", 1119)).unwrap()).await.unwrap().unwrap();
    assert_eq!(again.contact_id, other.contact_id);
    // One archive job per recording, queued with the facts.
    let queued = db.store.list_jobs(JobState::Queued, 1000).await.unwrap();
    assert_eq!(queued.iter().filter(|j| j.kind == "archive-media").count(), 120);
}

fn permute(items: &mut Vec<usize>, k: usize, out: &mut Vec<Vec<usize>>) {
    if k == items.len() {
        out.push(items.clone());
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permute(items, k + 1, out);
        items.swap(k, i);
    }
}

async fn a_recording_first_creates_the_call_and_later_callbacks_fill_it(db: TestDb) {
    let call = sid("CA", 7);
    let first = ingest(&db.store, recording_event(&call, &sid("RE", 7), "completed", &[])).await;
    assert!(first.call_created && first.recording_created && first.recording_ready);
    assert!(first.call_needs_details);
    let view = db.store.call_record(first.call_record_id).await.unwrap().unwrap();
    assert_eq!((view.campaign_id.as_str(), view.from.as_deref(), view.contact_id), ("LIVE-CALLS", None, None));

    let later = ingest(&db.store, call_event(&call, "completed", 3, &[("CallDuration", "42")])).await;
    assert!(!later.call_created && later.call_changed);
    let view = db.store.call_record(first.call_record_id).await.unwrap().unwrap();
    assert_eq!(view.from.as_deref(), Some("+14155550100"));
    assert_eq!(view.contact_phone.as_deref(), Some("+14155550199"));
    assert_eq!(view.recordings.len(), 1);

    // A second distinct recording of the same call is kept on the same record.
    ingest(&db.store, recording_event(&call, &sid("RE", 8), "completed", &[])).await;
    let view = db.store.call_record(first.call_record_id).await.unwrap().unwrap();
    assert_eq!(view.recordings.len(), 2);
    assert_eq!(db.store.count_call_records().await.unwrap(), 1);
}

async fn recording_status_only_moves_forward_and_failures_keep_their_reason(db: TestDb) {
    let call = sid("CA", 9);
    let rec = sid("RE", 9);
    let a = ingest(&db.store, recording_event(&call, &rec, "in-progress", &[("RecordingDuration", "-1")])).await;
    assert!(a.recording_created && !a.recording_ready);
    let b = ingest(&db.store, recording_event(&call, &rec, "completed", &[])).await;
    assert!(b.recording_changed && b.recording_ready);
    let c = ingest(&db.store, recording_event(&call, &rec, "in-progress", &[])).await;
    assert!(!c.recording_changed && !c.recording_ready, "a late in-progress changes nothing");
    let d = ingest(&db.store, recording_event(&call, &rec, "completed", &[])).await;
    assert!(!d.recording_ready, "a duplicate completed does not archive twice");
    let view = db.store.call_record(a.call_record_id).await.unwrap().unwrap();
    assert_eq!(view.recordings[0].status, "completed");
    assert_eq!(view.recordings[0].duration_seconds, Some(42));

    let absent_call = sid("CA", 10);
    ingest(&db.store, recording_event(&absent_call, &sid("RE", 10), "absent", &[("ErrorCode", "16101")])).await;
    let view = db.store.call_record_by_sid(&CallSid::parse(&absent_call).unwrap()).await.unwrap().unwrap();
    let r = &view.recordings[0];
    assert_eq!(
        (r.status.as_str(), r.sync_status.as_str(), r.error_code.as_deref()),
        ("absent", "failed", Some("16101"))
    );
    assert!(r.error.as_deref().unwrap().contains("16101"), "{:?}", r.error);
}

async fn a_campaign_and_agent_from_the_softphone_are_kept(db: TestDb) {
    let call = sid("CA", 11);
    let user = db
        .store
        .create_user(
            &omnivox_core::store::NewUser {
                username: "agent1".into(),
                display_name: None,
                role: omnivox_core::Role::Agent,
                password_hash: omnivox_core::store::PasswordHash::new("x".into()),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let mut req = request(call_event(&call, "ringing", 1, &[]));
    req.attribution = Attribution { campaign_code: Some("SALES-Q1".into()), agent_id: Some(user.id) };
    let out = db.store.ingest(&req, &no_follow_ups()).await.unwrap();
    assert_eq!(out.agent_id, Some(user.id));
    let view = db.store.call_record(out.call_record_id).await.unwrap().unwrap();
    assert_eq!((view.campaign_id.as_str(), view.agent_id), ("SALES-Q1", Some(user.id)));
}

both_backends!(
    sixty_four_concurrent_deliveries_of_one_call_leave_one_row,
    every_order_of_a_calls_callbacks_ends_in_the_same_row,
    a_recording_first_creates_the_call_and_later_callbacks_fill_it,
    recording_status_only_moves_forward_and_failures_keep_their_reason,
    a_campaign_and_agent_from_the_softphone_are_kept,
);
