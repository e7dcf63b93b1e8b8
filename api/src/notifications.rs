//! The in-app inbox: what a user has been told (a new report in their county,
//! something assigned to them), newest first, read or not. A notification
//! names its kind and the subject the app opens, never a child's name or a
//! place: the inbox may be shown on a shared or lost phone.

use serde::{Deserialize, Serialize};

/// One notification in the caller's inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    /// Grows with every notification; also the SSE event id to resume after.
    pub id: i64,
    /// What happened: `sighting_received`, `sighting_assigned`, …
    pub kind: String,
    /// Critical notifications cannot be muted.
    pub critical: bool,
    /// What the app opens, e.g. `sighting` …
    pub subject_type: String,
    /// … and which one.
    pub subject_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; absent while unread.
    pub read_at: Option<String>,
}

/// How many of the caller's notifications are unread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCount {
    pub unread: i64,
}

/// The answer to "mark all read": how many were unread until now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkedRead {
    pub marked: i64,
}
