//! Recording media state on both backends: sync steps move forward only,
//! peaks are cached, and retention finds exactly the expired, unheld media.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use omnivox_core::ingest::{FollowUps, IngestEvent, IngestOutcome, IngestRequest, RecordingEvent, LIVE_CALLS};
use omnivox_core::store::{MediaUpdate, NewJob};
use omnivox_core::{RecordingSid, Store};
mod common;

use common::{params, request, sid};
use omnivox_testkit::{both_backends, TestDb};

/// A completed recording on a new call; returns the recording's id.
async fn recording(store: &dyn Store, n: u32) -> i64 {
    let (call, rec) = (sid("CA", n), sid("RE", n));
    let pairs = [
        ("CallSid", call.as_str()),
        ("RecordingSid", rec.as_str()),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "10"),
        ("RecordingChannels", "2"),
    ];
    let request = request(IngestEvent::Recording(RecordingEvent::from_params(&params(&pairs)).unwrap()));
    let none: std::sync::Arc<FollowUps> =
        std::sync::Arc::new(|_: &IngestRequest, _: &IngestOutcome| Vec::<NewJob>::new());
    store.ingest(&request, &none).await.unwrap();
    let sid: RecordingSid = rec.parse().unwrap();
    store.recording_media_by_sid(&sid).await.unwrap().unwrap().recording.id
}

fn stored(n: u32) -> MediaUpdate {
    MediaUpdate::Stored {
        storage_key: format!("2026/02/16/{}.wav", sid("RE", n)),
        media_type: "audio/wav".into(),
        sha256: "ab".repeat(32),
        size_bytes: 320_044,
    }
}

both_backends!(sync_steps_move_forward_only, peaks_are_cached, retention_skips_held_and_unexpired);

async fn sync_steps_move_forward_only(db: TestDb) {
    let store = db.store.as_ref();
    let id = recording(store, 1).await;
    let now = Utc::now();
    assert!(!store.update_recording_media(id, &MediaUpdate::Verified, now).await.unwrap(), "not stored yet");
    assert!(store.update_recording_media(id, &MediaUpdate::Attempt { reason: "503".into() }, now).await.unwrap());
    assert_eq!(store.recording_media(id).await.unwrap().unwrap().recording.error.as_deref(), Some("503"));
    assert!(store.update_recording_media(id, &stored(1), now).await.unwrap());
    let media = store.recording_media(id).await.unwrap().unwrap();
    assert_eq!(media.recording.sync_status, "stored");
    assert_eq!(media.recording.error, None);
    assert_eq!(media.recording.size_bytes, Some(320_044));
    assert_eq!(media.recording.stored_at.map(|t| t.timestamp_millis()), Some(now.timestamp_millis()));
    assert_eq!(media.call_sid, sid("CA", 1));
    assert!(!store.update_recording_media(id, &stored(1), now).await.unwrap(), "stored twice");
    assert!(store.update_recording_media(id, &MediaUpdate::Verified, now).await.unwrap());
    assert!(!store.update_recording_media(id, &MediaUpdate::Failed { reason: "x".into() }, now).await.unwrap());
    assert_eq!(store.recording_media(id).await.unwrap().unwrap().recording.sync_status, "verified");

    let other = recording(store, 2).await;
    let failed = MediaUpdate::Failed { reason: "Twilio answered 404".into() };
    assert!(store.update_recording_media(other, &failed, now).await.unwrap());
    let media = store.recording_media(other).await.unwrap().unwrap();
    assert_eq!(
        (media.recording.sync_status.as_str(), media.recording.error.as_deref()),
        ("failed", Some("Twilio answered 404"))
    );
    assert!(store.update_recording_media(other, &MediaUpdate::Retry, now).await.unwrap());
    assert_eq!(store.recording_media(other).await.unwrap().unwrap().recording.sync_status, "pending");
}

async fn peaks_are_cached(db: TestDb) {
    let store = db.store.as_ref();
    let id = recording(store, 3).await;
    assert_eq!(store.recording_peaks(id).await.unwrap(), None);
    store.save_recording_peaks(id, r#"{"peaks":[[0.5]]}"#, Utc::now()).await.unwrap();
    store.save_recording_peaks(id, r#"{"peaks":[[0.25]]}"#, Utc::now()).await.unwrap();
    assert_eq!(store.recording_peaks(id).await.unwrap().as_deref(), Some(r#"{"peaks":[[0.25]]}"#));
}

async fn retention_skips_held_and_unexpired(db: TestDb) {
    let store = db.store.as_ref();
    let (old, held, unarchived) = (recording(store, 4).await, recording(store, 5).await, recording(store, 6).await);
    let now = Utc.with_ymd_and_hms(2026, 2, 16, 15, 0, 0).unwrap();
    for (id, n) in [(old, 4), (held, 5)] {
        store.update_recording_media(id, &stored(n), now).await.unwrap();
    }
    let later = now + Duration::days(31);
    assert!(store.expired_media(later, 100).await.unwrap().is_empty(), "no retention by default");
    assert!(store.set_campaign_retention(LIVE_CALLS.0, Some(30)).await.unwrap());
    assert!(!store.set_campaign_retention("NO-SUCH", Some(30)).await.unwrap());
    let call_of_held = store.recording_media(held).await.unwrap().unwrap().recording.call_record_id;
    assert!(store.set_legal_hold(call_of_held, true, now).await.unwrap());
    assert!(!store.set_legal_hold(999_999, true, now).await.unwrap());
    assert!(store.expired_media(now + Duration::days(29), 100).await.unwrap().is_empty(), "not yet");
    let expired: Vec<i64> = store.expired_media(later, 100).await.unwrap().iter().map(|m| m.recording.id).collect();
    assert_eq!(expired, vec![old], "held {held} and unarchived {unarchived} are kept");
    let deleted = MediaUpdate::Deleted { reason: "retention: 30 days".into() };
    assert!(store.update_recording_media(old, &deleted, later).await.unwrap());
    let media = store.recording_media(old).await.unwrap().unwrap();
    assert_eq!((media.recording.sync_status.as_str(), media.recording.storage_key), ("deleted", None));
    assert!(store.expired_media(later, 100).await.unwrap().is_empty());
}
