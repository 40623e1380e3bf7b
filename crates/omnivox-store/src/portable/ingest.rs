//! The ingest transaction (see `omnivox_core::ingest`): every source of
//! call facts reaches the database through here.

macro_rules! impl_ingest_store {
    ($store:ty, row_lock = $lock:literal) => {
        #[async_trait::async_trait]
        impl omnivox_core::ingest::IngestStore for $store {
            async fn ingest(
                &self,
                req: &omnivox_core::ingest::IngestRequest,
                follow_ups: &omnivox_core::ingest::FollowUps,
            ) -> omnivox_core::store::StoreResult<omnivox_core::ingest::IngestOutcome> {
                use omnivox_core::ingest::{FoundBy, IngestEvent, IngestOutcome, RecordingStatus};
                use sqlx::types::Json;
                use $crate::db_error;
                use $crate::rows::{ms, CallIngestRow, RecordingIngestRow};

                const SELECT_CALL: &str = concat!(
                    "SELECT id, campaign_id, contact_id, agent_id, facts, created_at FROM call_records WHERE call_sid = $1 ",
                    $lock
                );
                const SELECT_RECORDING: &str = concat!(
                    "SELECT id, status, duration_seconds, channels, source, track, started_at, error_code, sync_status, error
                     FROM recordings WHERE recording_sid = $1 ",
                    $lock
                );

                let now = ms(req.received_at);
                let call_sid = req.call_sid().as_str();
                let mut tx = self.writer().begin().await.map_err(db_error)?;
                // An agent named by a callback URL may have been deleted since.
                let attributed_agent: Option<i64> = match req.attribution.agent_id {
                    Some(agent) => sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                        .bind(agent.0)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_error)?,
                    None => None,
                };

                // 1. The call record, created (with its campaign and data list) if unknown.
                let existing: Option<CallIngestRow> =
                    sqlx::query_as(SELECT_CALL).bind(call_sid).fetch_optional(&mut *tx).await.map_err(db_error)?;
                let (row, call_created) = match existing {
                    Some(row) => (row, false),
                    None => {
                        let (code, name) = match &req.attribution.campaign_code {
                            Some(c) if c != req.default_campaign.0 => (c.as_str(), c.as_str()),
                            _ => req.default_campaign,
                        };
                        sqlx::query("INSERT INTO data_lists (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                            .bind(name)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(db_error)?;
                        sqlx::query(
                            "INSERT INTO campaigns (code, name, data_list_id, created_at)
                             SELECT $1, $2, id, $3 FROM data_lists WHERE name = $2
                             ON CONFLICT (code) DO NOTHING",
                        )
                        .bind(code)
                        .bind(name)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                        let campaign_id: i64 = sqlx::query_scalar("SELECT id FROM campaigns WHERE code = $1")
                            .bind(code)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(db_error)?;
                        let inserted: Option<CallIngestRow> = sqlx::query_as(
                            "INSERT INTO call_records (call_sid, campaign_id, agent_id, facts, sort_at, created_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $5, $5)
                             ON CONFLICT (call_sid) DO NOTHING
                             RETURNING id, campaign_id, contact_id, agent_id, facts, created_at",
                        )
                        .bind(call_sid)
                        .bind(campaign_id)
                        .bind(attributed_agent)
                        .bind(Json(omnivox_core::ingest::CallFacts::default()))
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_error)?;
                        match inserted {
                            Some(row) => (row, true),
                            // Created meanwhile by a concurrent delivery, now committed.
                            None => (
                                sqlx::query_as(SELECT_CALL).bind(call_sid).fetch_one(&mut *tx).await.map_err(db_error)?,
                                false,
                            ),
                        }
                    }
                };

                // 2. Merge the event into the call's facts.
                let before = row.facts.0.clone();
                let mut facts = row.facts.0;
                if let IngestEvent::CallStatus(e) = &req.event {
                    facts.merge(e);
                }
                let agent_id = row.agent_id.or(attributed_agent);
                let mut contact_id = row.contact_id;
                if contact_id.is_none() {
                    if let Some(phone) = facts.parties().and_then(|p| p.customer_phone()) {
                        sqlx::query(
                            "INSERT INTO contacts (phone, data_list_id, created_at)
                             SELECT $1, data_list_id, $3 FROM campaigns WHERE id = $2
                             ON CONFLICT (phone) DO NOTHING",
                        )
                        .bind(phone.as_str())
                        .bind(row.campaign_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                        contact_id = sqlx::query_scalar("SELECT id FROM contacts WHERE phone = $1")
                            .bind(phone.as_str())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db_error)?;
                    }
                }
                let call_changed =
                    call_created || facts != before || agent_id != row.agent_id || contact_id != row.contact_id;
                if call_changed {
                    let status = facts.status();
                    let parties = facts.parties().cloned().unwrap_or_default();
                    let started_at = facts.started_at().map(ms);
                    sqlx::query(
                        "UPDATE call_records SET facts = $2, agent_id = $3, contact_id = $4, status = $5, outcome = $6,
                             direction = $7, from_number = $8, to_number = $9, answered_by = $10, started_at = $11,
                             ended_at = $12, duration_seconds = $13, last_sequence = $14, sort_at = $15, updated_at = $16
                         WHERE id = $1",
                    )
                    .bind(row.id)
                    .bind(Json(&facts))
                    .bind(agent_id)
                    .bind(contact_id)
                    .bind(status.map(|s| s.as_str()))
                    .bind(status.and_then(|s| s.outcome()))
                    .bind(parties.direction)
                    .bind(parties.from)
                    .bind(parties.to)
                    .bind(facts.answered_by.as_ref().map(|k| k.value.clone()))
                    .bind(started_at)
                    .bind(facts.ended_at().map(ms))
                    .bind(facts.duration_seconds())
                    .bind(facts.status.as_ref().map(|k| k.key.sequence))
                    .bind(started_at.unwrap_or(row.created_at))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                }

                // 3. The call's timeline: one line per distinct callback.
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
                .bind(row.id)
                .bind(source)
                .bind(status)
                .bind(sequence)
                .bind(occurred_at.map(ms))
                .bind(now)
                .bind(Json(payload))
                .bind(dedupe_key)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;

                let mut outcome = IngestOutcome {
                    call_record_id: row.id,
                    call_created,
                    call_changed,
                    agent_id: agent_id.map(omnivox_core::store::UserId),
                    recording_id: None,
                    recording_created: false,
                    recording_changed: false,
                    recording_ready: false,
                    call_needs_details: facts.needs_details(),
                };

                // 4. The recording: created, or moved forward only.
                if let IngestEvent::Recording(e) = &req.event {
                    let sid = e.recording_sid.as_str();
                    let mut existing: Option<RecordingIngestRow> =
                        sqlx::query_as(SELECT_RECORDING).bind(sid).fetch_optional(&mut *tx).await.map_err(db_error)?;
                    if existing.is_none() {
                        let (sync, error) = e.facts.initial_sync();
                        let inserted: Option<i64> = sqlx::query_scalar(
                            "INSERT INTO recordings (recording_sid, call_record_id, status, sync_status, duration_seconds,
                                 channels, source, track, error_code, error, found_by, started_at, created_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
                             ON CONFLICT (recording_sid) DO NOTHING
                             RETURNING id",
                        )
                        .bind(sid)
                        .bind(row.id)
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
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_error)?;
                        match inserted {
                            Some(id) => {
                                outcome.recording_id = Some(id);
                                outcome.recording_created = true;
                                outcome.recording_changed = true;
                                outcome.recording_ready = e.facts.status == RecordingStatus::Completed;
                            }
                            None => {
                                existing = Some(
                                    sqlx::query_as(SELECT_RECORDING).bind(sid).fetch_one(&mut *tx).await.map_err(db_error)?,
                                )
                            }
                        }
                    }
                    if let Some(current) = existing {
                        outcome.recording_id = Some(current.id);
                        let old = current.facts()?;
                        let merged = old.clone().merged(&e.facts);
                        if merged != old {
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
                            .execute(&mut *tx)
                            .await
                            .map_err(db_error)?;
                            outcome.recording_changed = true;
                            outcome.recording_ready = became_completed;
                        }
                    }
                }

                // 5. Follow-up work, committed with the facts or not at all.
                for job in follow_ups(req, &outcome) {
                    sqlx::query($crate::portable::ENQUEUE_JOB)
                        .bind(&job.kind)
                        .bind(&job.dedupe_key)
                        .bind(Json(&job.payload))
                        .bind(job.max_attempts)
                        .bind(ms(job.run_at))
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                Ok(outcome)
            }
        }
    };
}
pub(crate) use impl_ingest_store;
