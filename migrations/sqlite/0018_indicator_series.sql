-- An indicator's figures for one area over a period (a quarter's series, the
-- API's from/to): the primary key starts with the day, so such a read would
-- scan every area's and indicator's rows of each day in the period.
CREATE INDEX indicator_values_series ON indicator_values (indicator, area, day);
