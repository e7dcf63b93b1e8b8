-- The presence atlas (server/src/atlas): rollups kept by a background job.
--
-- Write paths (encounters, child updates and merges, reports, triage, incidents,
-- relocation and backfill) add one atlas_queue row per changed subject in their
-- own transaction. The job claims a batch, replaces each subject's previous
-- contribution (atlas_applied) by its current one in atlas_counts and
-- atlas_presence, and deletes the claimed queue rows, all in one transaction:
-- a crash loses nothing and applies nothing twice.
-- The SQLite and PostgreSQL files differ only in how atlas_queue numbers rows,
-- in the spelling of REAL, and in SQLite's WITHOUT ROWID on the two rollup
-- tables: their rows are stored in key order, so a map (one level, all its
-- areas, a range of days) and a time series (one area) read them in
-- sequence instead of looking each row up from an index.

-- Subjects whose contribution must be recomputed. kind: 'child' (its
-- encounters), 'sighting', 'incident'. Several rows for one subject are fine:
-- the job recomputes it once.
CREATE TABLE atlas_queue (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('child', 'sighting', 'incident')),
    subject_id TEXT NOT NULL,
    queued_at  BIGINT NOT NULL
);

-- What each subject last added to atlas_counts and atlas_presence: a JSON
-- list of its events (day, place, H3 cell at resolution 9, dimensions,
-- measures), so the job can take it away again before adding the new one.
CREATE TABLE atlas_applied (
    kind       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    rows       TEXT NOT NULL,
    PRIMARY KEY (kind, subject_id)
);

-- Counts per Tehran day and area. level: country | province | county | h5…h9;
-- area: 'IR', an ISO 3166-2 code, a county code or an H3 cell (hex).
-- province, county: the place of the events ('' when unplaced), so scoped
-- reads filter every level by them. source: 'encounter', or a report's source
-- (citizen | hotline | worker), or 'incident'. sex, age_band, nationality,
-- work_type: the child's ('' for reports and incidents); work_type is the
-- child's whole set '|a|b|'.
-- Measures: encounters, reports, children_reported (children_count of the
-- reports), incidents.
CREATE TABLE atlas_counts (
    level             TEXT NOT NULL,
    area              TEXT NOT NULL,
    day               BIGINT NOT NULL,
    province          TEXT NOT NULL,
    county            TEXT NOT NULL,
    source            TEXT NOT NULL,
    sex               TEXT NOT NULL,
    age_band          TEXT NOT NULL,
    nationality       TEXT NOT NULL,
    work_type         TEXT NOT NULL,
    encounters        BIGINT NOT NULL,
    reports           BIGINT NOT NULL,
    children_reported BIGINT NOT NULL,
    incidents         BIGINT NOT NULL,
    PRIMARY KEY (level, area, day, province, county, source, sex, age_band, nationality, work_type)
) WITHOUT ROWID;

-- The exact set of children seen per area and day (from encounters): distinct
-- children are counted from here, never summed.
-- Neither rollup table has another index: every read names the level (and a
-- time series the area), a prefix of the primary key; another index would
-- cost every rollup write and tempt SQLite's planner into a row-by-row lookup.
CREATE TABLE atlas_presence (
    level       TEXT NOT NULL,
    area        TEXT NOT NULL,
    day         BIGINT NOT NULL,
    province    TEXT NOT NULL,
    county      TEXT NOT NULL,
    child_id    TEXT NOT NULL,
    sex         TEXT NOT NULL,
    age_band    TEXT NOT NULL,
    nationality TEXT NOT NULL,
    work_type   TEXT NOT NULL,
    PRIMARY KEY (level, area, day, province, county, child_id)
) WITHOUT ROWID;

-- Population per county (`kudakyar atlas population FILE.csv`), for rates
-- per 10,000.
CREATE TABLE atlas_population (
    county     TEXT PRIMARY KEY,
    population BIGINT NOT NULL CHECK (population > 0)
);

-- Zoning breaks frozen for a Jalali year, so maps of that year stay
-- comparable. scope: 'IR' (national) or a province code; breaks: JSON list.
CREATE TABLE atlas_frozen_breaks (
    jalali_year BIGINT NOT NULL,
    scope       TEXT NOT NULL,
    level       TEXT NOT NULL,
    measure     TEXT NOT NULL,
    per         BIGINT NOT NULL,
    method      TEXT NOT NULL,
    breaks      TEXT NOT NULL,
    frozen_by   TEXT NOT NULL REFERENCES users (id),
    frozen_at   BIGINT NOT NULL,
    PRIMARY KEY (jalali_year, scope, level, measure, per)
);

-- Emerging hot spots, stored by `kudakyar atlas hotspots` and the nightly run.
-- atlas_hotspot_runs has one row per run day: the instance that inserts it
-- runs, the others see it and do not.
CREATE TABLE atlas_hotspot_runs (
    run_day     BIGINT NOT NULL,
    res         BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    weeks       BIGINT,
    events      BIGINT,
    outcome     TEXT,
    PRIMARY KEY (run_day, res)
);
CREATE TABLE atlas_hotspots (
    res      BIGINT NOT NULL,
    cell     TEXT NOT NULL,
    province TEXT NOT NULL,
    pattern  TEXT NOT NULL,
    z        REAL NOT NULL,
    p        REAL NOT NULL,
    trend_z  REAL NOT NULL,
    trend_p  REAL NOT NULL,
    run_day  BIGINT NOT NULL,
    PRIMARY KEY (res, cell)
);
