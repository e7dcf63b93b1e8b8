-- Iris recognition in the registry (server/src/biometrics).
--
-- Templates and raw captures are biometric data: both are stored encrypted
-- with AES-256-GCM under the biometric key (see biometrics/keys.rs); the
-- key id beside each row tells which key sealed it, so `kudakyar keys rotate`
-- can be resumed after a crash and a server can read rows of either key
-- while a rotation runs.

-- Set while an iris match with another record is unresolved (a registration
-- queued offline that matched someone): the record is "identity pending review".
ALTER TABLE children ADD COLUMN identity_review_since BIGINT;

-- Iris templates moved by a merge (JSON array of ids), for the undo.
ALTER TABLE child_merges ADD COLUMN moved_iris TEXT NOT NULL DEFAULT '[]';

CREATE TABLE iris_templates (
    -- UUID v5 of (child, eye, SHA-256 of the capture): a re-sent capture
    -- finds its own row instead of making a second template.
    id              TEXT PRIMARY KEY,
    child_id        TEXT NOT NULL REFERENCES children (id),
    eye             TEXT NOT NULL CHECK (eye IN ('left', 'right')),
    -- nonce ‖ AES-256-GCM(template bytes), the template id as associated data.
    sealed_template BLOB NOT NULL,
    key_id          TEXT NOT NULL,
    -- Object-store key of the sealed raw capture; NULL once retention ended.
    capture_key     TEXT,
    capture_sha256  TEXT NOT NULL,
    -- The quality report (JSON, no biometric data) and the engine that made
    -- the template, so `kudakyar iris reencode` knows what is stale.
    quality         TEXT NOT NULL,
    engine_version  TEXT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    -- Removed templates stay as rows (no biometric data once sealed_template
    -- is emptied) so every instance's gallery drops them.
    removed_at      BIGINT
);
CREATE INDEX iris_templates_child ON iris_templates (child_id);

-- Changes to iris_templates in commit order, followed by every server
-- instance to keep its in-memory gallery in step (biometrics/gallery.rs).
CREATE TABLE iris_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id TEXT NOT NULL,
    -- add: a new template; update: new bytes (re-encode); remove: gone.
    kind        TEXT NOT NULL CHECK (kind IN ('add', 'update', 'remove')),
    at          BIGINT NOT NULL
);

-- Two records whose irises match, for a supervisor to decide: merge them
-- (same child) or keep both (different children).
CREATE TABLE identity_reviews (
    id                 TEXT PRIMARY KEY,
    -- The newer record and the older record it matched.
    child_id           TEXT NOT NULL REFERENCES children (id),
    candidate_id       TEXT NOT NULL REFERENCES children (id),
    -- Both provinces: supervisors of either see the task.
    child_province     TEXT NOT NULL,
    candidate_province TEXT NOT NULL,
    reason             TEXT NOT NULL
        CHECK (reason IN ('offline_registration', 'declared_new_child', 'enrolment')),
    -- JSON: {"left": 0.21, "right": null}
    distances          TEXT NOT NULL,
    opened_by          TEXT NOT NULL REFERENCES users (id),
    opened_at          BIGINT NOT NULL,
    decision           TEXT CHECK (decision IN ('same_child', 'different_children')),
    decided_by         TEXT REFERENCES users (id),
    decided_at         BIGINT,
    merge_id           TEXT REFERENCES child_merges (id),
    -- One task per pair, however often the match is seen again.
    UNIQUE (child_id, candidate_id)
);
CREATE INDEX identity_reviews_open ON identity_reviews (decided_at, opened_at);
