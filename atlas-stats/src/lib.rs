//! The statistics behind the presence atlas (issue 17): pure functions, no I/O,
//! no server types, so the nightly job, the endpoints and the tests share them.
//!
//! A tour, in the order the nightly hot-spot run uses them:
//!
//! - [`breaks`]: class breaks for the zoning map (quantiles, equal intervals,
//!   Fisher-Jenks natural breaks, fixed thresholds) and the class of a value
//!   (low / medium / high / critical, or any `k`);
//! - [`gistar`]: the Getis-Ord Gi\* z-score of every cell over a weights list
//!   (for H3, the k-ring with the cell itself, binary weights), its two-sided
//!   p-value and the Benjamini-Hochberg false-discovery-rate correction;
//! - [`normal`]: the standard normal tail, accurate far out (via `erfc`);
//! - [`mann_kendall`]: the Mann-Kendall trend test (S, var(S) with ties, z, p)
//!   and Sen's slope;
//! - [`emerging`]: ArcGIS's Emerging Hot Spot Analysis categories from each
//!   cell's series of (z, p) and the Mann-Kendall trend of its z-scores, and the
//!   whole space-time run ([`emerging::analyse`]).
//!
//! Every failure is one [`Error`] variant that says why in words a provincial
//! user can be shown (too few weeks, too few events, constant data…).
//!
//! The peer checks (`tests/peer.rs`) compare these functions with PyPI's
//! `jenkspy`, `esda` and `pymannkendall` on seeded fixtures within 1e-6.

pub mod breaks;
pub mod emerging;
mod error;
pub mod gistar;
pub mod mann_kendall;
pub mod normal;

pub use error::Error;
