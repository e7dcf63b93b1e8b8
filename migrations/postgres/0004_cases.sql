-- Case work: merges of duplicate records, service centres and referrals.

-- A supervisor's decision that two records are the same child. The duplicate
-- becomes a tombstone (children.merged_into); what moved is remembered so the
-- merge can be undone within 30 days.
CREATE TABLE child_merges (
    id                TEXT PRIMARY KEY,
    survivor_id       TEXT NOT NULL REFERENCES children (id),
    duplicate_id      TEXT NOT NULL REFERENCES children (id),
    -- JSON arrays: encounter and photo ids moved, aliases added to the survivor.
    moved_encounters  TEXT NOT NULL,
    moved_photos      TEXT NOT NULL,
    added_aliases     TEXT NOT NULL,
    reason            TEXT,
    merged_by         TEXT NOT NULL REFERENCES users (id),
    merged_at         BIGINT NOT NULL,
    undone_by         TEXT REFERENCES users (id),
    undone_at         BIGINT
);
CREATE INDEX child_merges_duplicate ON child_merges (duplicate_id);

-- The organisation's local service centres (مرکز مثبت زندگی) and partner NGOs.
CREATE TABLE centres (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    address    TEXT,
    lat        DOUBLE PRECISION NOT NULL,
    lng        DOUBLE PRECISION NOT NULL,
    province   TEXT NOT NULL,
    county     TEXT,
    -- '|food|counselling|', filtered with LIKE.
    services   TEXT NOT NULL,
    -- Open files the centre can hold (about 450 by the programme's rule).
    capacity   BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX centres_province ON centres (province, county);

-- A child referred to a centre: sent → accepted / rejected → completed.
CREATE TABLE referrals (
    id         TEXT PRIMARY KEY,
    child_id   TEXT NOT NULL REFERENCES children (id),
    centre_id  TEXT NOT NULL REFERENCES centres (id),
    state      TEXT NOT NULL CHECK (state IN ('sent', 'accepted', 'rejected', 'completed')),
    note       TEXT,
    create_digest TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX referrals_centre ON referrals (centre_id, state);
CREATE INDEX referrals_child ON referrals (child_id);

-- Every state a referral went through, with who and when.
CREATE TABLE referral_events (
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    state       TEXT NOT NULL,
    note        TEXT,
    by_user     TEXT NOT NULL REFERENCES users (id),
    at          BIGINT NOT NULL,
    PRIMARY KEY (referral_id, state)
);
