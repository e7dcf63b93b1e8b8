-- Case work under concurrent writers.

-- A merge moves the duplicate's referrals to the survivor (its open files
-- count once, on the record that lives) and remembers them for an undo.
ALTER TABLE child_merges ADD COLUMN moved_referrals TEXT NOT NULL DEFAULT '[]';

-- Reviews whose record was merged away are closed by that merge.
UPDATE identity_reviews SET merge_id = (
    SELECT m.id FROM child_merges m JOIN children c ON c.id = m.duplicate_id
    WHERE m.undone_at IS NULL AND c.merged_into IS NOT NULL
      AND m.duplicate_id IN (identity_reviews.child_id, identity_reviews.candidate_id)
    ORDER BY m.merged_at DESC LIMIT 1)
WHERE decided_at IS NULL;
UPDATE identity_reviews SET
    decided_at = (SELECT merged_at FROM child_merges WHERE id = identity_reviews.merge_id),
    decided_by = (SELECT merged_by FROM child_merges WHERE id = identity_reviews.merge_id)
WHERE decided_at IS NULL AND merge_id IS NOT NULL;
UPDATE children SET identity_review_since = NULL
WHERE identity_review_since IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM identity_reviews r
    WHERE (r.child_id = children.id OR r.candidate_id = children.id) AND r.decided_at IS NULL);

-- One review per pair of records, in either order: of (A, B) and (B, A) the
-- decided one stays, else the one opened first.
DELETE FROM identity_reviews WHERE id IN (
    SELECT later.id FROM identity_reviews kept JOIN identity_reviews later
      ON kept.child_id = later.candidate_id AND kept.candidate_id = later.child_id
    WHERE (kept.decided_at IS NOT NULL AND later.decided_at IS NULL)
       OR ((kept.decided_at IS NULL) = (later.decided_at IS NULL)
           AND (kept.opened_at < later.opened_at
                OR (kept.opened_at = later.opened_at AND kept.id < later.id))));
CREATE UNIQUE INDEX identity_reviews_pair
    ON identity_reviews (LEAST(child_id, candidate_id), GREATEST(child_id, candidate_id));
