-- Sightings: reports of a child seen working in the street, from citizens
-- (no account), the 123 social emergency line and outreach workers; their
-- triage by county teams, the incidents that group repeat reports, the
-- domain events the notifications deliver, and the counters and
-- proof-of-work challenges that keep public intake from being flooded.
--
-- Same conventions as 0001 (UUID text ids, BIGINT milliseconds, REAL here
-- for DOUBLE PRECISION there). The SQLite and PostgreSQL files differ only in
-- autoincrement keys and in how the users' role check is replaced.

-- A new role: hotline (123) operators record reports taken by phone, in one
-- province. SQLite cannot alter a CHECK constraint, so the users table is
-- rebuilt the way SQLite documents (ALTER TABLE, "making other kinds of table
-- schema changes"): a new table, the rows copied, the old one dropped and the
-- new one renamed. Migrations run with foreign keys off (see Db::migrate), so
-- the references of sessions, children, … keep naming "users" and, after the
-- rename, point at the new table; Db::migrate checks them all afterwards.
CREATE TABLE users_new (
    id            TEXT PRIMARY KEY,
    -- Stored lower-case: "Sara" and "sara" are the same login.
    username      TEXT NOT NULL,
    display_name  TEXT,
    -- argon2id in PHC string form; the password itself is never stored.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('outreach_worker', 'supervisor', 'provincial_staff', 'national_admin', 'hotline_operator')),
    -- ISO 3166-2 province code; only national admins have none.
    province      TEXT,
    county        TEXT,
    created_at    BIGINT NOT NULL,
    created_by    TEXT REFERENCES users (id),
    disabled_at   BIGINT,
    CONSTRAINT users_username_key UNIQUE (username),
    CHECK ((role = 'national_admin') = (province IS NULL)),
    CHECK (county IS NULL OR province IS NOT NULL)
);
INSERT INTO users_new (id, username, display_name, password_hash, role, province, county,
                       created_at, created_by, disabled_at)
    SELECT id, username, display_name, password_hash, role, province, county,
           created_at, created_by, disabled_at
    FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_province ON users (province, username);

-- Reports close in place and time (about 200 m, two hours) are one incident:
-- ten reports of one junction in an evening are one visit, not ten. The
-- incident takes the place of its first report.
CREATE TABLE incidents (
    id            TEXT PRIMARY KEY,
    province      TEXT,
    county        TEXT,
    lat           REAL NOT NULL,
    lng           REAL NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX incidents_place ON incidents (province, county, last_seen_at, id);

CREATE TABLE sightings (
    id             TEXT PRIMARY KEY,
    -- What the reporter keeps to ask about the report's state: short,
    -- random, of unambiguous characters (see sightings::receipt).
    receipt_code   TEXT NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('citizen', 'hotline', 'worker')),
    seen_at        BIGINT NOT NULL,
    lat            REAL NOT NULL,
    lng            REAL NOT NULL,
    accuracy_m     REAL,
    -- Placed at write time (sightings::place); NULL when nothing could place it.
    province       TEXT,
    county         TEXT,
    children_count INTEGER NOT NULL CHECK (children_count BETWEEN 1 AND 50),
    -- The facts as sent (age bands, sex, activity, description): JSON.
    details        TEXT NOT NULL,
    photo_key      TEXT,
    -- Only with the reporter's explicit consent; purged after the retention.
    reporter_phone TEXT,
    phone_purge_at BIGINT,
    -- SHA-256 of the client address and of the device token: enough to
    -- count and to see a pattern, without keeping a citizen's address.
    client_hash    TEXT,
    device_hash    TEXT,
    -- Why the report needs a second look (e.g. 'far_apart'); never dropped.
    flag           TEXT,
    state          TEXT NOT NULL CHECK (state IN ('new', 'assigned', 'visited', 'linked', 'duplicate', 'false_report')),
    visit_outcome  TEXT CHECK (visit_outcome IN ('found', 'not_found')),
    assigned_to    TEXT REFERENCES users (id),
    incident_id    TEXT NOT NULL REFERENCES incidents (id),
    create_digest  TEXT NOT NULL,
    created_by     TEXT REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT sightings_receipt_key UNIQUE (receipt_code)
);
-- The triage lists, newest first, by keyset: a county's, a province's
-- (provincial staff), the country's (national staff). Three index updates per
-- report bought for lists that never sort more than a page.
CREATE INDEX sightings_triage ON sightings (province, county, created_at, id);
CREATE INDEX sightings_province_recent ON sightings (province, created_at, id);
CREATE INDEX sightings_recent ON sightings (created_at, id);
-- Grouping into incidents looks for reports around a time.
CREATE INDEX sightings_seen ON sightings (seen_at);
CREATE INDEX sightings_incident ON sightings (incident_id);
CREATE INDEX sightings_device ON sightings (device_hash, created_at);
CREATE INDEX sightings_phone_purge ON sightings (phone_purge_at);

-- Every state a report went through, with who, when and why.
CREATE TABLE sighting_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sighting_id TEXT NOT NULL REFERENCES sightings (id),
    state       TEXT NOT NULL,
    note        TEXT,
    by_user     TEXT REFERENCES users (id),
    at          BIGINT NOT NULL
);
CREATE INDEX sighting_events_sighting ON sighting_events (sighting_id, id);

-- Reports linked to the child records they turned out to be about.
CREATE TABLE sighting_children (
    sighting_id TEXT NOT NULL REFERENCES sightings (id),
    child_id    TEXT NOT NULL REFERENCES children (id),
    linked_by   TEXT NOT NULL REFERENCES users (id),
    linked_at   BIGINT NOT NULL,
    PRIMARY KEY (sighting_id, child_id)
);
CREATE INDEX sighting_children_child ON sighting_children (child_id);

-- Domain events: one row per thing that happened that someone may need to
-- hear about (a new report in county X, a report assigned to worker Y), written
-- in the same transaction as the change; the notifications deliver them.
CREATE TABLE domain_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    province     TEXT,
    county       TEXT,
    subject_type TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    -- The user the event is addressed to, when it has one (an assignee).
    user_id      TEXT REFERENCES users (id),
    actor_id     TEXT REFERENCES users (id),
    detail       TEXT
);
CREATE INDEX domain_events_place ON domain_events (province, county, id);
CREATE INDEX domain_events_user ON domain_events (user_id, id);

-- Public intake counters per client address and device, shared by every
-- server instance: a window start and the reports counted in it.
CREATE TABLE intake_counters (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count        INTEGER NOT NULL
);

-- Proof-of-work challenges handed out to clients past the soft limit; each
-- can be spent once, before it expires.
CREATE TABLE pow_challenges (
    id          TEXT PRIMARY KEY,
    difficulty  INTEGER NOT NULL,
    expires_at  BIGINT NOT NULL,
    spent_at    BIGINT
);
CREATE INDEX pow_challenges_expiry ON pow_challenges (expires_at);
