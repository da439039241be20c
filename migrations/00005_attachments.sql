-- Files attached to meetings and their notes, attendance answers, and the
-- meetings a member watches.

-- +goose Up
-- An attachment's bytes live under FORUM_UPLOAD_DIR, named by their SHA-256;
-- the row is written only once the file is in place, so no row points at a
-- missing file. Several rows may share one checksum: the same content is stored once.
CREATE TABLE attachments (
    id          bigserial   PRIMARY KEY,
    meeting_id  bigint      NOT NULL REFERENCES meetings (id),
    -- Set when the file belongs to a note of the meeting rather than the meeting itself.
    note_id     bigint      REFERENCES notes (id),
    uploader_id bigint      NOT NULL REFERENCES users (id),
    -- The sanitized display name; never used as a path.
    filename    text        NOT NULL CHECK (char_length(filename) BETWEEN 1 AND 255),
    -- Decided from the content against the allow-list, never from the client.
    kind        text        NOT NULL CHECK (kind IN ('pdf', 'docx', 'xlsx', 'pptx', 'odt', 'ods', 'png', 'jpeg', 'txt')),
    size_bytes  bigint      NOT NULL CHECK (size_bytes > 0),
    checksum    text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_meeting_idx ON attachments (meeting_id, id);
CREATE INDEX attachments_note_idx ON attachments (note_id, id) WHERE note_id IS NOT NULL;
-- Deleting a row asks whether any other row still needs the file.
CREATE INDEX attachments_checksum_idx ON attachments (checksum);

-- One row per person and meeting: their answer (będę / może / nie będę) and,
-- once a moderator has confirmed it, whether they attended. A moderator may
-- record attendance of someone who never answered, hence the nullable answer.
CREATE TABLE attendance (
    meeting_id   bigint      NOT NULL REFERENCES meetings (id),
    user_id      bigint      NOT NULL REFERENCES users (id),
    answer       text        CHECK (answer IN ('yes', 'maybe', 'no')),
    answered_at  timestamptz,
    attended     boolean,
    confirmed_by bigint      REFERENCES users (id),
    confirmed_at timestamptz,
    PRIMARY KEY (meeting_id, user_id)
);

-- Answering "będę" watches the meeting: its changes reach the watcher.
CREATE TABLE meeting_watchers (
    meeting_id bigint      NOT NULL REFERENCES meetings (id),
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_watchers_user_idx ON meeting_watchers (user_id);

-- +goose Down
DROP TABLE meeting_watchers;
DROP TABLE attendance;
DROP TABLE attachments;
