-- A stamp on each atlas_totals row, new whenever the row is written
-- (server/src/atlas/totals.rs): a server keeps the sketches it has read in
-- memory and reads a row's sketch again only when its stamp has changed, so
-- a map reads the sums and stamps of its rows and the bytes of few sketches
-- (server/src/atlas/sketch_cache.rs).
--
-- stamp: a random number drawn by the writer, never 0 once written. Rows
-- from before this migration keep 0 until they are next written; a row is
-- only ever written with a fresh stamp, so 0 still names one content.
--
-- SQLite: the table is made again with the stamp before the sketch. A
-- dense sketch (4 KB) overflows its B-tree page, and a column after it
-- would be read through the overflow pages; before it, a read of the sums
-- and stamps stays on the table's own pages. PostgreSQL adds the column
-- (a sketch there is decoded only when a query selects it).
CREATE TABLE atlas_totals_stamped (
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
    stamp             BIGINT NOT NULL DEFAULT 0,
    sketch            BLOB NOT NULL,
    PRIMARY KEY (level, grain, start, province, area, county)
) WITHOUT ROWID;

INSERT INTO atlas_totals_stamped (level, grain, start, province, area, county, encounters,
        reports, children_reported, incidents, children, stamp, sketch)
    SELECT level, grain, start, province, area, county, encounters, reports, children_reported,
        incidents, children, 0, sketch
    FROM atlas_totals;

DROP TABLE atlas_totals;
ALTER TABLE atlas_totals_stamped RENAME TO atlas_totals;

-- A time series reads one area's periods.
CREATE INDEX atlas_totals_area ON atlas_totals (level, area, grain, start);
