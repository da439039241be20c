-- Two-factor login (issue 10, OWASP ASVS 5.0 V6): TOTP, one-time recovery codes,
-- the pending second step of a login, and the per-role "must enable by" dates.

-- +goose Up
-- One TOTP secret per user once enabled. last_step is the last 30-second time
-- step whose code was accepted: a code is accepted only for a later step, so a
-- code (or an older one) cannot be replayed inside its window (ASVS 6.5.1).
CREATE TABLE two_factor (
    user_id    bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret     text        NOT NULL CHECK (secret ~ '^[A-Z2-7]{32}$'),
    last_step  bigint      NOT NULL DEFAULT 0,
    enabled_at timestamptz NOT NULL DEFAULT now()
);

-- A set-up in progress: the secret shown (as a QR code and as text) but not yet
-- confirmed with a code. The random id names the QR image, so the image shown
-- always belongs to the secret on the same page. One per user; a new start
-- replaces it.
CREATE TABLE two_factor_setups (
    user_id    bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    id         text        NOT NULL UNIQUE,
    secret     text        NOT NULL CHECK (secret ~ '^[A-Z2-7]{32}$'),
    expires_at timestamptz NOT NULL
);

-- Recovery codes are 120-bit random strings, so SHA-256 without salt is enough
-- (ASVS 6.5.2 allows an unsalted hash from 112 bits on); a code is spent by
-- setting used_at, once.
CREATE TABLE two_factor_recovery_codes (
    user_id   bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea       NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- The second step of a login: the password was right, the code is still to
-- come. Keyed by the SHA-256 of a random cookie; short-lived; attempts counted.
-- No session exists until the step is completed.
CREATE TABLE login_challenges (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    attempts   int         NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX login_challenges_expires_idx ON login_challenges (expires_at);

-- Per role, the last day (Warsaw calendar) by which its holders must have
-- enabled two-factor login; from the next day on they can do nothing else
-- until they have. 'moderator' means a moderator of any group.
CREATE TABLE two_factor_policy (
    role       text        PRIMARY KEY CHECK (role IN ('admin', 'staff', 'moderator')),
    enable_by  date        NOT NULL,
    set_by     bigint      REFERENCES users (id) ON DELETE SET NULL,
    set_at     timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE two_factor_policy;
DROP TABLE login_challenges;
DROP TABLE two_factor_recovery_codes;
DROP TABLE two_factor_setups;
DROP TABLE two_factor;
