-- Recording media: when the archived copy was written (Last-Modified of
-- the stream), the cached waveform peaks, and the indexes the retention
-- sweep uses.
ALTER TABLE recordings ADD COLUMN stored_at BIGINT;

CREATE TABLE recording_peaks (
    recording_id BIGINT PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
    peaks        TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX recordings_with_media ON recordings (call_record_id) WHERE storage_key IS NOT NULL;
