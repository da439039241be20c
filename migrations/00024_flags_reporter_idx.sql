-- +goose Up
-- A thread page asks once per statement whether the reader has reported
-- anything (store.postRowReportedSelect) before it asks post by post; that
-- question reads this index (the unique (post_id, reporter_id) one cannot
-- answer it). It also serves the foreign key from flags to users.
CREATE INDEX flags_reporter_idx ON flags (reporter_id);

-- +goose Down
DROP INDEX flags_reporter_idx;
