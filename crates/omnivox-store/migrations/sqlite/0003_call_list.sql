-- The Call Records list at a million calls: every filter, and the order
-- (sort_at DESC, id DESC), served by an index (see `portable/call_list.rs`).
-- The campaign, agent, status, direction and newest-first indexes exist
-- since 0001; this adds whether a call has a recording, and a trigram index
-- of the contacts for searching part of a phone number or of a name.

-- Whether the call has any recording (of any sync state), kept by triggers
-- so that every writer of recordings (webhook ingest, import, sweep) keeps
-- it without knowing about it.
ALTER TABLE call_records ADD COLUMN has_recording INTEGER NOT NULL DEFAULT 0;
UPDATE call_records SET has_recording = 1
    WHERE EXISTS (SELECT 1 FROM recordings r WHERE r.call_record_id = call_records.id);
CREATE INDEX call_records_by_recording ON call_records (has_recording, sort_at DESC, id DESC);

CREATE TRIGGER recordings_mark_call AFTER INSERT ON recordings BEGIN
    UPDATE call_records SET has_recording = 1 WHERE id = NEW.call_record_id AND has_recording = 0;
END;
CREATE TRIGGER recordings_unmark_call AFTER DELETE ON recordings BEGIN
    UPDATE call_records
        SET has_recording = EXISTS (SELECT 1 FROM recordings WHERE call_record_id = OLD.call_record_id)
        WHERE id = OLD.call_record_id;
END;
CREATE TRIGGER recordings_move_call AFTER UPDATE OF call_record_id ON recordings BEGIN
    UPDATE call_records SET has_recording = 1 WHERE id = NEW.call_record_id AND has_recording = 0;
    UPDATE call_records
        SET has_recording = EXISTS (SELECT 1 FROM recordings WHERE call_record_id = OLD.call_record_id)
        WHERE id = OLD.call_record_id;
END;

-- Part of a number or a name: FTS5's trigram tokenizer answers
-- `LIKE '%…%'` from an index (three characters at least), over the
-- contacts, which are far fewer than the calls. External content: the text
-- stays in `contacts`; the triggers keep the index in step.
CREATE VIRTUAL TABLE contacts_search USING fts5(
    phone, name, content = 'contacts', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO contacts_search (contacts_search) VALUES ('rebuild');

CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_search (rowid, phone, name) VALUES (NEW.id, NEW.phone, NEW.name);
END;
CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_search (contacts_search, rowid, phone, name) VALUES ('delete', OLD.id, OLD.phone, OLD.name);
END;
CREATE TRIGGER contacts_search_update AFTER UPDATE OF phone, name ON contacts BEGIN
    INSERT INTO contacts_search (contacts_search, rowid, phone, name) VALUES ('delete', OLD.id, OLD.phone, OLD.name);
    INSERT INTO contacts_search (rowid, phone, name) VALUES (NEW.id, NEW.phone, NEW.name);
END;
