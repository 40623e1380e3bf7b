//! The ingest transaction (see `omnivox_core::ingest`): every source of
//! call facts reaches the database through [`ingest_in`], on either backend.
//!
//! It applies one event inside a transaction (or savepoint) owned by the
//! caller: the backend decides how events are grouped into commits
//! (`super::group_commit` on SQLite). The statements are few on purpose, as
//! each is a round trip on PostgreSQL: on the common paths the call record
//! is found with one SELECT, or created with one INSERT that also looks its
//! campaign up; the recording is created with one INSERT.

use omnivox_core::ingest::{CallFacts, FollowUps, IngestEvent, IngestOutcome, IngestRequest};
use omnivox_core::store::{StoreError, StoreResult};
use serde_json::value::RawValue;

use super::exec::{params, Batchable, Exec, Param};
use super::recording::{append_timeline, upsert_recording};
use crate::rows::{ms, CallIngestRow};

/// Applies one event on `conn`; the caller commits (or rolls back).
pub(crate) async fn ingest_in<E: Exec>(
    conn: &mut E,
    req: &IngestRequest,
    follow_ups: &FollowUps,
) -> StoreResult<IngestOutcome> {
    let now = ms(req.received_at);
    // 1. The call record, created (with its campaign and data list) if unknown.
    let call = upsert_call(conn, req, now).await?;
    // 2. The call's timeline: one line per distinct callback.
    append_timeline(conn, req, call.id, now).await?;
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
        upsert_recording(conn, req, e, call.id, now, &mut outcome).await?;
    }
    // 4. Follow-up work, committed with the facts or not at all.
    for job in follow_ups(req, &outcome) {
        let payload = json(&job.payload)?;
        let values =
            params![job.kind.as_str(), job.dedupe_key.as_deref(), &*payload, job.max_attempts, ms(job.run_at), now];
        conn.write(&FOLLOW_UP, &values).await?;
    }
    Ok(outcome)
}

/// A follow-up job; one already queued with the same dedupe key stays as it is.
const FOLLOW_UP: Batchable = Batchable {
    one: crate::portable::ENQUEUE_JOB,
    many: "INSERT INTO jobs (kind, state, dedupe_key, payload, attempts, max_attempts, run_at, created_at, updated_at)
         SELECT kind, 'queued', dedupe_key, payload, 0, max_attempts, run_at, created_at, created_at
         FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::bigint[], $5::bigint[], $6::bigint[])
             AS t (kind, dedupe_key, payload, max_attempts, run_at, created_at)
         ON CONFLICT DO NOTHING",
};

/// A value as JSON for a JSON (JSONB) column.
pub(super) fn json<T: serde::Serialize + ?Sized>(value: &T) -> StoreResult<Box<RawValue>> {
    serde_json::value::to_raw_value(value).map_err(|e| StoreError::Corrupt(format!("JSON: {e}")))
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

const INSERT_CALL: Batchable = Batchable {
    one: "INSERT INTO call_records (call_sid, facts, agent_id, contact_id, status, outcome, direction,
             from_number, to_number, answered_by, started_at, ended_at, duration_seconds,
             last_sequence, sort_at, created_at, updated_at, campaign_id, has_recording)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, id, $18 = 1
         FROM campaigns WHERE code = $17
         ON CONFLICT (call_sid) DO NOTHING
         RETURNING id",
    many: "INSERT INTO call_records (call_sid, facts, agent_id, contact_id, status, outcome, direction,
             from_number, to_number, answered_by, started_at, ended_at, duration_seconds,
             last_sequence, sort_at, created_at, updated_at, campaign_id, has_recording)
         SELECT v.call_sid, v.facts, v.agent_id, v.contact_id, v.status, v.outcome, v.direction,
             v.from_number, v.to_number, v.answered_by, v.started_at, v.ended_at, v.duration_seconds,
             v.last_sequence, v.sort_at, v.now, v.now, c.id, v.recorded = 1
         FROM unnest($1::text[], $2::jsonb[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[],
                 $14::bigint[], $15::bigint[], $16::bigint[], $17::text[], $18::bigint[])
             AS v (call_sid, facts, agent_id, contact_id, status, outcome, direction,
                 from_number, to_number, answered_by, started_at, ended_at, duration_seconds,
                 last_sequence, sort_at, now, campaign, recorded)
         JOIN campaigns c ON c.code = v.campaign
         ON CONFLICT (call_sid) DO NOTHING
         RETURNING call_sid, id",
};

const UPDATE_CALL: Batchable = Batchable {
    one: "UPDATE call_records SET facts = $2, agent_id = $3, contact_id = $4, status = $5,
             outcome = $6, direction = $7, from_number = $8, to_number = $9, answered_by = $10,
             started_at = $11, ended_at = $12, duration_seconds = $13, last_sequence = $14,
             sort_at = $15, updated_at = $16
         WHERE id = $1",
    many: "UPDATE call_records c SET facts = v.facts, agent_id = v.agent_id, contact_id = v.contact_id,
             status = v.status, outcome = v.outcome, direction = v.direction, from_number = v.from_number,
             to_number = v.to_number, answered_by = v.answered_by, started_at = v.started_at,
             ended_at = v.ended_at, duration_seconds = v.duration_seconds, last_sequence = v.last_sequence,
             sort_at = v.sort_at, updated_at = v.now
         FROM unnest($1::bigint[], $2::jsonb[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[],
                 $14::bigint[], $15::bigint[], $16::bigint[])
             AS v (id, facts, agent_id, contact_id, status, outcome, direction, from_number, to_number,
                 answered_by, started_at, ended_at, duration_seconds, last_sequence, sort_at, now)
         WHERE c.id = v.id",
};

/// Writes the call record (`INSERT_CALL` or `UPDATE_CALL`: `$1` is the key,
/// `$2..=$16` the derived columns, then `tail`).
async fn write_call<E: Exec>(
    conn: &mut E,
    stmt: &'static Batchable,
    key: Param<'_>,
    d: &Derived,
    tail: &[Param<'_>],
) -> StoreResult<Option<i64>> {
    let f = &d.facts;
    let facts = json(f)?;
    let status = f.status();
    let parties = f.parties();
    let started_at = f.started_at().map(ms);
    let derived = params![
        &*facts,
        d.agent_id,
        d.contact_id,
        status.map(|s| s.as_str()),
        status.and_then(|s| s.outcome()),
        parties.and_then(|p| p.direction.as_deref()),
        parties.and_then(|p| p.from.as_deref()),
        parties.and_then(|p| p.to.as_deref()),
        f.answered_by.as_ref().map(|k| k.value.as_str()),
        started_at,
        f.ended_at().map(ms),
        f.duration_seconds(),
        f.status.as_ref().map(|k| k.key.sequence),
        started_at.unwrap_or(d.sort_at_default),
        d.now,
    ];
    let mut values = Vec::with_capacity(1 + derived.len() + tail.len());
    values.push(key);
    values.extend_from_slice(&derived);
    values.extend_from_slice(tail);
    conn.fetch_id_of(stmt, &values).await
}

async fn upsert_call<E: Exec>(conn: &mut E, req: &IngestRequest, now: i64) -> StoreResult<CallUpsert> {
    let call_sid = req.call_sid().as_str();
    let campaign = match &req.attribution.campaign_code {
        Some(c) if c != req.default_campaign.0 => (c.as_str(), c.as_str()),
        _ => req.default_campaign,
    };
    // Three rounds at most: a concurrent first delivery of the same call
    // (another instance on PostgreSQL) or a missing campaign sends us round
    // once each.
    for _ in 0..3 {
        let existing = conn.fetch_call(call_sid).await?;
        // An agent named by a callback URL may have been deleted since.
        let attributed_agent = match (req.attribution.agent_id, existing.as_ref().and_then(|r| r.agent_id)) {
            (Some(agent), None) => conn.fetch_id("SELECT id FROM users WHERE id = $1", &params![agent.0]).await?,
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
                d.contact_id = contact(conn, phone.as_str(), existing.as_ref(), campaign.0, now).await?;
            }
        }
        let needs_details = d.facts.needs_details();
        let Some(row) = existing else {
            // A call first heard of through its recording is created as
            // recorded, since the recording is inserted next in the same
            // transaction: the trigger that keeps `has_recording` then finds
            // nothing to change, instead of rewriting the new row at once.
            let recorded = i64::from(matches!(req.event, IngestEvent::Recording(_)));
            match write_call(conn, &INSERT_CALL, call_sid.into(), &d, &params![campaign.0, recorded]).await? {
                Some(id) => {
                    let agent_id = d.agent_id;
                    return Ok(CallUpsert { id, created: true, changed: true, agent_id, needs_details });
                }
                // Either the campaign is new, or the call was created
                // meanwhile by a concurrent delivery, now committed.
                None => {
                    ensure_campaign(conn, campaign, now).await?;
                    continue;
                }
            }
        };
        let changed = row.facts.0 != d.facts || d.agent_id != row.agent_id || d.contact_id != row.contact_id;
        if changed {
            write_call(conn, &UPDATE_CALL, row.id.into(), &d, &[]).await?;
        }
        return Ok(CallUpsert { id: row.id, created: false, changed, agent_id: d.agent_id, needs_details });
    }
    Err(StoreError::Corrupt(format!("call {call_sid}: neither found nor created")))
}

/// The contact for the customer's number, created in the data list of the
/// call's campaign (the existing call's, or `campaign_code`'s).
async fn contact<E: Exec>(
    conn: &mut E,
    phone: &str,
    call: Option<&CallIngestRow>,
    campaign_code: &str,
    now: i64,
) -> StoreResult<Option<i64>> {
    let created = match call {
        Some(row) => {
            let sql = "INSERT INTO contacts (phone, data_list_id, created_at)
                 SELECT $1, data_list_id, $3 FROM campaigns WHERE id = $2
                 ON CONFLICT (phone) DO NOTHING
                 RETURNING id";
            conn.fetch_id(sql, &params![phone, row.campaign_id, now]).await?
        }
        None => {
            let sql = "INSERT INTO contacts (phone, data_list_id, created_at)
                 SELECT $1, data_list_id, $3 FROM campaigns WHERE code = $2
                 ON CONFLICT (phone) DO NOTHING
                 RETURNING id";
            conn.fetch_id(sql, &params![phone, campaign_code, now]).await?
        }
    };
    match created {
        Some(id) => Ok(Some(id)),
        None => conn.fetch_id("SELECT id FROM contacts WHERE phone = $1", &params![phone]).await,
    }
}

/// Creates the campaign (and its data list of the same name) unless it exists.
async fn ensure_campaign<E: Exec>(conn: &mut E, (code, name): (&str, &str), now: i64) -> StoreResult<()> {
    let sql = "INSERT INTO data_lists (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
    conn.execute(sql, &params![name, now]).await?;
    let sql = "INSERT INTO campaigns (code, name, data_list_id, created_at)
         SELECT $1, $2, id, $3 FROM data_lists WHERE name = $2
         ON CONFLICT (code) DO NOTHING";
    conn.execute(sql, &params![code, name, now]).await
}
