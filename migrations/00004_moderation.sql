-- Moderation: reports, mutes, slow mode, merged threads, moderators-only groups.

-- +goose Up
ALTER TABLE threads
    ADD COLUMN slow_mode_seconds int NOT NULL DEFAULT 0 CHECK (slow_mode_seconds BETWEEN 0 AND 86400),
    -- A merged thread stays as a stub so its old URL can redirect to the target.
    ADD COLUMN merged_into bigint REFERENCES threads (id);

ALTER TABLE groups
    ADD COLUMN moderators_only_threads boolean NOT NULL DEFAULT false;

ALTER TABLE posts
    -- Set when enough reports hid the post automatically, pending review.
    ADD COLUMN auto_hidden boolean NOT NULL DEFAULT false;

CREATE TABLE flags (
    id              bigserial   PRIMARY KEY,
    post_id         bigint      NOT NULL REFERENCES posts (id),
    reporter_id     bigint      NOT NULL REFERENCES users (id),
    reason          text        NOT NULL CHECK (char_length(reason) BETWEEN 3 AND 1000),
    state           text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved', 'dismissed')),
    resolution_note text        NOT NULL DEFAULT '',
    resolved_by     bigint      REFERENCES users (id),
    resolved_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- A member reports a given post once.
    UNIQUE (post_id, reporter_id)
);
CREATE INDEX flags_open_idx ON flags (post_id) WHERE state = 'open';

CREATE TABLE mutes (
    id         bigserial   PRIMARY KEY,
    group_id   bigint      NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    until      timestamptz NOT NULL,
    reason     text        NOT NULL CHECK (char_length(reason) BETWEEN 3 AND 1000),
    created_by bigint      NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mutes_active_idx ON mutes (group_id, user_id, until DESC);

-- Slow mode asks for the author's latest post in a thread.
CREATE INDEX posts_thread_author_idx ON posts (thread_id, author_id, created_at DESC);

-- The audit log refuses UPDATE and DELETE (migration 1); TRUNCATE too.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP INDEX posts_thread_author_idx;
DROP TABLE mutes;
DROP TABLE flags;
ALTER TABLE posts DROP COLUMN auto_hidden;
ALTER TABLE groups DROP COLUMN moderators_only_threads;
ALTER TABLE threads DROP COLUMN merged_into, DROP COLUMN slow_mode_seconds;
