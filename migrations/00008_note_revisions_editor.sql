-- +goose Up
-- The note rate limit counts one account's recent saves (issue 10); without this
-- index that count reads every revision ever saved.
CREATE INDEX note_revisions_editor_idx ON note_revisions (editor_id, created_at DESC);

-- +goose Down
DROP INDEX note_revisions_editor_idx;
