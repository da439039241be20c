-- Live: presence in meeting rooms, and notifications pushed to their owners.

-- Presence: who is in a meeting's room (topic meeting:ID) or editing a note
-- (note:ID), on every instance.
--
-- Each serve instance writes one row per (topic, user) it holds at least one
-- connection for, and refreshes seen_at while it runs. Every instance reads the
-- union, so a person with tabs on two instances is one entry. A crashed instance's
-- rows stop counting once seen_at is older than the freshness window and are
-- pruned later; nothing depends on them being deleted promptly.

-- +goose Up
CREATE TABLE live_presence (
    instance_id uuid        NOT NULL,
    topic       text        NOT NULL,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seen_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, user_id, instance_id)
);
CREATE INDEX live_presence_instance_idx ON live_presence (instance_id);

-- Notifications (SPEC §2): written in the transaction of the change they
-- announce, pushed live after commit, listed at /notifications.
CREATE TABLE notifications (
    id          bigserial   PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text        NOT NULL CHECK (kind IN ('reply', 'mention', 'watched_thread', 'meeting_scheduled', 'meeting_started')),
    actor_id    bigint      REFERENCES users (id) ON DELETE SET NULL,
    group_id    bigint      NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    target_type text        NOT NULL CHECK (target_type IN ('post', 'meeting')),
    target_id   bigint      NOT NULL,
    title       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- +goose Down
DROP TABLE notifications;
DROP TABLE live_presence;
