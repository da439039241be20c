-- Opinions on training materials (issue 15 item 3): programme staff put a
-- draft of the training programme up for review, split into numbered
-- sections; members of the chosen groups comment on each section and rate it
-- within a deadline; staff answer each comment. The summary is what the
-- programme hands to ORE.

-- +goose Up

CREATE TABLE reviews (
    id               bigserial   PRIMARY KEY,
    title            text        NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    description      text        NOT NULL DEFAULT '',
    -- Rendered and sanitized at write time (internal/markup), never at read time.
    description_html text        NOT NULL DEFAULT '',
    -- Comments are taken until this moment; afterwards the material is read-only.
    deadline         timestamptz NOT NULL,
    author_id        bigint      NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- The draft document. It is not an attachments row: attachments belong
    -- to a meeting, and a material under review has none. The bytes are the
    -- notes service's stored file with this checksum (same upload directory,
    -- same type detection); the notes sweep counts these checksums as in use.
    doc_filename     text,
    doc_kind         text        CHECK (doc_kind IN ('pdf', 'docx')),
    doc_size         bigint      CHECK (doc_size > 0),
    doc_checksum     text        CHECK (doc_checksum ~ '^[0-9a-f]{64}$'),
    doc_uploaded_at  timestamptz,
    -- All four or none: a row never points at half a document.
    CHECK ((doc_checksum IS NULL) = (doc_filename IS NULL)
       AND (doc_checksum IS NULL) = (doc_kind IS NULL)
       AND (doc_checksum IS NULL) = (doc_size IS NULL))
);
CREATE INDEX reviews_deadline_idx ON reviews (deadline DESC, id);
-- The blob release and the sweep look stored files up by checksum.
CREATE INDEX reviews_doc_checksum_idx ON reviews (doc_checksum) WHERE doc_checksum IS NOT NULL;

-- The groups whose members comment (and whose observers read).
CREATE TABLE review_groups (
    review_id bigint NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    group_id  bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (review_id, group_id)
);
-- "Which materials may this person read" starts from their groups.
CREATE INDEX review_groups_group_idx ON review_groups (group_id, review_id);

CREATE TABLE review_sections (
    id              bigserial   PRIMARY KEY,
    review_id       bigint      NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    -- As the document numbers it: "2", "2.3", "2.3.1".
    number          text        NOT NULL CHECK (number ~ '^[0-9]{1,3}(\.[0-9]{1,3}){0,4}$'),
    -- The number as integers, so "2.10" sorts after "2.9".
    sort_key        int[]       NOT NULL,
    title           text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    body            text        NOT NULL,
    body_html       text        NOT NULL,
    -- The live topic section:ID follows these two (new comments on an open
    -- page); both change under the section's row lock with each comment.
    comment_count   int         NOT NULL DEFAULT 0,
    last_comment_id bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (review_id, number)
);
CREATE INDEX review_sections_order_idx ON review_sections (review_id, sort_key);

CREATE TABLE review_comments (
    id              bigserial   PRIMARY KEY,
    section_id      bigint      NOT NULL REFERENCES review_sections (id) ON DELETE CASCADE,
    author_id       bigint      NOT NULL REFERENCES users (id),
    -- One level of replies: a reply answers a top-level comment (the service
    -- refuses a reply to a reply; the rows cannot say so alone).
    reply_to        bigint      REFERENCES review_comments (id) ON DELETE CASCADE,
    -- A top-level comment rates the section; a reply does not.
    rating          text        CHECK (rating IN ('clear', 'needs_changes', 'unclear')),
    body            text        NOT NULL,
    body_html       text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Staff's answer: taken into account or not, and why (a "no" needs a
    -- reason). Changeable; each change is audited.
    response_status text        CHECK (response_status IN ('accepted', 'rejected')),
    response_reason text        NOT NULL DEFAULT '',
    responded_by    bigint      REFERENCES users (id),
    responded_at    timestamptz,
    CHECK ((reply_to IS NULL) = (rating IS NOT NULL)),
    CHECK (response_status IS NULL OR reply_to IS NULL),
    CHECK (response_status IS DISTINCT FROM 'rejected' OR response_reason <> '')
);
CREATE INDEX review_comments_section_idx ON review_comments (section_id, id);
CREATE INDEX review_comments_reply_idx ON review_comments (reply_to) WHERE reply_to IS NOT NULL;
-- The per-account comment limit counts one person's latest comments.
CREATE INDEX review_comments_author_idx ON review_comments (author_id, created_at);

-- +goose Down
DROP TABLE review_comments;
DROP TABLE review_sections;
DROP TABLE review_groups;
DROP TABLE reviews;
