-- Notifications (issue 18): Firebase Cloud Messaging (HTTP v1) as a
-- delivery channel, for an Android wrapper of the PWA.
--
-- Same conventions as 0015. The two files differ only in how the
-- deliveries' channel check is widened.

-- A device's FCM registration token, as the Firebase SDK on the device
-- gives it. The token is unique: an app registering again sends the same
-- one, and a device handed to another user moves to them. FCM's answer
-- UNREGISTERED (the app was removed, the token expired) deletes the row.
CREATE TABLE fcm_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    token       TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
-- fan_out's "the devices of this user".
CREATE INDEX fcm_tokens_user ON fcm_tokens (user_id);

-- The outbox gains the channel 'fcm' (its target: an fcm_tokens id).
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt as SQLite
-- documents (a new table, the rows copied with their ids, the old one
-- dropped, the new one renamed), with the same columns in the same order
-- (0015's, then 0017's digest_count) and its indexes made again.
-- Migrations run with foreign keys off (see Db::migrate), which checks
-- every reference afterwards.
CREATE TABLE deliveries_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  BIGINT NOT NULL REFERENCES notifications (id),
    channel          TEXT NOT NULL CHECK (channel IN ('web_push', 'sms', 'fcm')),
    -- What the channel sends to: the push subscription id, the FCM token
    -- id, or for SMS the user id (the phone is read at sending, never
    -- copied here).
    target           TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'dead')),
    -- Claims so far, a crashed one included.
    attempts         BIGINT NOT NULL DEFAULT 0,
    -- When it may be claimed next (quiet hours and backoff move it).
    next_attempt_at  BIGINT NOT NULL,
    -- While sending: when the claim lapses, and the claim's random token.
    lease_until      BIGINT,
    claim            TEXT,
    -- Unique per notification, channel and target.
    idempotency_key  TEXT NOT NULL UNIQUE,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT,
    -- A digest's push: how many notifications it stands for (0017).
    digest_count     BIGINT
);
INSERT INTO deliveries_new (id, notification_id, channel, target, state, attempts,
                            next_attempt_at, lease_until, claim, idempotency_key,
                            last_error, created_at, sent_at, digest_count)
SELECT id, notification_id, channel, target, state, attempts, next_attempt_at,
       lease_until, claim, idempotency_key, last_error, created_at, sent_at, digest_count
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
-- The claim's scan of due rows and the admins' dead-letter list.
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_notification ON deliveries (notification_id);
