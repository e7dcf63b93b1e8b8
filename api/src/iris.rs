//! Iris recognition in the registry: enrolment of eye captures, 1:N
//! identification, registration with deduplication, and the duplicate-review
//! queue. Templates and raw captures never appear in any of these types.

use serde::{Deserialize, Serialize};

use crate::children::Child;

/// Which eye a capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Eye {
    Left,
    Right,
}

impl Eye {
    pub fn as_str(self) -> &'static str {
        match self {
            Eye::Left => "left",
            Eye::Right => "right",
        }
    }

    pub fn parse(s: &str) -> Option<Eye> {
        match s {
            "left" => Some(Eye::Left),
            "right" => Some(Eye::Right),
            _ => None,
        }
    }
}

/// Whether the registry is sure a record is a child of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// No unresolved iris match with another record.
    #[default]
    Confirmed,
    /// Registered while an iris match with another record was unresolved
    /// (e.g. queued offline): a supervisor decides.
    PendingReview,
}

/// The engine's verdict on one capture, in words for the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptureQuality {
    pub usable: bool,
    /// Why to retake, e.g. "blurred", "eye not open enough".
    pub reasons: Vec<String>,
    /// % of the iris band usable after eyelids, lashes and reflections.
    pub usable_iris_area: f32,
    pub iris_diameter_px: f32,
    pub sharpness: f32,
}

/// One stored iris template of a child (the template itself is never sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IrisEnrolment {
    pub id: String,
    pub child_id: String,
    pub eye: Eye,
    pub quality: CaptureQuality,
    pub created_at: String,
}

/// A child whose stored iris matches a capture, inside the caller's scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IrisCandidate {
    pub child_id: String,
    pub registry_code: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// `/api/v1/children/{id}/photos/{photo}/thumbnail` of the newest photo.
    pub thumbnail_url: Option<String>,
    /// The fused distance (the smaller of the per-eye distances): 0 is
    /// identical, about 0.45–0.5 unrelated; matches are under the threshold.
    pub distance: f32,
    /// The eye of the capture that matched best.
    pub eye: Eye,
    /// Distance per captured eye, where that eye matched.
    pub left_distance: Option<f32>,
    pub right_distance: Option<f32>,
}

/// The answer to an identification: matches in scope, and whether a match
/// exists outside it (which reveals nothing else about that child).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IrisMatches {
    pub candidates: Vec<IrisCandidate>,
    /// A possible match exists in a province outside your scope.
    pub match_elsewhere: bool,
    /// The quality of each capture sent.
    pub captures: Vec<CaptureReport>,
    /// This identification as the server recorded it: an encounter with a
    /// matched child made soon after may name it (`iris_identification`) to
    /// be iris-verified. Absent where nothing was recorded (registrations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptureReport {
    pub eye: Eye,
    pub quality: CaptureQuality,
}

/// What an enrolment did: the templates stored and the other children
/// they match (a review task was opened for each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentResult {
    pub enrolled: Vec<IrisEnrolment>,
    pub matches: IrisMatches,
    /// Duplicate-review tasks opened by this request.
    pub reviews_opened: usize,
}

/// What the worker decided after seeing the candidates; a registration
/// queued offline says `unreviewed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegistrationDecision {
    /// The worker saw no candidates (offline): any match makes the record
    /// "identity pending review".
    #[default]
    Unreviewed,
    /// The worker saw the candidates and says this is another child: the
    /// record is created; any match still opens a review task.
    NewChild,
}

/// The answer to `POST /api/v1/registrations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registration {
    pub child: Child,
    pub enrolled: Vec<IrisEnrolment>,
    pub matches: IrisMatches,
    pub reviews_opened: usize,
}

/// Why a duplicate review was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewReason {
    /// A registration that arrived without the worker seeing candidates.
    OfflineRegistration,
    /// The worker saw the candidates and registered a new child anyway.
    DeclaredNewChild,
    /// A capture added to an existing record matches another record.
    Enrolment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// The two records are one child: they are merged.
    SameChild,
    DifferentChildren,
}

/// One side of a review: the full record when it is in your scope, else only
/// its province.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewSide {
    pub child_id: Option<String>,
    pub province: String,
    pub child: Option<Child>,
    /// Thumbnail URLs of the record's photos (in scope only).
    pub thumbnails: Vec<String>,
    /// Encounters of the record (in scope only), newest first.
    pub encounters: Vec<crate::children::Encounter>,
}

/// A pending or decided duplicate review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    pub id: String,
    pub reason: ReviewReason,
    /// The newer record (registered or enrolled while matching).
    pub record: ReviewSide,
    /// The older record it matches.
    pub candidate: ReviewSide,
    pub left_distance: Option<f32>,
    pub right_distance: Option<f32>,
    pub opened_at: String,
    pub decision: Option<ReviewDecision>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// Set when the decision merged the records.
    pub merge_id: Option<String>,
}

/// `POST /api/v1/iris/reviews/{id}/decision`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewVerdict {
    pub decision: ReviewDecision,
    /// For `same_child`: the record that stays (default: the older one).
    pub survivor_id: Option<String>,
    pub reason: Option<String>,
}
