//! A user's tasks (`GET /api/v1/tasks`): what is theirs to do next — the
//! follow-ups of their children that are due, the reports assigned to them
//! to visit, the referrals of their children still open. The worker's «my
//! tasks» screen, also kept on the phone for offline use.

use serde::{Deserialize, Serialize};

use crate::cases::ReferralState;

/// The caller's tasks, each list in the order to do them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tasks {
    /// The day the lists were made for (`YYYY-MM-DD`, Tehran).
    pub today: String,
    /// Follow-ups due within a week, the most overdue first.
    pub follow_ups: Vec<FollowUpTask>,
    /// Reports assigned to the caller and not yet visited, oldest first.
    pub reports: Vec<ReportTask>,
    /// Referrals of the caller's children that are sent or accepted, the
    /// longest waiting first.
    pub referrals: Vec<ReferralTask>,
}

/// A child to see again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpTask {
    pub child_id: String,
    pub registry_code: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The follow-up date the last encounter set (`YYYY-MM-DD`).
    pub due: String,
    /// Days past `due` (negative: days left).
    pub days_overdue: i64,
}

/// A report to visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportTask {
    pub id: String,
    pub incident_id: String,
    /// RFC 3339.
    pub seen_at: String,
    /// RFC 3339: when it was assigned.
    pub assigned_at: String,
    pub county: Option<String>,
    pub children_count: i64,
}

/// A referral waiting on a centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralTask {
    pub id: String,
    pub child_id: String,
    pub registry_code: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub centre_name: String,
    pub state: ReferralState,
    /// RFC 3339: the last change.
    pub updated_at: String,
}
