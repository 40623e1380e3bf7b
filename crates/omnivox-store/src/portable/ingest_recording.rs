//! The second half of `impl_ingest_fns!`: the call's timeline and the
//! recording. Expanded inside it, so it shares its imports and constants.

macro_rules! impl_ingest_recording_fns {
    (conn = $conn:ty) => {
        async fn append_timeline(conn: &mut $conn, req: &IngestRequest, call_id: i64, now: i64) -> StoreResult<()> {
            use omnivox_core::ingest::FoundBy;
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
            sqlx::query(
                "INSERT INTO call_events (call_record_id, source, status, sequence_number, occurred_at, received_at, payload, dedupe_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (call_record_id, dedupe_key) DO NOTHING",
            )
            .bind(call_id)
            .bind(source)
            .bind(status)
            .bind(sequence)
            .bind(occurred_at.map(ms))
            .bind(now)
            .bind(Json(payload))
            .bind(dedupe_key)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            Ok(())
        }

        /// Creates the recording, or moves the existing one forward.
        async fn upsert_recording(
            conn: &mut $conn,
            req: &IngestRequest,
            e: &RecordingEvent,
            call_id: i64,
            now: i64,
            outcome: &mut IngestOutcome,
        ) -> StoreResult<()> {
            let sid = e.recording_sid.as_str();
            let (sync, error) = e.facts.initial_sync();
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO recordings (recording_sid, call_record_id, status, sync_status, duration_seconds,
                     channels, source, track, error_code, error, found_by, started_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
                 ON CONFLICT (recording_sid) DO NOTHING
                 RETURNING id",
            )
            .bind(sid)
            .bind(call_id)
            .bind(e.facts.status.as_str())
            .bind(sync.as_str())
            .bind(e.facts.duration_seconds)
            .bind(e.facts.channels)
            .bind(&e.facts.source)
            .bind(&e.facts.track)
            .bind(&e.facts.error_code)
            .bind(error)
            .bind(req.found_by.as_str())
            .bind(e.facts.started_at.map(ms))
            .bind(now)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
            if let Some(id) = inserted {
                outcome.recording_id = Some(id);
                outcome.recording_created = true;
                outcome.recording_changed = true;
                outcome.recording_ready = e.facts.status == RecordingStatus::Completed;
                return Ok(());
            }
            let current: RecordingIngestRow =
                sqlx::query_as(SELECT_RECORDING).bind(sid).fetch_one(&mut *conn).await.map_err(db_error)?;
            outcome.recording_id = Some(current.id);
            let old = current.facts()?;
            let merged = old.clone().merged(&e.facts);
            if merged == old {
                return Ok(());
            }
            let became_completed =
                old.status != RecordingStatus::Completed && merged.status == RecordingStatus::Completed;
            // A recording Twilio first called failed but then completed is pending again;
            // past pending, the sync state belongs to the media pipeline.
            let (sync, error) = if became_completed {
                ("pending", None)
            } else if current.sync_status == "pending" || current.sync_status == "failed" {
                let (s, err) = merged.initial_sync();
                (s.as_str(), err)
            } else {
                (current.sync_status.as_str(), current.error.clone())
            };
            sqlx::query(
                "UPDATE recordings SET status = $2, duration_seconds = $3, channels = $4, source = $5,
                     track = $6, error_code = $7, started_at = $8, sync_status = $9,
                     error = $10, updated_at = $11
                 WHERE id = $1",
            )
            .bind(current.id)
            .bind(merged.status.as_str())
            .bind(merged.duration_seconds)
            .bind(merged.channels)
            .bind(&merged.source)
            .bind(&merged.track)
            .bind(&merged.error_code)
            .bind(merged.started_at.map(ms))
            .bind(sync)
            .bind(error)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            outcome.recording_changed = true;
            outcome.recording_ready = became_completed;
            Ok(())
        }
    };
}
pub(crate) use impl_ingest_recording_fns;
