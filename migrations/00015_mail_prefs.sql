-- +goose Up
-- Mail preferences per person and kind (issue 12 item 5): a kind is a
-- notification kind ('reply', 'mention', 'meeting_scheduled', … — plain
-- strings, so new kinds need no migration) or 'newsletter'. Only choices that
-- differ from, or confirm, the defaults in code are stored: a missing row means
-- the kind's default (internal/mail/prefs.go). Unsubscribing is the same as
-- choosing 'never', so the old per-kind opt-outs fold into this table.
CREATE TABLE mail_prefs (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,39}$'),
    mode       text        NOT NULL CHECK (mode IN ('immediately', 'digest', 'never')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind)
);
-- 'notification' opted out of every mailed notice; 'digest' of the daily
-- digest (the kinds that went to it).
INSERT INTO mail_prefs (user_id, kind, mode)
SELECT o.user_id, k.kind, 'never'
FROM mail_optouts o
JOIN (VALUES ('notification', 'reply'), ('notification', 'mention'), ('notification', 'meeting_started'),
             ('digest', 'meeting_scheduled'), ('newsletter', 'newsletter')) AS k (old, kind) ON k.old = o.kind
ON CONFLICT DO NOTHING;
DROP TABLE mail_optouts;

-- One row per person and Warsaw day the daily digest ran for them, claimed
-- (ON CONFLICT DO NOTHING) in the unit of work that queues the digest, so
-- several instances send it once. covered_until is the end of the period the
-- digest covered; the next one starts there.
CREATE TABLE mail_digests (
    user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day           date        NOT NULL,
    covered_until timestamptz NOT NULL,
    items         int         NOT NULL,
    mail_id       bigint      REFERENCES mails (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, day)
);
CREATE INDEX mail_digests_latest_idx ON mail_digests (user_id, covered_until DESC);

-- The programme newsletter (issue 12 item 8): written by staff in Markdown,
-- sent once to an audience through the mail queue, readable at /newsletter.
CREATE TABLE newsletters (
    id           bigserial   PRIMARY KEY,
    subject      text        NOT NULL CHECK (char_length(subject) BETWEEN 3 AND 200),
    body         text        NOT NULL,
    body_html    text        NOT NULL,
    author_id    bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- Set when sent: who it went to (everyone, or these group kinds/groups).
    sent_at      timestamptz,
    sent_by      bigint      REFERENCES users (id) ON DELETE SET NULL,
    audience_all boolean     NOT NULL DEFAULT false,
    group_kinds  text[]      NOT NULL DEFAULT '{}',
    group_ids    bigint[]    NOT NULL DEFAULT '{}',
    recipients   int         NOT NULL DEFAULT 0
);
CREATE INDEX newsletters_sent_idx ON newsletters (sent_at DESC, id DESC) WHERE sent_at IS NOT NULL;

-- +goose Down
DROP TABLE newsletters;
DROP TABLE mail_digests;
CREATE TABLE mail_optouts (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind)
);
DROP TABLE mail_prefs;
