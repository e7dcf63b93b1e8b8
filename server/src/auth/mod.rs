//! Who is calling, and what they may do.
//!
//! - [`password`]: argon2id hashing and verification.
//! - [`session`]: opaque bearer tokens, stored hashed, with expiry and revocation.
//! - [`throttle`]: failed-login counters per username and per IP, in the database
//!   so every server instance sees the same counts.
//! - [`policy`]: the one place that decides access; every query that reads or
//!   writes registry data takes the caller's [`policy::Scope`].
//! - [`actor`]: the [`Actor`] extractor that turns a bearer token into a caller.
//! - [`routes`]: `/api/v1/auth/login`, `/logout`, `/me`.

pub mod actor;
pub mod password;
pub mod policy;
pub mod routes;
pub mod session;
pub mod throttle;

pub use actor::Actor;
pub use policy::Scope;
