-- The orphan sweep asks, for each sealed capture in the object store,
-- whether a template row still points to it.
CREATE INDEX iris_templates_capture_key ON iris_templates (capture_key);
