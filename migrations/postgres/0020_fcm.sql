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

-- The outbox gains the channel 'fcm' (its target: an fcm_tokens id). The
-- check 0015 declared inline has PostgreSQL's default name.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('web_push', 'sms', 'fcm'));
