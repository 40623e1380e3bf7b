-- Omnivox schema, PostgreSQL dialect. Times are Unix milliseconds (UTC) in
-- BIGINT columns: the same representation as the SQLite schema, so one set of
-- queries serves both backends and keyset cursors compare as numbers.
-- Foreign keys inside one transaction are checked at COMMIT (DEFERRABLE
-- INITIALLY DEFERRED), so no order of writes within a transaction can fail.

CREATE TABLE data_lists (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE campaigns (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           TEXT    NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    name           TEXT    NOT NULL,
    data_list_id   BIGINT REFERENCES data_lists (id) DEFERRABLE INITIALLY DEFERRED,
    retention_days BIGINT CHECK (retention_days IS NULL OR retention_days > 0),
    created_at     BIGINT NOT NULL
);

CREATE TABLE contacts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone        TEXT    NOT NULL UNIQUE CHECK (phone LIKE '+%'),
    name         TEXT,
    data_list_id BIGINT REFERENCES data_lists (id) DEFERRABLE INITIALLY DEFERRED,
    created_at   BIGINT NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
    display_name  TEXT,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    password_hash TEXT    NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_sha256 TEXT    PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE call_records (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_sid         TEXT    NOT NULL UNIQUE,
    parent_call_sid  TEXT,
    campaign_id      BIGINT NOT NULL REFERENCES campaigns (id) DEFERRABLE INITIALLY DEFERRED,
    contact_id       BIGINT REFERENCES contacts (id) DEFERRABLE INITIALLY DEFERRED,
    agent_id         BIGINT REFERENCES users (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    direction        TEXT,
    from_number      TEXT,
    to_number        TEXT,
    status           TEXT,
    outcome          TEXT,
    answered_by      TEXT,
    last_sequence    BIGINT,
    started_at       BIGINT,
    ended_at         BIGINT,
    duration_seconds BIGINT CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
    -- Every fact heard about the call, each with the rank of its source
    -- (omnivox_core::ingest::CallFacts); the columns above are derived from it.
    facts            JSONB   NOT NULL,
    -- startedAt when known, else when the call was first seen: the list's order.
    sort_at          BIGINT NOT NULL,
    legal_hold       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
-- The Call Records list: newest first, keyset on (sort_at, id), optionally filtered.
CREATE INDEX call_records_newest          ON call_records (sort_at DESC, id DESC);
CREATE INDEX call_records_by_campaign     ON call_records (campaign_id, sort_at DESC, id DESC);
CREATE INDEX call_records_by_agent        ON call_records (agent_id, sort_at DESC, id DESC);
CREATE INDEX call_records_by_status       ON call_records (status, sort_at DESC, id DESC);
CREATE INDEX call_records_by_direction    ON call_records (direction, sort_at DESC, id DESC);
CREATE INDEX call_records_by_contact      ON call_records (contact_id, sort_at DESC, id DESC);

-- The timeline of a call: every callback and enrichment, as received.
CREATE TABLE call_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_record_id  BIGINT NOT NULL REFERENCES call_records (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    source          TEXT    NOT NULL,
    status          TEXT,
    sequence_number BIGINT,
    occurred_at     BIGINT,
    received_at     BIGINT NOT NULL,
    payload         JSONB   NOT NULL,
    -- The same callback delivered twice is one line of the timeline.
    dedupe_key      TEXT    NOT NULL,
    UNIQUE (call_record_id, dedupe_key)
);
CREATE INDEX call_events_by_call ON call_events (call_record_id, id);

CREATE TABLE recordings (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recording_sid    TEXT    NOT NULL UNIQUE,
    call_record_id   BIGINT NOT NULL REFERENCES call_records (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    status           TEXT    NOT NULL,
    sync_status      TEXT    NOT NULL CHECK (sync_status IN ('pending', 'stored', 'verified', 'transcribed', 'failed', 'deleted')),
    duration_seconds BIGINT,
    channels         BIGINT,
    source           TEXT,
    track            TEXT,
    error_code       TEXT,
    error            TEXT,
    storage_key      TEXT,
    media_type       TEXT,
    sha256           TEXT,
    size_bytes       BIGINT,
    found_by         TEXT    NOT NULL CHECK (found_by IN ('webhook', 'import', 'sweep')),
    started_at       BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX recordings_by_call ON recordings (call_record_id);
CREATE INDEX recordings_by_sync_status ON recordings (sync_status);

CREATE TABLE transcripts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recording_id BIGINT NOT NULL UNIQUE REFERENCES recordings (id) ON DELETE CASCADE,
    engine       TEXT    NOT NULL,
    language     TEXT,
    text         TEXT    NOT NULL,
    segments     JSONB   NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    username    TEXT,
    action      TEXT    NOT NULL,
    target_kind TEXT,
    target_id   TEXT,
    client_addr TEXT,
    detail      TEXT
);
CREATE INDEX audit_log_by_target ON audit_log (target_kind, target_id);

-- The durable job queue. Finished jobs are deleted; dead ones stay for admins.
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'dead')),
    dedupe_key   TEXT,
    payload      JSONB   NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL CHECK (max_attempts > 0),
    run_at       BIGINT NOT NULL,
    locked_by    TEXT,
    lease_until  BIGINT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (kind, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_by_state ON jobs (state, id);

CREATE TABLE import_runs (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state               TEXT    NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
    date_created_after  BIGINT,
    date_created_before BIGINT,
    dry_run             BOOLEAN NOT NULL DEFAULT FALSE,
    next_page_uri       TEXT,
    pages_read          BIGINT NOT NULL DEFAULT 0,
    seen                BIGINT NOT NULL DEFAULT 0,
    processed           BIGINT NOT NULL DEFAULT 0,
    imported            BIGINT NOT NULL DEFAULT 0,
    skipped             BIGINT NOT NULL DEFAULT 0,
    errors              BIGINT NOT NULL DEFAULT 0,
    total               BIGINT,
    created_by          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at          BIGINT NOT NULL,
    finished_at         BIGINT
);

CREATE TABLE import_items (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    import_run_id BIGINT NOT NULL REFERENCES import_runs (id) ON DELETE CASCADE,
    recording_sid TEXT    NOT NULL,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('imported', 'skipped', 'error')),
    reason        TEXT,
    UNIQUE (import_run_id, recording_sid)
);
