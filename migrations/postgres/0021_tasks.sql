-- A user's tasks (`GET /api/v1/tasks`, server/src/tasks) are read by the
-- user's own rows: the children assigned to them, the reports assigned to
-- them (still to visit), the referrals they made. Without these each read
-- went through the scope's or the whole table.
CREATE INDEX children_assigned ON children (assigned_worker) WHERE assigned_worker IS NOT NULL;
CREATE INDEX sightings_assigned ON sightings (assigned_to, state) WHERE assigned_to IS NOT NULL;
CREATE INDEX referrals_created_by ON referrals (created_by, state);

-- Each worker's overdue follow-ups, materialised with their day's figures
-- (the team screen); days computed before this read 0 until rebuilt.
ALTER TABLE indicator_workers ADD COLUMN overdue_follow_ups BIGINT NOT NULL DEFAULT 0;
