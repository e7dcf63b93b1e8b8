//! The audit log as the API shows it (`GET /api/v1/audit`).

use serde::{Deserialize, Serialize};

/// One audit entry: who did what to which resource, when and from where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub role: Option<String>,
    /// e.g. `auth.login`, `auth.login_failed`, `user.create`, `child.read`.
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub detail: Option<serde_json::Value>,
}
