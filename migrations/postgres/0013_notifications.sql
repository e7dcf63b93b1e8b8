-- The in-app inbox (issue 18): one row per user told of a domain event,
-- written in the same transaction as the event (the transactional outbox).
-- The id orders a user's inbox and is the SSE event id a client resumes
-- after (Last-Event-ID), so it only ever grows.
CREATE TABLE notifications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    -- The domain event's kind, e.g. sighting_received.
    kind            TEXT NOT NULL,
    -- 0 or 1 (an integer on both backends, so the one Any pool reads it
    -- alike); critical notifications cannot be muted.
    critical        BIGINT NOT NULL DEFAULT 0 CHECK (critical IN (0, 1)),
    -- What the app opens; never a child's name or a place.
    subject_type    TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    domain_event_id BIGINT NOT NULL REFERENCES domain_events (id),
    created_at      BIGINT NOT NULL,
    read_at         BIGINT
);
-- The inbox, its pages, the unread count and each stream's "newer than".
CREATE INDEX notifications_user ON notifications (user_id, id);
