-- Watching and muting threads and groups, mentions, quotes, meeting reminders
-- and notes as notifications (issue 12, items 3 and 4).

-- +goose Up

-- A person's explicit choice about a thread: 'watch' (tell me of every new
-- post) or 'mute' (never, not even after I post or am mentioned). No row is
-- the default: only what concerns the person personally (a reply to them, a
-- quote, a mention) reaches them.
CREATE TABLE thread_watches (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id  bigint      NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    state      text        NOT NULL CHECK (state IN ('watch', 'mute')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, thread_id)
);
-- Recipients of a new post are looked up by thread.
CREATE INDEX thread_watches_thread_idx ON thread_watches (thread_id) WHERE state = 'watch';

-- The same for a whole group: watching it covers its threads (new ones
-- included) unless a thread is muted.
CREATE TABLE group_watches (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id   bigint      NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    state      text        NOT NULL CHECK (state IN ('watch', 'mute')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX group_watches_group_idx ON group_watches (group_id) WHERE state = 'watch';

-- The 15-minute reminder is claimed by setting this in the transaction that
-- records the notifications, so with several instances it goes out once.
ALTER TABLE meetings ADD COLUMN reminded_at timestamptz;
CREATE INDEX meetings_remind_idx ON meetings (starts_at) WHERE status = 'scheduled' AND reminded_at IS NULL;

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('reply', 'quote', 'mention',
    'watched_thread', 'meeting_scheduled', 'meeting_started', 'meeting_reminder', 'note_added'));
ALTER TABLE notifications DROP CONSTRAINT notifications_target_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_target_type_check CHECK (target_type IN ('post', 'meeting', 'note', 'message'));

-- One notification per recipient per post, note or chat message, whatever
-- the reasons (mentioned, quoted, replied to, watching): inserts skip a
-- second one. A meeting is told of several times (scheduled, reminder,
-- live), once each.
CREATE UNIQUE INDEX notifications_once_idx ON notifications (user_id, target_type, target_id) WHERE target_type <> 'meeting';
CREATE UNIQUE INDEX notifications_meeting_once_idx ON notifications (user_id, target_id, kind) WHERE target_type = 'meeting';

-- +goose Down
DROP INDEX notifications_meeting_once_idx;
DROP INDEX notifications_once_idx;
DELETE FROM notifications WHERE kind IN ('quote', 'mention', 'watched_thread', 'meeting_reminder', 'note_added')
    OR target_type IN ('note', 'message');
ALTER TABLE notifications DROP CONSTRAINT notifications_target_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_target_type_check CHECK (target_type IN ('post', 'meeting'));
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('reply', 'mention', 'watched_thread', 'meeting_scheduled', 'meeting_started'));
DROP INDEX meetings_remind_idx;
ALTER TABLE meetings DROP COLUMN reminded_at;
DROP TABLE group_watches;
DROP TABLE thread_watches;
