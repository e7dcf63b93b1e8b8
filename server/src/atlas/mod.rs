//! The presence atlas (اطلس حضور): where and when children work in the
//! street, by province, county and H3 cell, day by day, so provinces place
//! teams and centres where they are needed.
//!
//! A tour, in the order data travels:
//!
//! - [`periods`]: Tehran days (UTC+03:30, no daylight saving since 2022) and
//!   the periods of the time series — ISO and Jalali weeks and months.
//! - [`subjects`]: what a child (its encounters), a report and an incident
//!   add to the atlas: events with a day, a place, an H3 cell and the child's
//!   dimensions; how an event expands to every area level.
//! - [`rollup`]: write paths queue the subjects they change (`atlas_queue`,
//!   in their own transaction); a background job applies the queue to the
//!   rollup tables every 2 seconds (the stated lag), crash-safe and never
//!   twice; `kudakyar atlas rebuild` recomputes everything.
//! - [`totals`], [`sketch`]: sums and sets of children per area and day,
//!   Jalali week and month, what unfiltered maps and series read; a set is
//!   exact up to 512 children and a HyperLogLog past that;
//!   [`sketch_cache`] keeps the sketches a server has read by row and stamp,
//!   so a map reads the bytes of the rows that changed only;
//!   [`piece_cache`] keeps each period a read added up, by the period's
//!   checksum, so a map reads the rows of the periods that changed only
//!   (both on [`lru`]).
//! - [`query`]: figures per area or period from the rollups, scoped and
//!   filtered; distinct children exact for a day and area, and for unions
//!   exact up to 512, estimated (1.6 %) past that unless a filter asks for
//!   the exact presence rows.
//! - [`privacy`]: no exact point; small figures suppressed; scope.
//! - [`zones`]: zoning classes (quantiles, equal, Jenks, fixed), rates per
//!   population, breaks frozen per Jalali year.
//! - [`hotspots`]: the emerging hot-spot run (Gi\*, FDR, Mann-Kendall,
//!   ArcGIS categories) stored nightly and on demand.
//! - [`routes`]: `/api/v1/atlas/…`, JSON, GeoJSON and CSV with ETags.
//! - [`svg`]: the printable SVG map of a province (county classes, legend,
//!   Persian title, Jalali period, attribution).

pub mod hotspots;
pub mod lru;
pub mod periods;
pub mod piece_cache;
pub mod privacy;
pub mod query;
pub mod rollup;
pub mod routes;
pub mod sketch;
pub mod sketch_cache;
pub mod subjects;
pub mod svg;
pub mod totals;
pub mod zones;
