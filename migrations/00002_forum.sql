-- Support areas, threads, posts with revisions, and per-user read positions.

-- +goose Up
CREATE TABLE support_areas (
    id         bigserial   PRIMARY KEY,
    name       text        NOT NULL UNIQUE,
    macro_area text        NOT NULL CHECK (macro_area IN ('planowanie_rozwoju', 'gospodarowanie_zasobami', 'wspolpraca_z_partnerami')),
    position   int         NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The areas named in the programme's advisory model (SPEC §2); admins add the rest.
INSERT INTO support_areas (name, macro_area, position) VALUES
    ('Zarządzanie oświatą na poziomie organu prowadzącego', 'planowanie_rozwoju', 1),
    ('Analizowanie potrzeb i planowanie realizacji założonej wizji rozwoju lokalnego systemu oświaty', 'planowanie_rozwoju', 2),
    ('Monitorowanie jakości usług edukacyjnych', 'planowanie_rozwoju', 3),
    ('Organizacja wsparcia uczniów szczególnie uzdolnionych', 'planowanie_rozwoju', 4),
    ('Planowanie budżetowe', 'gospodarowanie_zasobami', 5),
    ('Gospodarowanie zasobami materialnymi systemu oświaty', 'gospodarowanie_zasobami', 6),
    ('System wspomagania szkół – doskonalenie nauczycieli', 'gospodarowanie_zasobami', 7),
    ('Rola dyrektora i relacje z organem prowadzącym', 'wspolpraca_z_partnerami', 8),
    ('Udział rodziców w planowaniu, realizacji i ocenie usług edukacyjnych', 'wspolpraca_z_partnerami', 9);

CREATE TABLE threads (
    id               bigserial   PRIMARY KEY,
    group_id         bigint      NOT NULL REFERENCES groups (id),
    title            text        NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    author_id        bigint      NOT NULL REFERENCES users (id),
    pinned           boolean     NOT NULL DEFAULT false,
    locked           boolean     NOT NULL DEFAULT false,
    hidden           boolean     NOT NULL DEFAULT false,
    post_count       int         NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now()
);
-- The group page: pinned first, then by last activity.
CREATE INDEX threads_group_listing_idx ON threads (group_id, pinned DESC, last_activity_at DESC, id DESC);

CREATE TABLE thread_areas (
    thread_id bigint NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    area_id   bigint NOT NULL REFERENCES support_areas (id) ON DELETE CASCADE,
    PRIMARY KEY (thread_id, area_id)
);
CREATE INDEX thread_areas_area_idx ON thread_areas (area_id, thread_id);

-- position numbers a thread's posts 1, 2, 3 … so that a page of 50 and the page of
-- a permalink are index range lookups rather than OFFSET scans.
CREATE TABLE posts (
    id            bigserial   PRIMARY KEY,
    thread_id     bigint      NOT NULL REFERENCES threads (id),
    position      int         NOT NULL,
    author_id     bigint      NOT NULL REFERENCES users (id),
    body          text        NOT NULL,
    body_html     text        NOT NULL,
    reply_to      bigint      REFERENCES posts (id),
    version       int         NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    edited_at     timestamptz,
    edited_by     bigint      REFERENCES users (id),
    deleted_at    timestamptz,
    deleted_by    bigint      REFERENCES users (id),
    hidden        boolean     NOT NULL DEFAULT false,
    hidden_reason text        NOT NULL DEFAULT '',
    UNIQUE (thread_id, position) DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX posts_author_idx ON posts (author_id, created_at DESC);

CREATE TABLE post_revisions (
    id         bigserial   PRIMARY KEY,
    post_id    bigint      NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    version    int         NOT NULL,
    body       text        NOT NULL,
    editor_id  bigint      NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (post_id, version)
);

CREATE TABLE thread_reads (
    user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id     bigint      NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    last_position int         NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, thread_id)
);

-- +goose Down
DROP TABLE thread_reads;
DROP TABLE post_revisions;
DROP TABLE posts;
DROP TABLE thread_areas;
DROP TABLE threads;
DROP TABLE support_areas;
