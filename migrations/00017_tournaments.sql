-- +goose Up
-- The tournament of good practices (issue 15 item 2): staff open a round,
-- participating groups enter up to max_entries of their own practices before
-- voting opens, members score every entry on every criterion during the
-- voting period, staff close the round and the ranking is published.
CREATE TABLE tournaments (
    id               bigserial   PRIMARY KEY,
    title            text        NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    description      text        NOT NULL DEFAULT '',
    -- N: how many practices each participating group may enter.
    max_entries      int         NOT NULL CHECK (max_entries BETWEEN 1 AND 20),
    -- Entries are taken until voting starts; ballots between the two.
    voting_starts_at timestamptz NOT NULL,
    voting_ends_at   timestamptz NOT NULL,
    created_by       bigint      REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Set once, by staff: results become visible to members from then on
    -- and no ballot changes any more.
    closed_at        timestamptz,
    closed_by        bigint      REFERENCES users (id),
    CHECK (voting_ends_at > voting_starts_at)
);

-- The groups that take part. A member's right to see the round and to vote
-- comes from these rows; entering locks the (round, group) row so that two
-- entries at once cannot pass the limit.
CREATE TABLE tournament_groups (
    tournament_id bigint NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    group_id      bigint NOT NULL REFERENCES groups (id),
    PRIMARY KEY (tournament_id, group_id)
);
CREATE INDEX tournament_groups_group_idx ON tournament_groups (group_id, tournament_id);

CREATE TABLE tournament_criteria (
    id            bigserial     PRIMARY KEY,
    tournament_id bigint        NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    position      int           NOT NULL,
    name          text          NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- A positive weight; numeric so that the weighted mean is exact.
    weight        numeric(6, 2) NOT NULL CHECK (weight > 0),
    UNIQUE (tournament_id, position)
);

CREATE TABLE tournament_entries (
    id            bigserial   PRIMARY KEY,
    tournament_id bigint      NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    -- The group that entered it: the practice's own group, kept here so the
    -- limit per group and the ranking per group kind need no join.
    group_id      bigint      NOT NULL,
    practice_id   bigint      NOT NULL REFERENCES practices (id),
    entered_by    bigint      REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- A practice enters a round once.
    UNIQUE (tournament_id, practice_id),
    FOREIGN KEY (tournament_id, group_id) REFERENCES tournament_groups (tournament_id, group_id)
);
CREATE INDEX tournament_entries_group_idx ON tournament_entries (tournament_id, group_id);

-- One ballot per member per entry (the primary key); a changed ballot
-- replaces its scores. Who voted what is never shown to anyone but the voter.
CREATE TABLE tournament_ballots (
    entry_id   bigint      NOT NULL REFERENCES tournament_entries (id) ON DELETE CASCADE,
    voter_id   bigint      NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, voter_id)
);

CREATE TABLE tournament_scores (
    entry_id     bigint   NOT NULL,
    voter_id     bigint   NOT NULL,
    criterion_id bigint   NOT NULL REFERENCES tournament_criteria (id) ON DELETE CASCADE,
    score        smallint NOT NULL CHECK (score BETWEEN 0 AND 5),
    PRIMARY KEY (entry_id, voter_id, criterion_id),
    FOREIGN KEY (entry_id, voter_id) REFERENCES tournament_ballots (entry_id, voter_id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE tournament_scores;
DROP TABLE tournament_ballots;
DROP TABLE tournament_entries;
DROP TABLE tournament_criteria;
DROP TABLE tournament_groups;
DROP TABLE tournaments;
