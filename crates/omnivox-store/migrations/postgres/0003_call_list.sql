-- The Call Records list at a million calls: every filter, and the order
-- (sort_at DESC, id DESC), served by an index (see `portable/call_list.rs`).
-- The campaign, agent, status, direction and newest-first indexes exist
-- since 0001; this adds whether a call has a recording, and trigram indexes
-- of the contacts for searching part of a phone number or of a name.

-- Whether the call has any recording (of any sync state), kept by triggers
-- so that every writer of recordings (webhook ingest, import, sweep) keeps
-- it without knowing about it.
ALTER TABLE call_records ADD COLUMN has_recording BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE call_records c SET has_recording = TRUE
    WHERE EXISTS (SELECT 1 FROM recordings r WHERE r.call_record_id = c.id);
CREATE INDEX call_records_by_recording ON call_records (has_recording, sort_at DESC, id DESC);

CREATE FUNCTION call_records_mark_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE call_records SET has_recording = TRUE WHERE id = NEW.call_record_id AND NOT has_recording;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE call_records
            SET has_recording = EXISTS (SELECT 1 FROM recordings WHERE call_record_id = OLD.call_record_id)
            WHERE id = OLD.call_record_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER recordings_mark_call AFTER INSERT OR DELETE ON recordings
    FOR EACH ROW EXECUTE FUNCTION call_records_mark_recorded();
CREATE TRIGGER recordings_move_call AFTER UPDATE OF call_record_id ON recordings
    FOR EACH ROW WHEN (OLD.call_record_id IS DISTINCT FROM NEW.call_record_id)
    EXECUTE FUNCTION call_records_mark_recorded();

-- Part of a number or a name: pg_trgm's GIN indexes answer `LIKE '%…%'`
-- and `ILIKE` (three characters at least), over the contacts, which are far
-- fewer than the calls. pg_trgm is a trusted extension (PostgreSQL 13+), so
-- a database owner may create it. It goes to `public` unless it is already
-- installed somewhere; the operator class is named with whichever schema
-- holds it, so the indexes work whatever the connection's search_path.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
DO $$
DECLARE
    trgm_schema TEXT;
BEGIN
    SELECT n.nspname INTO STRICT trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX contacts_phone_trgm ON contacts USING gin (phone %I.gin_trgm_ops)', trgm_schema);
    EXECUTE format('CREATE INDEX contacts_name_trgm ON contacts USING gin (name %I.gin_trgm_ops)', trgm_schema);
END
$$;
