//! The Kudakyar server: the integrated registry of street-working children.
//!
//! A tour of the crate, by domain rather than by technical layer:
//!
//! - [`config`]: the effective configuration (defaults ← TOML file ← `KUDAKYAR_*`
//!   environment ← command-line flags) and its redacted print-out.
//! - [`error`]: the one error type, apart from HTTP (field errors, not found,
//!   conflicts, internal errors); `http::error` renders it as problem+json.
//! - [`db`]: the database, chosen once at start-up (SQLite embedded by default,
//!   PostgreSQL in production). Everything above it speaks portable SQL through
//!   one pool type and never asks which backend runs.
//! - [`geo`]: province and county codes, imported boundaries, and which
//!   province and county a point is in.
//! - [`atlas`]: the presence atlas — rollups kept by a background job,
//!   choropleths, hexes, time series, zoning and emerging hot spots.
//! - [`auth`]: passwords, bearer sessions, login throttling and the one
//!   [`auth::policy`] module that decides who may see and change what.
//! - [`users`]: user accounts and their administration.
//! - [`audit`]: the append-only audit log.
//! - [`registry`]: child records, encounters, Persian-aware search.
//! - [`cases`]: merges of duplicates, service centres, referrals.
//! - [`sightings`]: reports from citizens (no account), the 123 line and
//!   outreach workers; abuse limits, receipts, triage and incidents.
//! - [`tasks`]: a user's follow-ups, assigned reports and open referrals.
//! - [`events`]: the domain events changes write for the notifications.
//! - [`notify`]: the in-app inbox the domain events feed, and its live
//!   stream.
//! - [`demo`]: `kudakyar demo seed`, a synthetic year of children,
//!   encounters and reports for demonstrations.
//! - [`exports`]: streamed CSV / JSON Lines exports.
//! - [`indicators`]: programme monitoring — verified field visits and the
//!   indicators materialised nightly per day and area, with their API and
//!   the quarterly report.
//! - [`media`]: the object store photos and captures go through.
//! - [`biometrics`]: iris enrolment, identification, deduplication before
//!   create, the duplicate-review queue; templates sealed at rest.
//! - [`photos`]: photo uploads (type by content, EXIF stripped) and their
//!   authorised, ETagged reads.
//! - [`http`]: the axum application — routes, middleware, errors, OpenAPI,
//!   metrics and the PWA host.
//! - [`app`]: wiring it all together for `kudakyar serve`.
//! - [`private_fs`]: the data directory 0700 and its files 0600.
//! - [`backup`]: `kudakyar backup` / `restore` of an embedded installation
//!   (database snapshot, media, the biometric key sealed with a passphrase).

pub mod app;
pub mod atlas;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod biometrics;
pub mod cases;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod exports;
pub mod geo;
pub mod http;
pub mod indicators;
pub mod media;
pub mod notify;
pub mod photos;
pub mod private_fs;
pub mod registry;
pub mod sightings;
pub mod tasks;
pub mod users;

/// Milliseconds since the Unix epoch: how every timestamp is stored, so that the
/// same SQL compares and orders times on SQLite and PostgreSQL alike.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Renders a stored millisecond timestamp as RFC 3339 for the API.
pub fn ms_to_rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp from the API into stored milliseconds.
pub fn rfc3339_to_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}
