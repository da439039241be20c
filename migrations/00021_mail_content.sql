-- +goose Up
-- A notification mail is written in the transaction of the post (or note, or
-- message) it announces, on the request's path. Its rendered bodies (the HTML
-- template alone is 1.5 KB) made the row pass PostgreSQL's TOAST threshold, so
-- every reply paid for compressing them (issue 16, posting row). Such a mail
-- now stores what it says instead — its translated content as JSON (subject,
-- greeting, paragraphs, link), a few hundred bytes — with empty bodies; the
-- worker renders the bodies from it when it sends the mail, and the admin view
-- when it shows it. The content is fixed when the mail is queued, so the mail
-- says exactly what it would have said rendered then.
ALTER TABLE mails ADD COLUMN content text;

-- +goose Down
ALTER TABLE mails DROP COLUMN content;
