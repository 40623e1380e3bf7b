//! The ingest transaction (see `omnivox_core::ingest`): every source of
//! call facts reaches the database through here.
//!
//! `impl_ingest_fns!` writes, for one backend's connection type, the
//! function `ingest_in` that applies one event on a connection inside a
//! transaction (or savepoint) owned by the caller: the backend decides how
//! events are grouped into commits (`crate::group_commit`). The statements
//! are few on purpose, as each is a round trip: on the common paths the call
//! record is found with one SELECT, or created with one INSERT that also
//! looks its campaign up; the recording is created with one INSERT.

macro_rules! impl_ingest_fns {
    (conn = $conn:ty, row_lock = $lock:literal) => {
        use omnivox_core::ingest::{
            CallFacts, FollowUps, IngestEvent, IngestOutcome, IngestRequest, RecordingEvent, RecordingStatus,
        };
        use omnivox_core::store::{StoreError, StoreResult};
        use sqlx::types::Json;
        use sqlx::Row as _;

        use $crate::db_error;
        use $crate::rows::{ms, CallIngestRow, RecordingIngestRow};

        type Db = <$conn as sqlx::Connection>::Database;
        type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

        const SELECT_CALL: &str = concat!(
            "SELECT id, campaign_id, contact_id, agent_id, facts, created_at FROM call_records WHERE call_sid = $1 ",
            $lock
        );
        const SELECT_RECORDING: &str = concat!(
            "SELECT id, status, duration_seconds, channels, source, track, started_at, error_code, sync_status, error
             FROM recordings WHERE recording_sid = $1 ",
            $lock
        );

        /// Applies one event on `conn`; the caller commits (or rolls back).
        pub(crate) async fn ingest_in(
            conn: &mut $conn,
            req: &IngestRequest,
            follow_ups: &FollowUps,
        ) -> StoreResult<IngestOutcome> {
            let now = ms(req.received_at);
            // 1. The call record, created (with its campaign and data list) if unknown.
            let call = upsert_call(&mut *conn, req, now).await?;
            // 2. The call's timeline: one line per distinct callback.
            append_timeline(&mut *conn, req, call.id, now).await?;
            let mut outcome = IngestOutcome {
                call_record_id: call.id,
                call_created: call.created,
                call_changed: call.changed,
                agent_id: call.agent_id.map(omnivox_core::store::UserId),
                recording_id: None,
                recording_created: false,
                recording_changed: false,
                recording_ready: false,
                call_needs_details: call.needs_details,
            };
            // 3. The recording: created, or moved forward only.
            if let IngestEvent::Recording(e) = &req.event {
                upsert_recording(&mut *conn, req, e, call.id, now, &mut outcome).await?;
            }
            // 4. Follow-up work, committed with the facts or not at all.
            for job in follow_ups(req, &outcome) {
                sqlx::query($crate::portable::ENQUEUE_JOB)
                    .bind(&job.kind)
                    .bind(&job.dedupe_key)
                    .bind(Json(&job.payload))
                    .bind(job.max_attempts)
                    .bind(ms(job.run_at))
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_error)?;
            }
            Ok(outcome)
        }

        /// A boxed `ingest_in`, the shape `crate::group_commit` runs.
        #[allow(dead_code)] // PostgreSQL runs `ingest_in` directly
        pub(crate) fn ingest_boxed<'c>(
            conn: &'c mut $conn,
            req: &'c IngestRequest,
            follow_ups: &'c FollowUps,
        ) -> futures::future::BoxFuture<'c, StoreResult<IngestOutcome>> {
            Box::pin(ingest_in(conn, req, follow_ups))
        }

        struct CallUpsert {
            id: i64,
            created: bool,
            changed: bool,
            agent_id: Option<i64>,
            needs_details: bool,
        }

        /// The columns of `call_records` derived from its facts, bound as
        /// `$2..=$16` by both the INSERT and the UPDATE.
        struct Derived {
            facts: CallFacts,
            agent_id: Option<i64>,
            contact_id: Option<i64>,
            sort_at_default: i64,
            now: i64,
        }

        fn bind_derived<'q>(q: Query<'q>, d: &'q Derived) -> Query<'q> {
            let f = &d.facts;
            let status = f.status();
            let parties = f.parties();
            let started_at = f.started_at().map(ms);
            q.bind(Json(f))
                .bind(d.agent_id)
                .bind(d.contact_id)
                .bind(status.map(|s| s.as_str()))
                .bind(status.and_then(|s| s.outcome()))
                .bind(parties.and_then(|p| p.direction.as_deref()))
                .bind(parties.and_then(|p| p.from.as_deref()))
                .bind(parties.and_then(|p| p.to.as_deref()))
                .bind(f.answered_by.as_ref().map(|k| k.value.as_str()))
                .bind(started_at)
                .bind(f.ended_at().map(ms))
                .bind(f.duration_seconds())
                .bind(f.status.as_ref().map(|k| k.key.sequence))
                .bind(started_at.unwrap_or(d.sort_at_default))
                .bind(d.now)
        }

        async fn upsert_call(conn: &mut $conn, req: &IngestRequest, now: i64) -> StoreResult<CallUpsert> {
            let call_sid = req.call_sid().as_str();
            let campaign = match &req.attribution.campaign_code {
                Some(c) if c != req.default_campaign.0 => (c.as_str(), c.as_str()),
                _ => req.default_campaign,
            };
            // Three rounds at most: a concurrent first delivery of the same
            // call (another instance on PostgreSQL) or a missing campaign
            // sends us round once each.
            for _ in 0..3 {
                let existing: Option<CallIngestRow> =
                    sqlx::query_as(SELECT_CALL).bind(call_sid).fetch_optional(&mut *conn).await.map_err(db_error)?;
                // An agent named by a callback URL may have been deleted since.
                let attributed_agent = match (req.attribution.agent_id, existing.as_ref().and_then(|r| r.agent_id)) {
                    (Some(agent), None) => sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                        .bind(agent.0)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db_error)?,
                    _ => None,
                };
                let mut d = match &existing {
                    Some(row) => Derived {
                        facts: row.facts.0.clone(),
                        agent_id: row.agent_id.or(attributed_agent),
                        contact_id: row.contact_id,
                        sort_at_default: row.created_at,
                        now,
                    },
                    None => Derived {
                        facts: CallFacts::default(),
                        agent_id: attributed_agent,
                        contact_id: None,
                        sort_at_default: now,
                        now,
                    },
                };
                if let IngestEvent::CallStatus(e) = &req.event {
                    d.facts.merge(e);
                }
                if d.contact_id.is_none() {
                    if let Some(phone) = d.facts.parties().and_then(|p| p.customer_phone()) {
                        d.contact_id = contact(&mut *conn, phone.as_str(), existing.as_ref(), campaign.0, now).await?;
                    }
                }
                let needs_details = d.facts.needs_details();
                let Some(row) = existing else {
                    let inserted = bind_derived(
                        sqlx::query(
                            "INSERT INTO call_records (call_sid, facts, agent_id, contact_id, status, outcome, direction,
                                 from_number, to_number, answered_by, started_at, ended_at, duration_seconds,
                                 last_sequence, sort_at, created_at, updated_at, campaign_id)
                             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, id
                             FROM campaigns WHERE code = $17
                             ON CONFLICT (call_sid) DO NOTHING
                             RETURNING id",
                        )
                        .bind(call_sid),
                        &d,
                    )
                    .bind(campaign.0)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_error)?;
                    match inserted {
                        Some(r) => {
                            let id = r.try_get::<i64, _>(0).map_err(db_error)?;
                            let agent_id = d.agent_id;
                            return Ok(CallUpsert { id, created: true, changed: true, agent_id, needs_details });
                        }
                        // Either the campaign is new, or the call was created
                        // meanwhile by a concurrent delivery, now committed.
                        None => {
                            ensure_campaign(&mut *conn, campaign, now).await?;
                            continue;
                        }
                    }
                };
                let changed = row.facts.0 != d.facts || d.agent_id != row.agent_id || d.contact_id != row.contact_id;
                if changed {
                    bind_derived(
                        sqlx::query(
                            "UPDATE call_records SET facts = $2, agent_id = $3, contact_id = $4, status = $5,
                                 outcome = $6, direction = $7, from_number = $8, to_number = $9, answered_by = $10,
                                 started_at = $11, ended_at = $12, duration_seconds = $13, last_sequence = $14,
                                 sort_at = $15, updated_at = $16
                             WHERE id = $1",
                        )
                        .bind(row.id),
                        &d,
                    )
                    .execute(&mut *conn)
                    .await
                    .map_err(db_error)?;
                }
                return Ok(CallUpsert { id: row.id, created: false, changed, agent_id: d.agent_id, needs_details });
            }
            Err(StoreError::Corrupt(format!("call {call_sid}: neither found nor created")))
        }

        /// The contact for the customer's number, created in the data list of
        /// the call's campaign (the existing call's, or `campaign_code`'s).
        async fn contact(
            conn: &mut $conn,
            phone: &str,
            call: Option<&CallIngestRow>,
            campaign_code: &str,
            now: i64,
        ) -> StoreResult<Option<i64>> {
            let created: Option<i64> = match call {
                Some(row) => sqlx::query_scalar(
                    "INSERT INTO contacts (phone, data_list_id, created_at)
                     SELECT $1, data_list_id, $3 FROM campaigns WHERE id = $2
                     ON CONFLICT (phone) DO NOTHING
                     RETURNING id",
                )
                .bind(phone)
                .bind(row.campaign_id),
                None => sqlx::query_scalar(
                    "INSERT INTO contacts (phone, data_list_id, created_at)
                     SELECT $1, data_list_id, $3 FROM campaigns WHERE code = $2
                     ON CONFLICT (phone) DO NOTHING
                     RETURNING id",
                )
                .bind(phone)
                .bind(campaign_code),
            }
            .bind(now)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
            match created {
                Some(id) => Ok(Some(id)),
                None => sqlx::query_scalar("SELECT id FROM contacts WHERE phone = $1")
                    .bind(phone)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_error),
            }
        }

        /// Creates the campaign (and its data list of the same name) unless it exists.
        async fn ensure_campaign(conn: &mut $conn, (code, name): (&str, &str), now: i64) -> StoreResult<()> {
            sqlx::query("INSERT INTO data_lists (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(now)
                .execute(&mut *conn)
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
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            Ok(())
        }

        $crate::portable::impl_ingest_recording_fns!(conn = $conn);
    };
}
pub(crate) use impl_ingest_fns;
