//! The second half of the ingest steps: the call's timeline and the recording.

use omnivox_core::ingest::{FoundBy, IngestEvent, IngestOutcome, IngestRequest, RecordingEvent, RecordingStatus};
use omnivox_core::store::StoreResult;

use super::exec::{params, Batchable, Exec};
use super::steps::json;
use crate::rows::ms;

/// One line per distinct callback: a redelivery has the same dedupe key.
pub(super) async fn append_timeline<E: Exec>(
    conn: &mut E,
    req: &IngestRequest,
    call_id: i64,
    now: i64,
) -> StoreResult<()> {
    let (source, status, sequence, occurred_at, payload, dedupe_key) = match &req.event {
        IngestEvent::CallStatus(e) => (
            if e.authoritative { "calls-api" } else { "call-status" },
            e.status.as_str(),
            e.sequence_number,
            e.timestamp,
            &e.raw,
            format!("call:{}:{}:{}", e.call_sid, e.status.as_str(), e.sequence_number.unwrap_or(-1)),
        ),
        IngestEvent::Recording(e) => (
            match req.found_by {
                FoundBy::Webhook => "recording-status",
                FoundBy::Import => "import",
                FoundBy::Sweep => "sweep",
            },
            e.facts.status.as_str(),
            None,
            e.facts.started_at,
            &e.raw,
            format!("recording:{}:{}", e.recording_sid, e.facts.status.as_str()),
        ),
    };
    let payload = json(payload)?;
    let values = params![call_id, source, status, sequence, occurred_at.map(ms), now, &*payload, dedupe_key.as_str()];
    conn.write(&TIMELINE_LINE, &values).await
}

const TIMELINE_LINE: Batchable = Batchable {
    one: "INSERT INTO call_events (call_record_id, source, status, sequence_number, occurred_at, received_at, payload, dedupe_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (call_record_id, dedupe_key) DO NOTHING",
    many: "INSERT INTO call_events (call_record_id, source, status, sequence_number, occurred_at, received_at, payload, dedupe_key)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[],
             $7::jsonb[], $8::text[])
         ON CONFLICT (call_record_id, dedupe_key) DO NOTHING",
};

const INSERT_RECORDING: Batchable = Batchable {
    one: "INSERT INTO recordings (recording_sid, call_record_id, status, sync_status, duration_seconds,
             channels, source, track, error_code, error, found_by, started_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
         ON CONFLICT (recording_sid) DO NOTHING
         RETURNING id",
    many: "INSERT INTO recordings (recording_sid, call_record_id, status, sync_status, duration_seconds,
             channels, source, track, error_code, error, found_by, started_at, created_at, updated_at)
         SELECT sid, call, status, sync, duration, channels, source, track, error_code, error, found_by,
             started_at, now, now
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[])
             AS v (sid, call, status, sync, duration, channels, source, track, error_code, error, found_by,
                 started_at, now)
         ON CONFLICT (recording_sid) DO NOTHING
         RETURNING recording_sid, id",
};

/// Creates the recording, or moves the existing one forward.
pub(super) async fn upsert_recording<E: Exec>(
    conn: &mut E,
    req: &IngestRequest,
    e: &RecordingEvent,
    call_id: i64,
    now: i64,
    outcome: &mut IngestOutcome,
) -> StoreResult<()> {
    let sid = e.recording_sid.as_str();
    let (sync, error) = e.facts.initial_sync();
    let values = params![
        sid,
        call_id,
        e.facts.status.as_str(),
        sync.as_str(),
        e.facts.duration_seconds,
        e.facts.channels,
        e.facts.source.as_deref(),
        e.facts.track.as_deref(),
        e.facts.error_code.as_deref(),
        error.as_deref(),
        req.found_by.as_str(),
        e.facts.started_at.map(ms),
        now,
    ];
    if let Some(id) = conn.fetch_id_of(&INSERT_RECORDING, &values).await? {
        outcome.recording_id = Some(id);
        outcome.recording_created = true;
        outcome.recording_changed = true;
        outcome.recording_ready = e.facts.status == RecordingStatus::Completed;
        return Ok(());
    }
    let current = conn
        .fetch_recording(sid)
        .await?
        .ok_or_else(|| omnivox_core::StoreError::Corrupt(format!("recording {sid}: neither created nor found")))?;
    outcome.recording_id = Some(current.id);
    let old = current.facts()?;
    let merged = old.clone().merged(&e.facts);
    if merged == old {
        return Ok(());
    }
    let became_completed = old.status != RecordingStatus::Completed && merged.status == RecordingStatus::Completed;
    // A recording Twilio first called failed but then completed is pending
    // again; past pending, the sync state belongs to the media pipeline.
    let (sync, error) = if became_completed {
        ("pending", None)
    } else if current.sync_status == "pending" || current.sync_status == "failed" {
        let (s, err) = merged.initial_sync();
        (s.as_str(), err)
    } else {
        (current.sync_status.as_str(), current.error.clone())
    };
    let sql = "UPDATE recordings SET status = $2, duration_seconds = $3, channels = $4, source = $5,
             track = $6, error_code = $7, started_at = $8, sync_status = $9,
             error = $10, updated_at = $11
         WHERE id = $1";
    let values = params![
        current.id,
        merged.status.as_str(),
        merged.duration_seconds,
        merged.channels,
        merged.source.as_deref(),
        merged.track.as_deref(),
        merged.error_code.as_deref(),
        merged.started_at.map(ms),
        sync,
        error.as_deref(),
        now,
    ];
    conn.execute(sql, &values).await?;
    outcome.recording_changed = true;
    outcome.recording_ready = became_completed;
    Ok(())
}
