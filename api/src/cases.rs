//! Case work: merging duplicate records, service centres and referrals.

use serde::{Deserialize, Serialize};

use crate::children::Service;

/// `POST /api/v1/children/{survivor}/merge`: the other record is the same child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The record that becomes a tombstone pointing at the survivor.
    pub duplicate_id: String,
    pub reason: Option<String>,
}

/// A merge, as stored; undoable for 30 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Merge {
    pub id: String,
    pub survivor_id: String,
    pub duplicate_id: String,
    pub moved_encounters: Vec<String>,
    pub moved_photos: Vec<String>,
    /// Iris templates moved to the survivor.
    #[serde(default)]
    pub moved_iris: Vec<String>,
    /// Referrals moved to the survivor (its open files count once).
    #[serde(default)]
    pub moved_referrals: Vec<String>,
    pub added_aliases: Vec<String>,
    pub reason: Option<String>,
    pub merged_by: String,
    pub merged_at: String,
    pub undone_at: Option<String>,
}

/// `POST /api/v1/centres`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCentre {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        )
    )]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub address: Option<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = -90, maximum = 90))]
    pub lat: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = -180, maximum = 180))]
    pub lng: f64,
    /// ISO 3166-2 province code.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^IR-(0[0-9]|[12][0-9]|30)$"))]
    pub province: String,
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9_-]{1,16}$"))]
    pub county: Option<String>,
    #[serde(default)]
    pub services: Vec<Service>,
    /// Open files the centre can hold; 450 when left out.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
    pub capacity: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Centre {
    pub id: String,
    pub name: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lng: f64,
    pub province: String,
    pub county: Option<String>,
    pub services: Vec<Service>,
    pub capacity: i64,
    /// Referrals sent or accepted and not yet completed.
    pub open_files: i64,
}

/// A centre suggested for a child: nearest first, only with free capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CentreSuggestion {
    pub centre: Centre,
    /// From the child's last encounter; absent when the child has none.
    pub distance_km: Option<f64>,
    pub free_capacity: i64,
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReferralState {
    Sent,
    Accepted,
    Rejected,
    Completed,
}

/// `POST /api/v1/referrals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewReferral {
    /// Client-generated UUID for idempotent retries.
    pub id: Option<String>,
    pub child_id: String,
    pub centre_id: String,
    pub note: Option<String>,
}

/// `POST /api/v1/referrals/{id}/state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReferralTransition {
    pub state: ReferralState,
    pub note: Option<String>,
}

/// One step of a referral's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralEvent {
    pub state: ReferralState,
    pub note: Option<String>,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referral {
    pub id: String,
    pub child_id: String,
    pub centre_id: String,
    pub state: ReferralState,
    pub note: Option<String>,
    pub history: Vec<ReferralEvent>,
    pub created_at: String,
    pub updated_at: String,
}
