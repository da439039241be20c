-- Posting (issue 16): a new post's search document is written off the
-- request path. The insert trigger computed it inside the reply's statement:
-- in the posting benchmark 0.5 of PostgreSQL's ≈ 3 ms CPU per post and 6 of
-- its 23.5 KB of WAL, and, with 16 writers queueing on the GIN index's pending
-- list, the slowest replies (up to 80 ms inside the trigger, while the
-- reply held its thread's row lock). Now the insert only records the post's id
-- in search_post_backlog, in the same transaction, so a post answered 201 is
-- never left out of the index; an indexer takes the backlog in batches
-- (store.IndexPostBacklog, run by every instance, SKIP LOCKED), and every
-- search first indexes what is still there (waiting for batches under way),
-- so a search finds every post committed before it began, as before.
--
-- Who changes a post or a thread takes the post off the backlog first: an
-- indexer holding the row makes them wait until its document is committed,
-- and a post taken off here is indexed here, whole. So no document is written
-- from a post or thread older than the one its writer left.

-- +goose Up
CREATE TABLE search_post_backlog (
    post_id bigint PRIMARY KEY
);

-- The document of each post in ids that is not deleted, as it is now (a
-- volatile SQL function: each call reads with a fresh snapshot, taken after
-- its caller took the posts off the backlog).
-- +goose StatementBegin
CREATE FUNCTION search_index_posts(ids bigint[]) RETURNS integer LANGUAGE sql AS $$
    WITH d AS (
        INSERT INTO search_docs (kind, ref_id, group_id, hidden, thread_id, author_id, created_at, tsv)
        SELECT 'post', p.id, t.group_id, p.hidden OR t.hidden, t.id, p.author_id, p.created_at,
               search_doc_text(NULL, p.body)
          FROM posts p JOIN threads t ON t.id = p.thread_id
         WHERE p.id = ANY (ids) AND p.deleted_at IS NULL
        ON CONFLICT (kind, ref_id) DO UPDATE SET group_id = EXCLUDED.group_id, hidden = EXCLUDED.hidden,
            thread_id = EXCLUDED.thread_id, author_id = EXCLUDED.author_id, created_at = EXCLUDED.created_at,
            tsv = EXCLUDED.tsv
        RETURNING 1
    )
    SELECT count(*)::integer FROM d
$$;
-- +goose StatementEnd

-- One statement-level trigger: a bulk insert queues its posts in one go.
-- +goose StatementBegin
CREATE FUNCTION search_posts_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_post_backlog (post_id) SELECT id FROM added;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER search_posts_enqueue AFTER INSERT ON posts
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION search_posts_enqueue();

-- Changes as before, except that a post still on the backlog is indexed here.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION search_posts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    queued boolean;
BEGIN
    DELETE FROM search_post_backlog WHERE post_id = NEW.id;
    queued := FOUND;
    IF NEW.deleted_at IS NOT NULL THEN
        DELETE FROM search_docs WHERE kind = 'post' AND ref_id = NEW.id;
    ELSIF queued THEN
        PERFORM search_index_posts(ARRAY[NEW.id]);
    ELSIF NEW.body = OLD.body AND OLD.deleted_at IS NULL THEN
        UPDATE search_docs d SET group_id = t.group_id, thread_id = t.id, hidden = NEW.hidden OR t.hidden
          FROM threads t WHERE t.id = NEW.thread_id AND d.kind = 'post' AND d.ref_id = NEW.id;
    ELSE
        PERFORM search_index_posts(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
DROP TRIGGER search_posts_sync ON posts;
CREATE TRIGGER search_posts_sync AFTER UPDATE OF body, hidden, deleted_at, thread_id ON posts
    FOR EACH ROW EXECUTE FUNCTION search_posts_sync();

-- A move or hide of a thread first indexes its posts still on the backlog,
-- then carries all its posts' documents along, as before.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION search_threads_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    queued bigint[];
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
        WITH taken AS (
            DELETE FROM search_post_backlog b USING posts p
             WHERE b.post_id = p.id AND p.thread_id = NEW.id
            RETURNING b.post_id)
        SELECT array_agg(post_id) INTO queued FROM taken;
        IF queued IS NOT NULL THEN
            PERFORM search_index_posts(queued);
        END IF;
        UPDATE search_docs d SET group_id = NEW.group_id, hidden = p.hidden OR NEW.hidden
          FROM posts p WHERE d.kind = 'post' AND d.thread_id = NEW.id AND p.id = d.ref_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
SELECT search_index_posts(ARRAY(SELECT post_id FROM search_post_backlog));
DROP TRIGGER search_posts_enqueue ON posts;
DROP FUNCTION search_posts_enqueue();
DROP TRIGGER search_posts_sync ON posts;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION search_posts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION search_threads_sync() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP FUNCTION search_index_posts(bigint[]);
DROP TABLE search_post_backlog;
