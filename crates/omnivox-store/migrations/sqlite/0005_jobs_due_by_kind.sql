-- Workers claim the oldest due job of the kinds they run, and ask when the
-- next one is due, by kind: with many queued jobs of kinds a worker does not
-- run (every callback queues an `archive-media` job), `jobs_due` alone makes
-- each claim step over them.
CREATE INDEX jobs_due_by_kind ON jobs (kind, run_at, id) WHERE state = 'queued';
