//! Who is calling, and what they may do.
//!
//! - [`password`]: argon2id hashing and verification; [`password::Checks`]
//!   bounds the checks running at once and the memory they use.
//! - [`session`]: opaque bearer tokens, stored hashed, with expiry and revocation.
//! - [`throttle`]: login counters per (username, address), per username and per
//!   address, in the database so every server instance sees the same counts;
//!   an attempt is counted before its password is checked.
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
