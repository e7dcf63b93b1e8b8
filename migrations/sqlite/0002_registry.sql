-- The registry: one record per child, its version history, name trigrams
-- for fuzzy search, registry-code sequences and encounters.

-- Registry codes count per province and Jalali year (see server/src/registry/codes.rs).
CREATE TABLE registry_sequences (
    province    TEXT NOT NULL,
    jalali_year BIGINT NOT NULL,
    last_value  BIGINT NOT NULL,
    PRIMARY KEY (province, jalali_year)
);

-- The current state of each record. `facts` is the JSON document the API
-- shows (so updates merge field by field); the columns after it are derived
-- from it on every write, for scoping and filtering.
CREATE TABLE children (
    id              TEXT PRIMARY KEY,
    registry_code   TEXT NOT NULL,
    status          TEXT NOT NULL,
    version         BIGINT NOT NULL,
    facts           TEXT NOT NULL,
    -- SHA-256 of the create body: an identical retry returns the record.
    create_digest   TEXT NOT NULL,
    home_province   TEXT NOT NULL,
    home_county     TEXT,
    sex             TEXT NOT NULL,
    nationality     TEXT NOT NULL,
    birth_year      BIGINT,
    -- '|street_vending|begging|', filtered with LIKE on both backends.
    work_types      TEXT NOT NULL,
    assigned_worker TEXT REFERENCES users (id),
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    last_seen_at    BIGINT,
    -- Set when a supervisor merges this record into another (a tombstone).
    merged_into     TEXT REFERENCES children (id),
    CONSTRAINT children_registry_code_key UNIQUE (registry_code)
);
CREATE INDEX children_scope ON children (home_province, home_county, updated_at);
CREATE INDEX children_updated ON children (updated_at, id);

-- Every version of every record: who changed it, when and why. The base of
-- the three-way merge for offline edits, and the history of status changes.
CREATE TABLE child_versions (
    child_id   TEXT NOT NULL REFERENCES children (id),
    version    BIGINT NOT NULL,
    status     TEXT NOT NULL,
    facts      TEXT NOT NULL,
    changed_by TEXT NOT NULL REFERENCES users (id),
    changed_at BIGINT NOT NULL,
    reason     TEXT,
    PRIMARY KEY (child_id, version)
);

-- Distinct trigrams of each child's normalised names (server/src/registry/names.rs).
CREATE TABLE child_name_grams (
    gram     TEXT NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    PRIMARY KEY (gram, child_id)
);
CREATE INDEX child_name_grams_child ON child_name_grams (child_id);

-- Each meeting of a worker with a child.
CREATE TABLE encounters (
    id            TEXT PRIMARY KEY,
    child_id      TEXT NOT NULL REFERENCES children (id),
    worker_id     TEXT NOT NULL REFERENCES users (id),
    at            BIGINT NOT NULL,
    lat           REAL NOT NULL,
    lng           REAL NOT NULL,
    accuracy_m    REAL,
    -- Filled in once administrative boundaries are imported.
    province      TEXT,
    county        TEXT,
    details       TEXT NOT NULL,
    create_digest TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX encounters_child ON encounters (child_id, at);
