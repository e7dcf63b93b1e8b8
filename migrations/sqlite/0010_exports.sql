-- Exports read in batches ordered by these keys, each batch starting after
-- the last key of the one before (keyset pagination): the indexes make every
-- batch a range scan instead of a sort of the whole table.
CREATE INDEX children_created ON children (created_at, id);
CREATE INDEX encounters_at ON encounters (at, id);
