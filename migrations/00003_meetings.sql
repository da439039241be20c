-- Meetings, their live chat and session notes.

-- +goose Up
CREATE TABLE meetings (
    id          bigserial   PRIMARY KEY,
    group_id    bigint      NOT NULL REFERENCES groups (id),
    title       text        NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    location    text        NOT NULL DEFAULT '',
    online_url  text        NOT NULL DEFAULT '',
    agenda      text        NOT NULL DEFAULT '',
    agenda_html text        NOT NULL DEFAULT '',
    status      text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'ended')),
    -- The chat's last assigned seq; incremented under this row's lock so seq order is commit order.
    last_seq    bigint      NOT NULL DEFAULT 0,
    created_by  bigint      NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    ended_at    timestamptz
);
CREATE INDEX meetings_group_idx ON meetings (group_id, starts_at DESC);

CREATE TABLE chat_messages (
    id         bigserial   PRIMARY KEY,
    meeting_id bigint      NOT NULL REFERENCES meetings (id),
    seq        bigint      NOT NULL,
    author_id  bigint      NOT NULL REFERENCES users (id),
    client_id  uuid        NOT NULL,
    body       text        NOT NULL,
    body_html  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, seq),
    -- Idempotent sends: the same client id from the same author is one message, forever.
    UNIQUE (meeting_id, author_id, client_id)
);

CREATE TABLE notes (
    id         bigserial   PRIMARY KEY,
    meeting_id bigint      NOT NULL REFERENCES meetings (id),
    author_id  bigint      NOT NULL REFERENCES users (id),
    title      text        NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    body       text        NOT NULL,
    body_html  text        NOT NULL,
    version    int         NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    edited_by  bigint      REFERENCES users (id)
);
CREATE INDEX notes_meeting_idx ON notes (meeting_id, id);

CREATE TABLE note_revisions (
    id         bigserial   PRIMARY KEY,
    note_id    bigint      NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    version    int         NOT NULL,
    title      text        NOT NULL,
    body       text        NOT NULL,
    editor_id  bigint      NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (note_id, version)
);

-- +goose Down
DROP TABLE note_revisions;
DROP TABLE notes;
DROP TABLE chat_messages;
DROP TABLE meetings;
