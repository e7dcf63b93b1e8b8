//! Request and response types shared by the Kudakyar server and its PWA.
//!
//! The server derives OpenAPI schemas for them (feature `openapi`); the wasm PWA
//! compiles the same structs without that cost, so a field renamed on one side
//! is a compile error on the other.
//!
//! - [`auth`]: login, logout, the current user.
//! - [`cases`]: merges, service centres, referrals.
//! - [`children`]: the child record and encounters.
//! - [`indicators`]: programme monitoring figures, suppressed below 5 children.
//! - [`iris`]: iris enrolment, identification, registration and duplicate reviews.
//! - [`sightings`]: citizen, hotline and field reports, their triage and incidents.
//! - [`notifications`]: the in-app inbox.
//! - [`tasks`]: what is the caller's to do next.
//! - [`names`]: the Persian-aware folding of names for search.
//! - [`users`]: user administration.
//! - [`audit`]: the audit log.
//! - [`provinces`]: Iran's 31 provinces, ISO 3166-2:IR code → Persian name.
//! - [`rules`]: the rules a child's facts must meet, checked by both sides.
//! - [`problem`]: the RFC 9457 error body every endpoint answers with.

pub mod audit;
pub mod auth;
pub mod cases;
pub mod children;
pub mod indicators;
pub mod iris;
pub mod names;
pub mod notifications;
pub mod problem;
pub mod provinces;
pub mod rules;
pub mod sightings;
pub mod tasks;
pub mod users;
