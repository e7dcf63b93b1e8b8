//! Sightings: reports of a child seen working in the street, from citizens
//! without an account, from the 123 social emergency line, and from outreach
//! workers who saw a child not yet registered. All three feed one triage
//! queue per county, and later the atlas.
//!
//! A tour, in the order a report travels:
//!
//! - [`intake`]: `POST /api/v1/sightings` — validation, the idempotent
//!   create by client id, the photo, and everything the report gets at write
//!   time (its [`place`], its incident by [`grouping`], a [`receipt`] code,
//!   a flag from [`abuse`]), in one transaction with its history row, its
//!   domain event ([`crate::events`]) and its audit entry.
//! - [`writer`]: group commit — reports arriving together share one
//!   transaction and one disk flush.
//! - [`abuse`]: what keeps public intake usable — counters per address and
//!   device in the database (so they hold across instances), the
//!   proof-of-work stamp past the soft limit, and the far-apart flag.
//! - [`receipt`]: the reporter's code and the state it tells (nothing more).
//! - [`place`]: inside the country? which province and county?
//! - [`grouping`]: reports within about 200 m and two hours are one incident.
//! - [`store`]: the column list, row mapper, scope filter and history rows.
//! - [`retention`]: reporters' phones cleared after their retention.
//! - [`routes`]: the public endpoints (report, receipt, challenge) and the
//!   report's photo.
//!
//! Then the staff side, where county teams act on reports:
//!
//! - [`triage`]: the queue (filters, keyset pages, scope) and the steps
//!   assign → visit → link, or close; one conditional update each, so a
//!   retry or ten identical requests at once make one step.
//! - [`incidents`]: the incident list and detail; supervisors split and join.
//! - [`timeline`]: a child's encounters and linked reports, newest first.
//! - [`relocate`]: places every report and incident again (`kudakyar
//!   sightings relocate`).
//! - [`triage_routes`]: their endpoints, merged into the API beside [`routes`].

pub mod abuse;
pub mod grouping;
pub mod incidents;
pub mod intake;
pub mod place;
pub mod receipt;
pub mod relocate;
pub mod retention;
pub mod routes;
pub mod store;
pub mod timeline;
pub mod triage;
pub mod triage_routes;
pub mod writer;

/// Reports closer than this (metres) …
pub const INCIDENT_RADIUS_M: f64 = 200.0;
/// … and nearer in time than this (milliseconds) share an incident.
pub const INCIDENT_WINDOW_MS: i64 = 2 * 3600 * 1000;
