-- Foundation: users, login sessions, login throttling and the audit log.
--
-- Conventions shared with migrations/sqlite (see server/src/db/mod.rs):
-- ids are UUID text, times are BIGINT milliseconds since the Unix epoch,
-- flags are nullable timestamps.

-- Everyone who logs in. Citizens who report sightings have no account.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    -- Stored lower-case: "Sara" and "sara" are the same login.
    username      TEXT NOT NULL,
    display_name  TEXT,
    -- argon2id in PHC string form; the password itself is never stored.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('outreach_worker', 'supervisor', 'provincial_staff', 'national_admin')),
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
CREATE INDEX users_province ON users (province, username);

-- Bearer sessions. Only the SHA-256 of the token is kept, so a stolen database
-- dump does not hand out live sessions.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    client_ip  TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed-login counters per key ('user:<name>' or 'ip:<address>'), shared by
-- every server instance because they live in the database.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL
);

-- Who did what, when, from where. Append-only: the trigger below refuses any
-- UPDATE, DELETE or TRUNCATE, whatever the application does.
CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            BIGINT NOT NULL,
    user_id       TEXT,
    username      TEXT,
    role          TEXT,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    request_id    TEXT,
    client_ip     TEXT,
    detail        TEXT
);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_id, id);
CREATE INDEX audit_log_at ON audit_log (at, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
