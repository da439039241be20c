-- Search (issue 13): one document per searchable thing, kept current by
-- triggers, so that one GIN index, one permission filter and one order serve
-- threads, posts, notes, meetings, chat messages and file names alike.
--
-- Polish: no Polish dictionary ships with PostgreSQL. Text is folded with
-- unaccent (ą→a, ł→l, ż→z …) and lower-cased, never stemmed, at write time;
-- the search service strips the inflectional ending of each query word and
-- matches the stem as a prefix ("szkoła" → szkol:* finds szkoły, szkołach).

-- +goose Up
-- unaccent is a contrib extension; creating it needs a superuser (or a
-- trusted-extension grant). Say so plainly rather than fail half-way.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent') THEN
        RAISE EXCEPTION 'search needs the PostgreSQL extension "unaccent" (package postgresql-contrib), which this server does not have';
    END IF;
    BEGIN
        CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'search needs the extension "unaccent": run CREATE EXTENSION unaccent SCHEMA public; as a superuser in this database, then migrate again';
    END;
END
$$;
-- +goose StatementEnd

-- The text search configuration: words folded by the unaccent dictionary, then
-- lower-cased by simple (no stop words: "nie" and "o" matter in phrases).
-- to_tsvector with a named configuration is IMMUTABLE, so no wrapper around
-- the (only STABLE) unaccent() function is needed.
CREATE TEXT SEARCH CONFIGURATION forum_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION forum_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart
    WITH public.unaccent, simple;

CREATE TABLE search_docs (
    kind       text        NOT NULL CHECK (kind IN ('thread', 'post', 'note', 'meeting', 'message', 'file')),
    ref_id     bigint      NOT NULL,
    -- Permissions are decided on these two columns inside the search query.
    group_id   bigint      NOT NULL,
    -- A post is hidden when it or its thread is; hidden documents are found
    -- only by moderators of their group.
    hidden     boolean     NOT NULL DEFAULT false,
    -- Threads and posts: the area filter; notes, messages, files: the meeting.
    thread_id  bigint,
    meeting_id bigint,
    author_id  bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    -- Titles weigh A, bodies D: a title hit ranks above a body hit.
    tsv        tsvector    NOT NULL,
    PRIMARY KEY (kind, ref_id)
);
CREATE INDEX search_docs_tsv_idx ON search_docs USING gin (tsv);
-- Newest first walks this index and stops after a page of readable hits.
CREATE INDEX search_docs_created_idx ON search_docs (created_at DESC);
CREATE INDEX search_docs_thread_idx ON search_docs (thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX search_docs_meeting_idx ON search_docs (meeting_id) WHERE meeting_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION search_doc_text(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT setweight(to_tsvector('forum_search', coalesce(title, '')), 'A')
              || setweight(to_tsvector('forum_search', coalesce(body, '')), 'D') $$;
-- +goose StatementEnd

-- Posts: a deleted post leaves the index; a body edit recomputes the vector;
-- a hide, unhide, move or merge only updates the permission columns.
-- +goose StatementBegin
CREATE FUNCTION search_posts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.deleted_at IS NOT NULL THEN
        DELETE FROM search_docs WHERE kind = 'post' AND ref_id = NEW.id;
    ELSIF TG_OP = 'UPDATE' AND NEW.body = OLD.body AND OLD.deleted_at IS NULL THEN
        UPDATE search_docs d SET group_id = t.group_id, thread_id = t.id, hidden = NEW.hidden OR t.hidden
          FROM threads t WHERE t.id = NEW.thread_id AND d.kind = 'post' AND d.ref_id = NEW.id;
    ELSE
        INSERT INTO search_docs (kind, ref_id, group_id, hidden, thread_id, author_id, created_at, tsv)
        SELECT 'post', NEW.id, t.group_id, NEW.hidden OR t.hidden, t.id, NEW.author_id, NEW.created_at,
               search_doc_text(NULL, NEW.body)
          FROM threads t WHERE t.id = NEW.thread_id
        ON CONFLICT (kind, ref_id) DO UPDATE SET group_id = EXCLUDED.group_id, hidden = EXCLUDED.hidden,
            thread_id = EXCLUDED.thread_id, tsv = EXCLUDED.tsv;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_posts_sync AFTER INSERT OR UPDATE OF body, hidden, deleted_at, thread_id ON posts
    FOR EACH ROW EXECUTE FUNCTION search_posts_sync();

-- Threads: the title is the document; a merged stub leaves the index; a move
-- or hide carries its posts' documents along.
-- +goose StatementBegin
CREATE FUNCTION search_threads_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.merged_into IS NOT NULL THEN
        DELETE FROM search_docs WHERE kind = 'thread' AND ref_id = NEW.id;
    ELSE
        INSERT INTO search_docs (kind, ref_id, group_id, hidden, thread_id, author_id, created_at, tsv)
        VALUES ('thread', NEW.id, NEW.group_id, NEW.hidden, NEW.id, NEW.author_id, NEW.created_at,
                search_doc_text(NEW.title, NULL))
        ON CONFLICT (kind, ref_id) DO UPDATE SET group_id = EXCLUDED.group_id, hidden = EXCLUDED.hidden, tsv = EXCLUDED.tsv;
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.group_id <> OLD.group_id OR NEW.hidden <> OLD.hidden) THEN
        UPDATE search_docs d SET group_id = NEW.group_id, hidden = p.hidden OR NEW.hidden
          FROM posts p WHERE d.kind = 'post' AND d.thread_id = NEW.id AND p.id = d.ref_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_threads_sync AFTER INSERT OR UPDATE OF title, group_id, hidden, merged_into ON threads
    FOR EACH ROW EXECUTE FUNCTION search_threads_sync();

-- Meetings: title and agenda, dated by when the meeting starts.
-- +goose StatementBegin
CREATE FUNCTION search_meetings_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (kind, ref_id, group_id, meeting_id, author_id, created_at, tsv)
    VALUES ('meeting', NEW.id, NEW.group_id, NEW.id, NEW.created_by, NEW.starts_at, search_doc_text(NEW.title, NEW.agenda))
    ON CONFLICT (kind, ref_id) DO UPDATE SET group_id = EXCLUDED.group_id, created_at = EXCLUDED.created_at, tsv = EXCLUDED.tsv;
    IF TG_OP = 'UPDATE' AND NEW.group_id <> OLD.group_id THEN
        UPDATE search_docs SET group_id = NEW.group_id WHERE meeting_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_meetings_sync AFTER INSERT OR UPDATE OF title, agenda, group_id, starts_at ON meetings
    FOR EACH ROW EXECUTE FUNCTION search_meetings_sync();

-- +goose StatementBegin
CREATE FUNCTION search_notes_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (kind, ref_id, group_id, meeting_id, author_id, created_at, tsv)
    SELECT 'note', NEW.id, m.group_id, m.id, NEW.author_id, NEW.created_at, search_doc_text(NEW.title, NEW.body)
      FROM meetings m WHERE m.id = NEW.meeting_id
    ON CONFLICT (kind, ref_id) DO UPDATE SET tsv = EXCLUDED.tsv;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_notes_sync AFTER INSERT OR UPDATE OF title, body ON notes
    FOR EACH ROW EXECUTE FUNCTION search_notes_sync();

-- Chat messages are never edited.
-- +goose StatementBegin
CREATE FUNCTION search_messages_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (kind, ref_id, group_id, meeting_id, author_id, created_at, tsv)
    SELECT 'message', NEW.id, m.group_id, m.id, NEW.author_id, NEW.created_at, search_doc_text(NULL, NEW.body)
      FROM meetings m WHERE m.id = NEW.meeting_id
    ON CONFLICT (kind, ref_id) DO NOTHING;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_messages_sync AFTER INSERT ON chat_messages
    FOR EACH ROW EXECUTE FUNCTION search_messages_sync();

-- File names: "plan_budzetu-2025.pdf" is searched as its words.
-- +goose StatementBegin
CREATE FUNCTION search_attachments_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (kind, ref_id, group_id, meeting_id, author_id, created_at, tsv)
    SELECT 'file', NEW.id, m.group_id, m.id, NEW.uploader_id, NEW.created_at,
           search_doc_text(translate(NEW.filename, '._-', '   '), NULL)
      FROM meetings m WHERE m.id = NEW.meeting_id
    ON CONFLICT (kind, ref_id) DO NOTHING;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_attachments_sync AFTER INSERT ON attachments
    FOR EACH ROW EXECUTE FUNCTION search_attachments_sync();

-- Whatever is deleted leaves the index (TG_ARGV[0] names the kind).
-- +goose StatementBegin
CREATE FUNCTION search_docs_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_docs WHERE kind = TG_ARGV[0] AND ref_id = OLD.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_posts_forget AFTER DELETE ON posts FOR EACH ROW EXECUTE FUNCTION search_docs_forget('post');
CREATE TRIGGER search_threads_forget AFTER DELETE ON threads FOR EACH ROW EXECUTE FUNCTION search_docs_forget('thread');
CREATE TRIGGER search_meetings_forget AFTER DELETE ON meetings FOR EACH ROW EXECUTE FUNCTION search_docs_forget('meeting');
CREATE TRIGGER search_notes_forget AFTER DELETE ON notes FOR EACH ROW EXECUTE FUNCTION search_docs_forget('note');
CREATE TRIGGER search_messages_forget AFTER DELETE ON chat_messages FOR EACH ROW EXECUTE FUNCTION search_docs_forget('message');
CREATE TRIGGER search_attachments_forget AFTER DELETE ON attachments FOR EACH ROW EXECUTE FUNCTION search_docs_forget('file');

-- What exists already.
INSERT INTO search_docs (kind, ref_id, group_id, hidden, thread_id, author_id, created_at, tsv)
SELECT 'thread', t.id, t.group_id, t.hidden, t.id, t.author_id, t.created_at, search_doc_text(t.title, NULL)
  FROM threads t WHERE t.merged_into IS NULL;
INSERT INTO search_docs (kind, ref_id, group_id, hidden, thread_id, author_id, created_at, tsv)
SELECT 'post', p.id, t.group_id, p.hidden OR t.hidden, t.id, p.author_id, p.created_at, search_doc_text(NULL, p.body)
  FROM posts p JOIN threads t ON t.id = p.thread_id WHERE p.deleted_at IS NULL;
INSERT INTO search_docs (kind, ref_id, group_id, meeting_id, author_id, created_at, tsv)
SELECT 'meeting', m.id, m.group_id, m.id, m.created_by, m.starts_at, search_doc_text(m.title, m.agenda) FROM meetings m;
INSERT INTO search_docs (kind, ref_id, group_id, meeting_id, author_id, created_at, tsv)
SELECT 'note', n.id, m.group_id, m.id, n.author_id, n.created_at, search_doc_text(n.title, n.body)
  FROM notes n JOIN meetings m ON m.id = n.meeting_id;
INSERT INTO search_docs (kind, ref_id, group_id, meeting_id, author_id, created_at, tsv)
SELECT 'message', c.id, m.group_id, m.id, c.author_id, c.created_at, search_doc_text(NULL, c.body)
  FROM chat_messages c JOIN meetings m ON m.id = c.meeting_id;
INSERT INTO search_docs (kind, ref_id, group_id, meeting_id, author_id, created_at, tsv)
SELECT 'file', a.id, m.group_id, m.id, a.uploader_id, a.created_at, search_doc_text(translate(a.filename, '._-', '   '), NULL)
  FROM attachments a JOIN meetings m ON m.id = a.meeting_id;

-- +goose Down
DROP TRIGGER search_attachments_forget ON attachments;
DROP TRIGGER search_messages_forget ON chat_messages;
DROP TRIGGER search_notes_forget ON notes;
DROP TRIGGER search_meetings_forget ON meetings;
DROP TRIGGER search_threads_forget ON threads;
DROP TRIGGER search_posts_forget ON posts;
DROP TRIGGER search_attachments_sync ON attachments;
DROP TRIGGER search_messages_sync ON chat_messages;
DROP TRIGGER search_notes_sync ON notes;
DROP TRIGGER search_meetings_sync ON meetings;
DROP TRIGGER search_threads_sync ON threads;
DROP TRIGGER search_posts_sync ON posts;
DROP FUNCTION search_docs_forget();
DROP FUNCTION search_attachments_sync();
DROP FUNCTION search_messages_sync();
DROP FUNCTION search_notes_sync();
DROP FUNCTION search_meetings_sync();
DROP FUNCTION search_threads_sync();
DROP FUNCTION search_posts_sync();
DROP FUNCTION search_doc_text(text, text);
DROP TABLE search_docs;
DROP TEXT SEARCH CONFIGURATION forum_search;
