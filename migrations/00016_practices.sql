-- +goose Up
-- Good practices (issue 15 item 1): described solutions of managing local
-- education, written by a group's members about one of their JSTs, reviewed by
-- programme staff and then readable by every member of every group. The
-- columns below are the core other features rely on (the tournament enters
-- practices by id and keeps a JST from voting on its own); the practice
-- service owns the rest of the shape.
CREATE TABLE practices (
    id           bigserial   PRIMARY KEY,
    -- The authors' group: a draft is visible to it only (and to staff).
    group_id     bigint      NOT NULL REFERENCES groups (id),
    -- The JST that runs the practice; its kind and voivodeship filter the library.
    jst_id       bigint      NOT NULL REFERENCES jst (id),
    author_id    bigint      NOT NULL REFERENCES users (id),
    title        text        NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    status       text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'published', 'returned')),
    version      int         NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX practices_group_idx ON practices (group_id, id);
CREATE INDEX practices_published_idx ON practices (published_at DESC, id) WHERE status = 'published';

CREATE TABLE practice_areas (
    practice_id bigint NOT NULL REFERENCES practices (id) ON DELETE CASCADE,
    area_id     bigint NOT NULL REFERENCES support_areas (id) ON DELETE CASCADE,
    PRIMARY KEY (practice_id, area_id)
);
CREATE INDEX practice_areas_area_idx ON practice_areas (area_id, practice_id);

-- +goose Down
DROP TABLE practice_areas;
DROP TABLE practices;
