-- Delivery of notifications beyond the inbox (issue 18): the push
-- subscriptions of users' devices and the delivery outbox.

-- A browser's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys).
-- The endpoint is unique: a browser re-subscribing sends the same one, and
-- a device handed to another user moves to them.
CREATE TABLE push_subscriptions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    endpoint    TEXT NOT NULL UNIQUE,
    -- The browser's P-256 public key (65 bytes) and auth secret (16
    -- bytes), base64url without padding, as the Push API gives them.
    p256dh      TEXT NOT NULL,
    auth        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
-- fan_out's "the devices of this user".
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- The outbox: one row per notification and channel target (a push
-- subscription; a user's phone for an SMS escalation), written in the
-- transaction of the notification (or of the escalation) and delivered by
-- the background worker.
--   queued  → sending (claimed: lease_until and claim set, attempts + 1)
--   sending → sent | failed (next_attempt_at after a backoff) | dead
--   sending with lease_until passed: the claimer died, it is claimed again.
--   dead    → queued only by an administrator's retry.
CREATE TABLE deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  BIGINT NOT NULL REFERENCES notifications (id),
    channel          TEXT NOT NULL CHECK (channel IN ('web_push', 'sms')),
    -- What the channel sends to: the push subscription id, or for SMS the
    -- user id (the phone is read at sending, never copied here).
    target           TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'dead')),
    -- Claims so far, a crashed one included (so a message that kills the
    -- sender cannot loop for ever).
    attempts         BIGINT NOT NULL DEFAULT 0,
    -- When it may be claimed next (quiet hours and backoff move it).
    next_attempt_at  BIGINT NOT NULL,
    -- While sending: when the claim lapses, and the claim's random token,
    -- which every outcome must name (a lapsed claimer's late answer is
    -- ignored).
    lease_until      BIGINT,
    claim            TEXT,
    -- Unique per notification, channel and target: what the receiver may
    -- deduplicate on (sent as the push Topic / SMS local id).
    idempotency_key  TEXT NOT NULL UNIQUE,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
-- The claim's scan of due rows and the admins' dead-letter list.
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_notification ON deliveries (notification_id);

-- Each user's choices about push (the inbox always gets everything): kinds
-- they muted (never a critical one), and quiet hours in Asia/Tehran time —
-- minutes after local midnight, the window may wrap past midnight — with
-- Friday, the weekend, optionally quiet all day. Non-critical pushes that
-- fall in a quiet time wait for its end. No row: nothing muted, no quiet.
CREATE TABLE notification_preferences (
    user_id       TEXT PRIMARY KEY REFERENCES users (id),
    -- Comma-separated notification kinds, e.g. 'sighting_received'.
    muted_kinds   TEXT NOT NULL DEFAULT '',
    quiet_start   BIGINT CHECK (quiet_start BETWEEN 0 AND 1439),
    quiet_end     BIGINT CHECK (quiet_end BETWEEN 0 AND 1439),
    quiet_friday  BIGINT NOT NULL DEFAULT 0 CHECK (quiet_friday IN (0, 1)),
    updated_at    BIGINT NOT NULL
);

-- The scheduler's runs: one row per rule and period (e.g. a Tehran week),
-- inserted in the run's own transaction, so each period runs once however
-- many instances and restarts.
CREATE TABLE scheduled_runs (
    rule    TEXT NOT NULL,
    period  TEXT NOT NULL,
    ran_at  BIGINT NOT NULL,
    PRIMARY KEY (rule, period)
);
