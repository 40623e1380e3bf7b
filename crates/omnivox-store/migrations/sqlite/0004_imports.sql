-- Historical imports and the reconciliation sweep: why a run failed, how
-- many recordings the page in hand lists (for progress), a one-row guard
-- that serializes the start of runs (so two overlapping runs can never
-- both start), and the indexes the walk and the admin views use.
ALTER TABLE import_runs ADD COLUMN error TEXT;
ALTER TABLE import_runs ADD COLUMN page_items INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_runs ADD COLUMN updated_at INTEGER;

CREATE TABLE import_guard (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    touched_at INTEGER NOT NULL
);
INSERT INTO import_guard (id, touched_at) VALUES (1, 0);

CREATE INDEX import_runs_running ON import_runs (id) WHERE state = 'running';
CREATE INDEX import_items_imported ON import_items (recording_sid) WHERE outcome = 'imported';
CREATE INDEX recordings_found_by_sweep ON recordings (created_at, id) WHERE found_by = 'sweep';
