//! Places: Iran's provinces and counties — their codes as the API takes them,
//! their boundaries, and which one a point is in.
//!
//! - [`import`]: `kudakyar geo import` reads GeoJSON admin boundaries (OSM
//!   tags), simplifies them for display and replaces the `boundaries` table in
//!   one transaction. It also says how a county gets its code.
//! - [`builtin`]: the province outlines a fresh install imports with
//!   `kudakyar geo import --builtin` (Natural Earth, embedded).
//! - [`index`]: the boundaries in memory — an R-tree over bounding boxes, then
//!   exact point in polygon — answering "which province and county is this
//!   point in", with a tolerance for borders and coasts. Each [`crate::db::Db`]
//!   holds one [`index::Cache`], so the server and the commands share the rule.
//! - [`backfill`]: places stored rows again after an import
//!   (`kudakyar geo backfill`, and `kudakyar sightings relocate`).

pub mod backfill;
pub mod builtin;
pub mod import;
pub mod index;

pub use index::{Index, Place};

/// Checks a position as every endpoint takes it: `lat` and `lng` finite and
/// on the globe, each named in the error.
pub fn check_position(v: &mut crate::error::Validator, lat: f64, lng: f64) {
    v.check(
        lat.is_finite() && (-90.0..=90.0).contains(&lat),
        "lat",
        "must be between -90 and 90",
    );
    v.check(
        lng.is_finite() && (-180.0..=180.0).contains(&lng),
        "lng",
        "must be between -180 and 180",
    );
}

// The code rules are the PWA's too.
pub use kudakyar_api::rules::{is_county_code, is_province_code};
