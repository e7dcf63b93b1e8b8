-- Administrative boundaries (the presence atlas): provinces (OSM admin_level 4)
-- and counties (admin_level 5), imported by `kudakyar geo import` from GeoJSON
-- with OSM tags. An import replaces every row in one transaction, all rows
-- sharing its imported_at, which is how servers notice a new import.
--
-- code: a province's ISO 3166-2 code (IR-23); a county's OSM wikidata id
-- (Q643031) where it has one, else r<OSM relation id> (see server/src/geo/import.rs).
-- geometry: the imported (Multi)Polygon as GeoJSON text, used for point in polygon;
-- simplified: a lighter version of it for display (what a phone is sent).
-- The SQLite and PostgreSQL files differ only in the spelling of REAL.
CREATE TABLE boundaries (
    level       TEXT NOT NULL CHECK (level IN ('province', 'county')),
    code        TEXT NOT NULL,
    province    TEXT NOT NULL,
    name_fa     TEXT NOT NULL,
    name_en     TEXT,
    wikidata    TEXT,
    min_lat     DOUBLE PRECISION NOT NULL,
    min_lng     DOUBLE PRECISION NOT NULL,
    max_lat     DOUBLE PRECISION NOT NULL,
    max_lng     DOUBLE PRECISION NOT NULL,
    geometry    TEXT NOT NULL,
    simplified  TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (level, code)
);
CREATE INDEX boundaries_province ON boundaries (province, level);
