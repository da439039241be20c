-- My account (issue 12 items 6 and 7): the interface language and notification
-- preferences a person chooses, a public id for each session (the token and its
-- hash never leave the server), and the mark of an account anonymised at its
-- owner's request.

-- +goose Up
-- lang NULL: the person has not chosen; the language switch's cookie (or the
-- configured default) decides. prefs is validated strictly by package
-- accounts; the database only insists on an object.
ALTER TABLE users
    ADD COLUMN lang       text        CHECK (lang IN ('pl', 'en')),
    ADD COLUMN prefs      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(prefs) = 'object'),
    ADD COLUMN deleted_at timestamptz;

-- A random public id per session, unrelated to its token: the account page
-- lists and ends sessions by it. Existing rows get one each (the default is
-- evaluated per row).
ALTER TABLE sessions ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX sessions_public_id_key ON sessions (public_id);

-- The export reads a person's chat messages, notes and files by author.
CREATE INDEX chat_messages_author_idx ON chat_messages (author_id);
CREATE INDEX notes_author_idx ON notes (author_id);
CREATE INDEX attachments_uploader_idx ON attachments (uploader_id);

-- +goose Down
DROP INDEX attachments_uploader_idx;
DROP INDEX notes_author_idx;
DROP INDEX chat_messages_author_idx;
DROP INDEX sessions_public_id_key;
ALTER TABLE sessions DROP COLUMN public_id;
ALTER TABLE users DROP COLUMN deleted_at, DROP COLUMN prefs, DROP COLUMN lang;
