//! Case work after registration.
//!
//! - [`merges`]: a supervisor links two records of the same child; the
//!   survivor keeps everything (referrals included), the duplicate becomes a
//!   redirecting tombstone, and the merge can be undone for 30 days.
//! - [`centres`]: service centres with capacity, and the nearest ones with room.
//! - [`referrals`]: a child referred to a centre: sent → accepted / rejected → completed.
//! - [`routes`]: the HTTP endpoints of all three.

pub mod centres;
pub mod merges;
pub mod referrals;
pub mod routes;
