-- Search (issue 13 item 3, issue 15): a good practice is found by whoever may
-- read its page (access.CanReadPractice). Migration 16 indexed published
-- practices only, so the authors' group could not find its own drafts,
-- submitted or returned practices. Every practice is indexed now, and
-- search_docs.public says who finds it: true for a published practice (every
-- logged-in reader, whatever their groups), false for everything else (the
-- readers of its group, by the group rule every other kind follows).

-- +goose Up
ALTER TABLE search_docs ADD COLUMN public boolean NOT NULL DEFAULT false;
UPDATE search_docs SET public = true WHERE kind = 'practice';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION search_practices_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (kind, ref_id, group_id, public, author_id, created_at, tsv)
    VALUES ('practice', NEW.id, NEW.group_id, NEW.status = 'published', NEW.author_id,
            COALESCE(NEW.published_at, NEW.created_at),
            search_doc_text(NEW.title, concat_ws(E'\n\n', NEW.problem, NEW.solution, NEW.results, NEW.costs, NEW.transfer)))
    ON CONFLICT (kind, ref_id) DO UPDATE SET group_id = EXCLUDED.group_id, public = EXCLUDED.public,
        created_at = EXCLUDED.created_at, tsv = EXCLUDED.tsv;
    RETURN NULL;
END $$;
-- +goose StatementEnd

INSERT INTO search_docs (kind, ref_id, group_id, public, author_id, created_at, tsv)
SELECT 'practice', p.id, p.group_id, false, p.author_id, p.created_at,
       search_doc_text(p.title, concat_ws(E'\n\n', p.problem, p.solution, p.results, p.costs, p.transfer))
  FROM practices p WHERE p.status <> 'published'
ON CONFLICT (kind, ref_id) DO NOTHING;

-- +goose Down
DELETE FROM search_docs WHERE kind = 'practice' AND NOT public;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION search_practices_sync() RETURNS trigger LANGUAGE plpgsql AS $$
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
ALTER TABLE search_docs DROP COLUMN public;
