-- Name search at national scale (issue 4: 100 000 children, search p95 ≤ 50 ms).
--
-- Each name trigram carries its child's home province and county, copied
-- from `children` on every write of the trigrams and kept in step when a
-- record moves (server/src/registry/store.rs). A provincial or county search
-- then reads only its own part of the index instead of every child in the
-- country sharing a trigram. The search still checks the scope on `children`
-- itself, so these copies only ever narrow the candidates.
ALTER TABLE child_name_grams ADD COLUMN home_province TEXT;
ALTER TABLE child_name_grams ADD COLUMN home_county TEXT;

-- Existing rows take the values of their child.
UPDATE child_name_grams g
SET home_province = c.home_province,
    home_county = c.home_county
FROM children c
WHERE c.id = g.child_id;

-- Covers the scoped lookup: province, then trigram, then county, then child.
CREATE INDEX child_name_grams_scope ON child_name_grams (home_province, gram, home_county, child_id);
