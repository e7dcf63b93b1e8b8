-- The reports near a new one, for grouping it into an incident: a band of
-- latitude about 400 m wide, then longitude and time. By time alone
-- (`sightings_seen`) the search read every report of the country within
-- ±2 hours, so each report cost more as an evening filled up.
CREATE INDEX sightings_nearby ON sightings (lat, lng, seen_at);
