//! The server's integration tests, in one binary (one link step of axum,
//! sqlx and image instead of one per file), a module per area.
//!
//! Storage tests run on SQLite and, when `KUDAKYAR_TEST_POSTGRES_URL` is set,
//! on PostgreSQL too (see [`common::TestDb`] and `on_both_backends!`).
//! Run one area with `cargo test -p kudakyar --test it children::`.

#[macro_use]
mod common;

mod atlas;
mod atlas_svg;
mod audit;
mod auth;
mod cases;
mod children;
mod concurrency;
mod demo;
mod exports;
mod geo;
mod http_conventions;
mod indicators;
mod iris;
mod notifications;
mod notify_delivery;
mod notify_fcm;
mod notify_rules;
mod openapi;
mod photos;
mod rbac;
mod schema_parity;
mod sightings;
mod sightings_triage;
mod storage;
mod tasks;
mod users;
mod write_concurrency;
