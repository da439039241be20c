-- Accounts, organisations, groups and memberships: the foundation every other table hangs on.

-- +goose Up
CREATE TABLE jst (
    id          bigserial PRIMARY KEY,
    name        text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('gmina_wiejska', 'gmina_miejska', 'gmina_miejsko_wiejska', 'powiat', 'miasto_na_prawach_powiatu')),
    voivodeship text        NOT NULL,
    teryt       text        CHECK (teryt ~ '^[0-9]{7}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, kind)
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text        NOT NULL,
    display_name  text        NOT NULL,
    job_title     text        NOT NULL DEFAULT '',
    jst_id        bigint      REFERENCES jst (id),
    role          text        NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'staff', 'member')),
    password_hash text        NOT NULL,
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Email is unique case-insensitively (SPEC §2); lookups go through lower(email).
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE groups (
    id          bigserial PRIMARY KEY,
    name        text        NOT NULL,
    slug        text        NOT NULL UNIQUE,
    kind        text        NOT NULL CHECK (kind IN ('rural', 'urban', 'county', 'common')),
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id   bigint      NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('moderator', 'member', 'observer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX memberships_group_idx ON memberships (group_id);

-- A session row is keyed by the SHA-256 of the cookie token, so a database leak
-- does not hand out live sessions.
CREATE TABLE sessions (
    token_hash   bytea       PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    -- Set when the user's role changes: the next request swaps in a new token.
    rotate       boolean     NOT NULL DEFAULT false,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Only failures are counted (a whole municipal office may share one address).
CREATE TABLE login_failures (
    id         bigserial   PRIMARY KEY,
    account    text        NOT NULL,
    ip         text        NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_account_idx ON login_failures (account, failed_at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, failed_at);

CREATE TABLE invitations (
    id               bigserial   PRIMARY KEY,
    token_hash       bytea       NOT NULL UNIQUE,
    email            text        NOT NULL,
    role             text        NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'staff', 'member')),
    jst_id           bigint      REFERENCES jst (id),
    job_title        text        NOT NULL DEFAULT '',
    group_id         bigint      REFERENCES groups (id) ON DELETE SET NULL,
    group_role       text        CHECK (group_role IN ('moderator', 'member', 'observer')),
    created_by       bigint      NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    accepted_at      timestamptz,
    accepted_user_id bigint      REFERENCES users (id)
);

-- The audit log is append-only: the trigger below refuses UPDATE and DELETE, so no
-- code path (nor a careless psql session) can rewrite history.
CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    actor_id    bigint      REFERENCES users (id),
    action      text        NOT NULL,
    target_type text        NOT NULL,
    target_id   bigint,
    group_id    bigint      REFERENCES groups (id),
    reason      text        NOT NULL DEFAULT '',
    details     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_group_idx ON audit_log (group_id, id DESC);
CREATE INDEX audit_log_created_idx ON audit_log (id DESC);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE invitations;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE groups;
DROP TABLE users;
DROP TABLE jst;
