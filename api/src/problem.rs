//! RFC 9457 problem details: the body of every error answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For validation problems: field name → messages.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, Vec<String>>,
    /// For conflicts: the record as stored now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<serde_json::Value>,
    /// For update conflicts: the fields both sides changed, with both values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<serde_json::Value>,
    /// The request id, to quote when reporting the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
