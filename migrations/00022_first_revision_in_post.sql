-- +goose Up
-- A post's first version is the post itself until it is first edited (issue
-- 16, posting row). Every reply used to write a post_revisions row repeating
-- its body, author and time — an insert with two index entries, two
-- foreign-key checks and ~1.2 KB of WAL on the hottest write, for a row read
-- only when someone opens the history. Now the first edit writes version 1
-- (from the post, as it still is) together with version 2, in the edit's
-- statement (store.UpdatePostBody); the history (store.ListPostRevisions) and
-- the account export read version 1 from the post while it has no revisions.
-- The rows already written for posts never edited say nothing the post does
-- not: they go.
DELETE FROM post_revisions r
USING posts p
WHERE r.post_id = p.id AND p.version = 1 AND r.version = 1
  AND r.body = p.body AND r.editor_id = p.author_id;

-- +goose Down
INSERT INTO post_revisions (post_id, version, body, editor_id, created_at)
SELECT p.id, 1, p.body, p.author_id, p.created_at
FROM posts p
WHERE NOT EXISTS (SELECT 1 FROM post_revisions r WHERE r.post_id = p.id);
