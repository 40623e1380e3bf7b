//! The ingest transaction on SQLite's group-commit writer: the same
//! statements (`portable::ingest_sql`) and the same steps as
//! `portable::impl_ingest_fns!`, run synchronously on the writer's own
//! connection.
//!
//! Why not through sqlx: its SQLite driver runs each connection on a thread
//! of its own, so every statement is a round trip between two threads (two
//! thread wake-ups). Profiled under load, those wake-ups took about half of
//! the machine's CPU time and SQLite itself under a tenth; a batch of
//! ingests is a few hundred statements. Here the writer thread runs them
//! itself, on a connection only it uses.
//!
//! Keep this in step with `portable/ingest.rs` and
//! `portable/ingest_recording.rs`: the conformance tests run both.

use omnivox_core::ingest::{
    CallFacts, FollowUps, FoundBy, IngestEvent, IngestOutcome, IngestRequest, RecordingEvent, RecordingFacts,
    RecordingStatus,
};
use omnivox_core::store::{StoreError, StoreResult};
use rusqlite::types::Value;
use rusqlite::Connection;

use crate::portable::ingest_sql as sql;
use crate::rows::{from_ms, ms};

pub(crate) fn rusqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Database(Box::new(e))
}

/// Binds `values` to the statement's `$n` parameters by number (as sqlx
/// does; SQLite itself numbers named parameters in order of appearance).
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, values: &[Value]) -> StoreResult<()> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("statement parameter {i} is not of the form $n")))?;
        // An argument not given is NULL, as with sqlx.
        let value = n.checked_sub(1).and_then(|n| values.get(n)).unwrap_or(&Value::Null);
        stmt.raw_bind_parameter(i, value).map_err(rusqlite_error)?;
    }
    Ok(())
}

/// Runs a statement; its first row's first column if it returns rows.
fn first<T: rusqlite::types::FromSql>(conn: &Connection, query: &str, values: &[Value]) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(query).map_err(rusqlite_error)?;
    bind(&mut stmt, values)?;
    let mut rows = stmt.raw_query();
    match rows.next().map_err(rusqlite_error)? {
        Some(row) => Ok(Some(row.get(0).map_err(rusqlite_error)?)),
        None => Ok(None),
    }
}

fn execute(conn: &Connection, query: &str, values: &[Value]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(query).map_err(rusqlite_error)?;
    bind(&mut stmt, values)?;
    stmt.raw_execute().map_err(rusqlite_error)?;
    Ok(())
}

fn text(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::Text(s.to_owned()))
}

fn int(v: Option<i64>) -> Value {
    v.map_or(Value::Null, Value::Integer)
}

/// As sqlx's `Json` encodes on SQLite: the JSON text.
fn json<T: serde::Serialize + ?Sized>(v: &T) -> StoreResult<Value> {
    serde_json::to_string(v).map(Value::Text).map_err(|e| StoreError::Corrupt(format!("JSON: {e}")))
}

/// Applies one event on `conn`, inside a transaction (or savepoint) the
/// caller owns; the caller commits or rolls back.
pub(crate) fn ingest_in(conn: &Connection, req: &IngestRequest, follow_ups: &FollowUps) -> StoreResult<IngestOutcome> {
    let now = ms(req.received_at);
    // 1. The call record, created (with its campaign and data list) if unknown.
    let call = upsert_call(conn, req, now)?;
    // 2. The call's timeline: one line per distinct callback.
    append_timeline(conn, req, call.id, now)?;
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
        upsert_recording(conn, req, e, call.id, now, &mut outcome)?;
    }
    // 4. Follow-up work, committed with the facts or not at all.
    for job in follow_ups(req, &outcome) {
        let values = [
            Value::Text(job.kind.clone()),
            text(job.dedupe_key.as_deref()),
            json(&job.payload)?,
            Value::Integer(job.max_attempts),
            Value::Integer(ms(job.run_at)),
            Value::Integer(now),
        ];
        // `RETURNING id` of a job is not needed here.
        first::<i64>(conn, crate::portable::ENQUEUE_JOB, &values)?;
    }
    Ok(outcome)
}

struct CallUpsert {
    id: i64,
    created: bool,
    changed: bool,
    agent_id: Option<i64>,
    needs_details: bool,
}

struct CallRow {
    id: i64,
    campaign_id: i64,
    contact_id: Option<i64>,
    agent_id: Option<i64>,
    facts: CallFacts,
    created_at: i64,
}

/// The columns of `call_records` derived from its facts, `$2..=$16` of
/// both the INSERT and the UPDATE.
fn derived(
    facts: &CallFacts,
    agent_id: Option<i64>,
    contact_id: Option<i64>,
    sort_at_default: i64,
    now: i64,
) -> StoreResult<[Value; 15]> {
    let status = facts.status();
    let parties = facts.parties();
    let started_at = facts.started_at().map(ms);
    Ok([
        json(facts)?,
        int(agent_id),
        int(contact_id),
        text(status.map(|s| s.as_str())),
        text(status.and_then(|s| s.outcome())),
        text(parties.and_then(|p| p.direction.as_deref())),
        text(parties.and_then(|p| p.from.as_deref())),
        text(parties.and_then(|p| p.to.as_deref())),
        text(facts.answered_by.as_ref().map(|k| k.value.as_str())),
        int(started_at),
        int(facts.ended_at().map(ms)),
        int(facts.duration_seconds()),
        int(facts.status.as_ref().map(|k| k.key.sequence)),
        Value::Integer(started_at.unwrap_or(sort_at_default)),
        Value::Integer(now),
    ])
}

fn select_call(conn: &Connection, call_sid: &str) -> StoreResult<Option<CallRow>> {
    let mut stmt = conn.prepare_cached(sql::SELECT_CALL).map_err(rusqlite_error)?;
    bind(&mut stmt, &[Value::Text(call_sid.to_owned())])?;
    let mut rows = stmt.raw_query();
    let Some(row) = rows.next().map_err(rusqlite_error)? else { return Ok(None) };
    let id: i64 = row.get(0).map_err(rusqlite_error)?;
    let facts: String = row.get(4).map_err(rusqlite_error)?;
    Ok(Some(CallRow {
        id,
        campaign_id: row.get(1).map_err(rusqlite_error)?,
        contact_id: row.get(2).map_err(rusqlite_error)?,
        agent_id: row.get(3).map_err(rusqlite_error)?,
        facts: serde_json::from_str(&facts).map_err(|e| StoreError::Corrupt(format!("call {id} facts: {e}")))?,
        created_at: row.get(5).map_err(rusqlite_error)?,
    }))
}

fn upsert_call(conn: &Connection, req: &IngestRequest, now: i64) -> StoreResult<CallUpsert> {
    let call_sid = req.call_sid().as_str();
    let campaign = match &req.attribution.campaign_code {
        Some(c) if c != req.default_campaign.0 => (c.as_str(), c.as_str()),
        _ => req.default_campaign,
    };
    // Two rounds at most here: a missing campaign sends us round once (the
    // writer holds the database's write lock, so no call appears meanwhile).
    for _ in 0..3 {
        let existing = select_call(conn, call_sid)?;
        // An agent named by a callback URL may have been deleted since.
        let attributed_agent = match (req.attribution.agent_id, existing.as_ref().and_then(|r| r.agent_id)) {
            (Some(agent), None) => first::<i64>(conn, sql::SELECT_USER, &[Value::Integer(agent.0)])?,
            _ => None,
        };
        let (mut facts, agent_id, mut contact_id, sort_at_default) = match &existing {
            Some(row) => (row.facts.clone(), row.agent_id.or(attributed_agent), row.contact_id, row.created_at),
            None => (CallFacts::default(), attributed_agent, None, now),
        };
        if let IngestEvent::CallStatus(e) = &req.event {
            facts.merge(e);
        }
        if contact_id.is_none() {
            if let Some(phone) = facts.parties().and_then(|p| p.customer_phone()) {
                contact_id = contact(conn, phone.as_str(), existing.as_ref(), campaign.0, now)?;
            }
        }
        let needs_details = facts.needs_details();
        let columns = derived(&facts, agent_id, contact_id, sort_at_default, now)?;
        let Some(row) = existing else {
            let mut values = Vec::with_capacity(17);
            values.push(Value::Text(call_sid.to_owned()));
            values.extend(columns);
            values.push(Value::Text(campaign.0.to_owned()));
            match first::<i64>(conn, sql::INSERT_CALL, &values)? {
                Some(id) => return Ok(CallUpsert { id, created: true, changed: true, agent_id, needs_details }),
                // The campaign is new (no call can have appeared meanwhile:
                // this writer holds the write lock).
                None => {
                    ensure_campaign(conn, campaign, now)?;
                    continue;
                }
            }
        };
        let changed = row.facts != facts || agent_id != row.agent_id || contact_id != row.contact_id;
        if changed {
            let mut values = Vec::with_capacity(16);
            values.push(Value::Integer(row.id));
            values.extend(columns);
            execute(conn, sql::UPDATE_CALL, &values)?;
        }
        return Ok(CallUpsert { id: row.id, created: false, changed, agent_id, needs_details });
    }
    Err(StoreError::Corrupt(format!("call {call_sid}: neither found nor created")))
}

/// The contact for the customer's number, created in the data list of the
/// call's campaign (the existing call's, or `campaign_code`'s).
fn contact(
    conn: &Connection,
    phone: &str,
    call: Option<&CallRow>,
    campaign_code: &str,
    now: i64,
) -> StoreResult<Option<i64>> {
    let created = match call {
        Some(row) => first::<i64>(
            conn,
            sql::INSERT_CONTACT_BY_CAMPAIGN_ID,
            &[Value::Text(phone.to_owned()), Value::Integer(row.campaign_id), Value::Integer(now)],
        )?,
        None => first::<i64>(
            conn,
            sql::INSERT_CONTACT_BY_CAMPAIGN_CODE,
            &[Value::Text(phone.to_owned()), Value::Text(campaign_code.to_owned()), Value::Integer(now)],
        )?,
    };
    match created {
        Some(id) => Ok(Some(id)),
        None => first::<i64>(conn, sql::SELECT_CONTACT, &[Value::Text(phone.to_owned())]),
    }
}

/// Creates the campaign (and its data list of the same name) unless it exists.
fn ensure_campaign(conn: &Connection, (code, name): (&str, &str), now: i64) -> StoreResult<()> {
    execute(conn, sql::INSERT_DATA_LIST, &[Value::Text(name.to_owned()), Value::Integer(now)])?;
    execute(
        conn,
        sql::INSERT_CAMPAIGN,
        &[Value::Text(code.to_owned()), Value::Text(name.to_owned()), Value::Integer(now)],
    )
}

fn append_timeline(conn: &Connection, req: &IngestRequest, call_id: i64, now: i64) -> StoreResult<()> {
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
    execute(
        conn,
        sql::INSERT_CALL_EVENT,
        &[
            Value::Integer(call_id),
            Value::Text(source.to_owned()),
            Value::Text(status.to_owned()),
            int(sequence),
            int(occurred_at.map(ms)),
            Value::Integer(now),
            json(payload)?,
            Value::Text(dedupe_key),
        ],
    )
}

struct RecordingRow {
    id: i64,
    facts: RecordingFacts,
    sync_status: String,
    error: Option<String>,
}

fn select_recording(conn: &Connection, sid: &str) -> StoreResult<RecordingRow> {
    let mut stmt = conn.prepare_cached(sql::SELECT_RECORDING).map_err(rusqlite_error)?;
    bind(&mut stmt, &[Value::Text(sid.to_owned())])?;
    let mut rows = stmt.raw_query();
    let row = rows
        .next()
        .map_err(rusqlite_error)?
        .ok_or_else(|| StoreError::Corrupt(format!("recording {sid}: neither inserted nor found")))?;
    let get = |e: rusqlite::Error| rusqlite_error(e);
    let status: String = row.get(1).map_err(get)?;
    let started_at: Option<i64> = row.get(6).map_err(get)?;
    let facts = RecordingFacts {
        status: RecordingStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("recording status {status:?}")))?,
        duration_seconds: row.get(2).map_err(get)?,
        channels: row.get(3).map_err(get)?,
        source: row.get(4).map_err(get)?,
        track: row.get(5).map_err(get)?,
        started_at: started_at.map(from_ms).transpose()?,
        error_code: row.get(7).map_err(get)?,
    };
    Ok(RecordingRow {
        id: row.get(0).map_err(get)?,
        facts,
        sync_status: row.get(8).map_err(get)?,
        error: row.get(9).map_err(get)?,
    })
}

/// Creates the recording, or moves the existing one forward.
fn upsert_recording(
    conn: &Connection,
    req: &IngestRequest,
    e: &RecordingEvent,
    call_id: i64,
    now: i64,
    outcome: &mut IngestOutcome,
) -> StoreResult<()> {
    let sid = e.recording_sid.as_str();
    let (sync, error) = e.facts.initial_sync();
    let inserted = first::<i64>(
        conn,
        sql::INSERT_RECORDING,
        &[
            Value::Text(sid.to_owned()),
            Value::Integer(call_id),
            Value::Text(e.facts.status.as_str().to_owned()),
            Value::Text(sync.as_str().to_owned()),
            int(e.facts.duration_seconds),
            int(e.facts.channels),
            text(e.facts.source.as_deref()),
            text(e.facts.track.as_deref()),
            text(e.facts.error_code.as_deref()),
            text(error.as_deref()),
            Value::Text(req.found_by.as_str().to_owned()),
            int(e.facts.started_at.map(ms)),
            Value::Integer(now),
        ],
    )?;
    if let Some(id) = inserted {
        outcome.recording_id = Some(id);
        outcome.recording_created = true;
        outcome.recording_changed = true;
        outcome.recording_ready = e.facts.status == RecordingStatus::Completed;
        return Ok(());
    }
    let current = select_recording(conn, sid)?;
    outcome.recording_id = Some(current.id);
    let old = current.facts;
    let merged = old.clone().merged(&e.facts);
    if merged == old {
        return Ok(());
    }
    let became_completed = old.status != RecordingStatus::Completed && merged.status == RecordingStatus::Completed;
    // A recording Twilio first called failed but then completed is pending again;
    // past pending, the sync state belongs to the media pipeline.
    let (sync, error) = if became_completed {
        ("pending".to_owned(), None)
    } else if current.sync_status == "pending" || current.sync_status == "failed" {
        let (s, err) = merged.initial_sync();
        (s.as_str().to_owned(), err)
    } else {
        (current.sync_status.clone(), current.error.clone())
    };
    execute(
        conn,
        sql::UPDATE_RECORDING,
        &[
            Value::Integer(current.id),
            Value::Text(merged.status.as_str().to_owned()),
            int(merged.duration_seconds),
            int(merged.channels),
            text(merged.source.as_deref()),
            text(merged.track.as_deref()),
            text(merged.error_code.as_deref()),
            int(merged.started_at.map(ms)),
            Value::Text(sync),
            text(error.as_deref()),
            Value::Integer(now),
        ],
    )?;
    outcome.recording_changed = true;
    outcome.recording_ready = became_completed;
    Ok(())
}
