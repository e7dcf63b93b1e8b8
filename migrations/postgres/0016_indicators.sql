-- Programme monitoring: the verification level of each field visit, the iris
-- identifications that can verify one, and the indicator tables the nightly
-- job materialises (server/src/indicators).

-- Computed when the encounter is stored (server/src/indicators/verification.rs).
-- Encounters stored before this migration had no such check: 'unverified'.
ALTER TABLE encounters ADD COLUMN verification TEXT NOT NULL DEFAULT 'unverified'
    CHECK (verification IN ('iris_verified', 'location_verified', 'unverified'));
CREATE INDEX encounters_worker ON encounters (worker_id, at);

-- Each "who is this child?" search by iris, and the children it matched (in
-- or out of the caller's scope): an encounter may name one to be
-- iris-verified, and a closed child found again this way is a re-entry.
CREATE TABLE iris_identifications (
    id        TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL REFERENCES users (id),
    at        BIGINT NOT NULL
);
CREATE TABLE iris_identification_matches (
    identification_id TEXT NOT NULL REFERENCES iris_identifications (id),
    child_id          TEXT NOT NULL REFERENCES children (id),
    distance          DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (identification_id, child_id)
);
CREATE INDEX iris_identification_matches_child ON iris_identification_matches (child_id);

-- One row per day the indicators were materialised. The job claims a day by
-- inserting it (the primary key lets one instance win) and sets finished_at
-- when its figures are stored; a claim left unfinished for an hour (a crash)
-- may be taken over.
CREATE TABLE indicator_runs (
    day         TEXT PRIMARY KEY,
    claimed_by  TEXT NOT NULL,
    claimed_at  BIGINT NOT NULL,
    finished_at BIGINT
);

-- The figures of a day, per area ('IR' for the country, a province IR-xx or a
-- county code): `figure` names one number of the indicator (e.g. a caseload
-- bucket), `value` is it, `children` how many distinct children it counts
-- (what privacy suppression looks at; NULL for figures about staff or
-- centres, which count no child).
CREATE TABLE indicator_values (
    day       TEXT NOT NULL,
    indicator TEXT NOT NULL,
    area      TEXT NOT NULL,
    figure    TEXT NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    children  BIGINT,
    PRIMARY KEY (day, indicator, area, figure)
);

-- Per outreach worker and day: open cases and visits in the 30 days to it.
CREATE TABLE indicator_workers (
    day        TEXT NOT NULL,
    worker_id  TEXT NOT NULL REFERENCES users (id),
    province   TEXT,
    county     TEXT,
    open_cases BIGINT NOT NULL,
    visits     BIGINT NOT NULL,
    verified   BIGINT NOT NULL,
    PRIMARY KEY (day, worker_id)
);

-- Outcomes by registration cohort as of a day: children registered in a
-- Jalali quarter ('1405-Q2'), by province, sex, age band and nationality, in
-- each status `months` (3, 6, 12) after their registration.
CREATE TABLE indicator_cohorts (
    day         TEXT NOT NULL,
    cohort      TEXT NOT NULL,
    province    TEXT NOT NULL,
    sex         TEXT NOT NULL,
    age_band    TEXT NOT NULL,
    nationality TEXT NOT NULL,
    months      BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    children    BIGINT NOT NULL,
    PRIMARY KEY (day, cohort, province, sex, age_band, nationality, months, outcome)
);
