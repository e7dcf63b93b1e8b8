//! The registry: one record per child across teams and provinces.
//!
//! - [`codes`]: registry codes (with check digits), national codes, Jalali years.
//! - [`names`]: Persian name normalisation and trigram fuzzy matching.
//! - [`validate`]: field-level checks of child facts and encounters.
//! - [`three_way`]: the three-way merge of a phone's offline edits with the
//!   record as stored (not to be confused with [`crate::cases::merges`], which
//!   joins two records of one child).
//! - [`records`]: create (idempotent), read (audited), update (merged three ways).
//! - [`search`]: scoped search by filters or by a fuzzy name.
//! - [`store`]: SQL for children, their version history and name trigrams.
//! - [`encounters`]: each meeting of a worker with a child.
//! - [`routes`]: the `/api/v1/children…` endpoints.
//!
//! Every read of a child record is audited; every query takes the caller's
//! scope, so records outside it are never read.

pub mod codes;
pub mod encounters;
pub mod names;
pub mod records;
pub mod routes;
pub mod search;
pub mod store;
pub mod three_way;
pub mod validate;
