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


-- The structured description (issue 15): each part is Markdown as written and
-- its HTML rendered and sanitized at write time (internal/markup), like posts.
ALTER TABLE practices
    ADD COLUMN problem        text NOT NULL DEFAULT '',
    ADD COLUMN problem_html   text NOT NULL DEFAULT '',
    ADD COLUMN solution       text NOT NULL DEFAULT '',
    ADD COLUMN solution_html  text NOT NULL DEFAULT '',
    ADD COLUMN results        text NOT NULL DEFAULT '',
    ADD COLUMN results_html   text NOT NULL DEFAULT '',
    ADD COLUMN costs          text NOT NULL DEFAULT '',
    ADD COLUMN costs_html     text NOT NULL DEFAULT '',
    ADD COLUMN transfer       text NOT NULL DEFAULT '',
    ADD COLUMN transfer_html  text NOT NULL DEFAULT '',
    ADD COLUMN contact        text NOT NULL DEFAULT '',
    ADD COLUMN contact_html   text NOT NULL DEFAULT '',
    -- The discussion thread, opened in the authors' group with the practice.
    ADD COLUMN thread_id      bigint REFERENCES threads (id),
    -- Staff's reason for returning it; shown to the authors until the next return.
    ADD COLUMN return_comment text NOT NULL DEFAULT '',
    ADD COLUMN edited_by      bigint REFERENCES users (id);
CREATE INDEX practices_jst_idx ON practices (jst_id);

-- Every saved version, as for notes: an edit from a stale version is refused
-- (409) with the current text, so nothing is lost and the history stays whole.
CREATE TABLE practice_revisions (
    id          bigserial   PRIMARY KEY,
    practice_id bigint      NOT NULL REFERENCES practices (id) ON DELETE CASCADE,
    version     int         NOT NULL,
    title       text        NOT NULL,
    -- The description parts of that version as one JSON object of Markdown
    -- sources ({"problem": …, "solution": …}): read whole, never queried by part.
    body        jsonb       NOT NULL,
    editor_id   bigint      NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (practice_id, version)
);

-- Attachments of a practice reuse the file store (type from content, stored
-- by checksum): a row now belongs to a meeting (perhaps one of its notes) or
-- to a practice, exactly one of them.
ALTER TABLE attachments ALTER COLUMN meeting_id DROP NOT NULL;
ALTER TABLE attachments ADD COLUMN practice_id bigint REFERENCES practices (id);
ALTER TABLE attachments ADD CONSTRAINT attachments_one_owner
    CHECK (num_nonnulls(meeting_id, practice_id) = 1 AND (note_id IS NULL OR meeting_id IS NOT NULL));
CREATE INDEX attachments_practice_idx ON attachments (practice_id, id) WHERE practice_id IS NOT NULL;

-- Authors hear when staff publish or return their practice. A practice may be
-- returned and published more than once, so it is not one-per-target like a
-- post: the once-index leaves practices out.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('reply', 'quote', 'mention',
    'watched_thread', 'meeting_scheduled', 'meeting_started', 'meeting_reminder', 'note_added',
    'practice_published', 'practice_returned'));
ALTER TABLE notifications DROP CONSTRAINT notifications_target_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_target_type_check CHECK (target_type IN ('post', 'meeting', 'note', 'message', 'practice'));
DROP INDEX notifications_once_idx;
CREATE UNIQUE INDEX notifications_once_idx ON notifications (user_id, target_type, target_id) WHERE target_type NOT IN ('meeting', 'practice');

-- Search: only published practices are indexed (the simplest safe rule: a
-- draft is never a hit, whoever searches), and every logged-in reader may
-- find them (store/search.go lets kind 'practice' past the group filter).
ALTER TABLE search_docs DROP CONSTRAINT search_docs_kind_check;
ALTER TABLE search_docs ADD CONSTRAINT search_docs_kind_check
    CHECK (kind IN ('thread', 'post', 'note', 'meeting', 'message', 'file', 'practice'));
-- +goose StatementBegin
CREATE FUNCTION search_practices_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'published' THEN
        DELETE FROM search_docs WHERE kind = 'practice' AND ref_id = NEW.id;
    ELSE
        INSERT INTO search_docs (kind, ref_id, group_id, author_id, created_at, tsv)
        VALUES ('practice', NEW.id, NEW.group_id, NEW.author_id, COALESCE(NEW.published_at, NEW.created_at),
                search_doc_text(NEW.title, concat_ws(E'\n\n', NEW.problem, NEW.solution, NEW.results, NEW.costs, NEW.transfer)))
        ON CONFLICT (kind, ref_id) DO UPDATE SET group_id = EXCLUDED.group_id, created_at = EXCLUDED.created_at, tsv = EXCLUDED.tsv;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_practices_sync AFTER INSERT OR UPDATE ON practices
    FOR EACH ROW EXECUTE FUNCTION search_practices_sync();
CREATE TRIGGER search_practices_forget AFTER DELETE ON practices FOR EACH ROW EXECUTE FUNCTION search_docs_forget('practice');

-- +goose Down
DROP TRIGGER search_practices_forget ON practices;
DROP TRIGGER search_practices_sync ON practices;
DROP FUNCTION search_practices_sync();
DELETE FROM search_docs WHERE kind = 'practice';
ALTER TABLE search_docs DROP CONSTRAINT search_docs_kind_check;
ALTER TABLE search_docs ADD CONSTRAINT search_docs_kind_check
    CHECK (kind IN ('thread', 'post', 'note', 'meeting', 'message', 'file'));
DELETE FROM notifications WHERE target_type = 'practice';
DROP INDEX notifications_once_idx;
CREATE UNIQUE INDEX notifications_once_idx ON notifications (user_id, target_type, target_id) WHERE target_type <> 'meeting';
ALTER TABLE notifications DROP CONSTRAINT notifications_target_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_target_type_check CHECK (target_type IN ('post', 'meeting', 'note', 'message'));
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('reply', 'quote', 'mention',
    'watched_thread', 'meeting_scheduled', 'meeting_started', 'meeting_reminder', 'note_added'));
DELETE FROM attachments WHERE practice_id IS NOT NULL;
ALTER TABLE attachments DROP CONSTRAINT attachments_one_owner;
DROP INDEX attachments_practice_idx;
ALTER TABLE attachments DROP COLUMN practice_id;
ALTER TABLE attachments ALTER COLUMN meeting_id SET NOT NULL;
DROP TABLE practice_revisions;
DROP TABLE practice_areas;
DROP TABLE practices;
