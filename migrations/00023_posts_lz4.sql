-- +goose Up
-- A post's row (~1 KB of Markdown and its HTML) passes PostgreSQL's 2 KB
-- TOAST threshold, so every insert compresses its largest column — with pglz,
-- 1.7% of PostgreSQL's CPU in the posting benchmark (perf), and every thread
-- page decompresses 50 of them. lz4 compresses and decompresses several times
-- faster. Rows already written keep pglz (both are read alike). A server
-- built without lz4 keeps pglz: the migration does not fail there.
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE posts ALTER COLUMN body SET COMPRESSION lz4, ALTER COLUMN body_html SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: posts keep pglz';
END $$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE posts ALTER COLUMN body SET COMPRESSION default, ALTER COLUMN body_html SET COMPRESSION default;
