-- Totals per area and period (server/src/atlas/totals.rs): what the maps and
-- time series read when no filter on the children's dimensions or on a
-- report's source is asked for, so a year of every county is a few dozen
-- rows per county instead of every child seen on every day.
--
-- level, area: as in atlas_counts. province, county: the place of the
-- events for counties and cells (a cell straddles borders; scoped staff read
-- their part); '' and '' for the country, and the province and '' for a
-- province, each of which is one row a period. grain: 'd' (a Tehran day), 'w' (a Jalali week,
-- Saturday first) or 'm' (a Jalali month); start: the period's first day.
-- Every event is counted in its day, its week and its month; a range of days
-- is read as whole months, weeks and days.
-- children: the exact number of distinct children seen, on day rows (a child
-- met in two counties of a province that day counts once); NULL on week and
-- month rows, whose children are counted from the sketch. sketch: the set of those children, exact up to
-- 512 and a HyperLogLog past that (server/src/atlas/sketch.rs), so a union of
-- rows (a range, a cell across a county line) merges sketches.
-- The SQLite and PostgreSQL files differ only in BLOB/BYTEA and WITHOUT ROWID.
CREATE TABLE atlas_totals (
    level             TEXT NOT NULL,
    grain             TEXT NOT NULL CHECK (grain IN ('d', 'w', 'm')),
    start             BIGINT NOT NULL,
    province          TEXT NOT NULL,
    area              TEXT NOT NULL,
    county            TEXT NOT NULL,
    encounters        BIGINT NOT NULL,
    reports           BIGINT NOT NULL,
    children_reported BIGINT NOT NULL,
    incidents         BIGINT NOT NULL,
    children          BIGINT,
    sketch            BLOB NOT NULL,
    -- A map reads one level's areas over a few periods: each period is a
    -- stretch of the key, and a province's a shorter one.
    PRIMARY KEY (level, grain, start, province, area, county)
) WITHOUT ROWID;

-- A time series reads one area's periods.
CREATE INDEX atlas_totals_area ON atlas_totals (level, area, grain, start);

-- The totals start from every subject again: the job applies what is queued
-- here, round by round, into all three rollups (the atlas shows what it has
-- caught up with meanwhile).
DELETE FROM atlas_counts;
DELETE FROM atlas_presence;
DELETE FROM atlas_applied;
INSERT INTO atlas_queue (kind, subject_id, queued_at) SELECT 'child', id, 0 FROM children;
INSERT INTO atlas_queue (kind, subject_id, queued_at) SELECT 'sighting', id, 0 FROM sightings;
INSERT INTO atlas_queue (kind, subject_id, queued_at) SELECT 'incident', id, 0 FROM incidents;
