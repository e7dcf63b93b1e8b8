-- Notifications (issue 18): what rule 3, the SMS escalation and the digests
-- need.

-- Rule 3: an encounter's next follow-up date (YYYY-MM-DD, Asia/Tehran),
-- copied out of its details so the scheduler can query it, and how far its
-- reminders went: 0 none, 1 the worker was told it is due, 2 the
-- supervisors were told it is overdue. Encounters stored before this
-- migration get their date from their details.
ALTER TABLE encounters ADD COLUMN next_follow_up TEXT;
ALTER TABLE encounters ADD COLUMN follow_up_told BIGINT NOT NULL DEFAULT 0
    CHECK (follow_up_told IN (0, 1, 2));
UPDATE encounters SET next_follow_up = json_extract(details, '$.next_follow_up');
CREATE INDEX encounters_follow_up ON encounters (next_follow_up)
    WHERE next_follow_up IS NOT NULL;

-- The phone an SMS escalation goes to (E.164, e.g. +989121234567); never
-- exported or logged.
ALTER TABLE users ADD COLUMN phone TEXT;

-- The escalation's scan: critical notifications nobody has read yet.
CREATE INDEX notifications_critical_unread ON notifications (created_at)
    WHERE critical = 1 AND read_at IS NULL;

-- A daily digest instead of one push per non-critical notification (0 or 1).
ALTER TABLE notification_preferences ADD COLUMN digest BIGINT NOT NULL DEFAULT 0
    CHECK (digest IN (0, 1));
-- A digest's push: how many notifications it stands for (it points at the
-- newest); null for a push of one notification.
ALTER TABLE deliveries ADD COLUMN digest_count BIGINT;
