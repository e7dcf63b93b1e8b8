//! Programme monitoring (issue 19): are field visits real, how heavy are
//! caseloads, how fast do children get follow-up, what becomes of each
//! registration cohort, how many closed children come back to the street.
//!
//! - [`verification`]: each encounter's verification level (iris-verified,
//!   location-verified, unverified), decided when it is stored, and the
//!   record of iris identifications that can verify one.
//! - [`period`]: days in Iran's time and Jalali quarters.
//! - [`definitions`]: every indicator, defined once with its formula, and
//!   the computation of a day's figures from [`facts`] (what is read from
//!   the registry).
//! - [`job`]: materialising a day (the nightly job, one run per day across
//!   instances and restarts) and `kudakyar indicators rebuild`.
//! - [`read`]: the figures for the API and the report — scoped, small
//!   counts suppressed below national_admin.
//! - [`routes`]: the endpoints under `/api/v1/indicators`.
//! - [`report`]: `kudakyar report quarterly`, a self-contained HTML page.
//!
//! Figures are computed ahead, never when read: a read is one indexed query
//! on the materialised tables.

pub mod definitions;
pub mod facts;
pub mod job;
pub mod period;
pub mod read;
pub mod report;
pub mod routes;
pub mod verification;
