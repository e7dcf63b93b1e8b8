//! Sightings: a child seen working in the street, reported by a citizen (no
//! account), taken by the 123 line, or noted by an outreach worker; their
//! triage by county teams and the incidents that group repeat reports.
//!
//! A citizen sees only a [`SightingReceipt`] and, later, the [`ReceiptStatus`]
//! of that receipt — never anything about a child, a worker or another report.
//! Staff whose scope holds the report's county see the whole [`Sighting`].

use serde::{Deserialize, Serialize};

use crate::children::{Encounter, Sex, WorkType};

/// Who reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SightingSource {
    /// A member of the public, without an account.
    Citizen,
    /// Taken by phone on the 123 social emergency line.
    Hotline,
    /// An outreach worker saw a child not yet registered.
    Worker,
}

/// An approximate age, as a passer-by can judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgeBand {
    #[serde(rename = "0-5")]
    UpTo5,
    #[serde(rename = "6-11")]
    From6To11,
    #[serde(rename = "12-14")]
    From12To14,
    #[serde(rename = "15-17")]
    From15To17,
}

/// A solved proof-of-work stamp: a nonce whose SHA-256 together with the
/// challenge starts with `difficulty` zero bits (see [`Challenge`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProofOfWork {
    /// The `challenge` of a [`Challenge`], as handed out.
    pub challenge: String,
    /// Any string of at most 64 characters.
    pub nonce: String,
}

/// `POST /api/v1/sightings` (JSON, or the `report` part of a multipart form
/// whose `photo` part is the photo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSighting {
    /// Client-generated UUID: the same id and body again answers 200 with
    /// the same receipt; the same id with another body, 409.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub id: String,
    /// `citizen` when left out. `hotline` and `worker` need a staff login.
    #[serde(default)]
    pub source: Option<SightingSource>,
    /// RFC 3339; now when left out. Not in the future, at most 7 days back.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub seen_at: Option<String>,
    pub lat: f64,
    pub lng: f64,
    /// GPS accuracy in metres.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10000))]
    pub accuracy_m: Option<f64>,
    /// How many children were seen (1–50); 1 when left out.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 50))]
    pub children_count: Option<i64>,
    #[serde(default)]
    pub age_bands: Vec<AgeBand>,
    #[serde(default)]
    pub sex: Option<Sex>,
    #[serde(default)]
    pub activity: Option<WorkType>,
    /// At most 1,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub description: Option<String>,
    /// The reporter's (or caller's) phone, kept only with `phone_consent`.
    #[serde(default)]
    pub reporter_phone: Option<String>,
    /// The reporter agreed that the team may call back.
    #[serde(default)]
    pub phone_consent: bool,
    /// A token the reporting app keeps on its device (8–128 characters), so
    /// that limits hold per device as well as per address.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub device_token: Option<String>,
    /// Leave empty: a field people never see and robots fill in.
    #[serde(default)]
    pub website: Option<String>,
    /// Required once an address has sent many reports (the answer says so).
    #[serde(default)]
    pub proof: Option<ProofOfWork>,
}

/// Where a report stands, as its reporter may know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReceiptState {
    Received,
    BeingFollowedUp,
    Closed,
}

/// The answer to a report: what the reporter keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SightingReceipt {
    pub id: String,
    /// Ten characters in two groups (e.g. `K7M2Q-9XH4T`), to ask about the
    /// report at `GET /api/v1/sightings/receipt/{code}`.
    pub receipt_code: String,
    pub state: ReceiptState,
    pub received_at: String,
}

/// `GET /api/v1/sightings/receipt/{code}`: the state and nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptStatus {
    pub state: ReceiptState,
}

/// `GET /api/v1/sightings/challenge`: a proof-of-work challenge. Find a
/// `nonce` such that SHA-256 of `challenge` + `:` + `nonce` (UTF-8) starts
/// with `difficulty` zero bits, and send both as the report's `proof`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Challenge {
    pub challenge: String,
    pub difficulty: u32,
    pub expires_at: String,
}

/// The triage states: new → assigned → visited → linked, or closed as a
/// duplicate or a false report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SightingState {
    New,
    Assigned,
    Visited,
    Linked,
    Duplicate,
    FalseReport,
}

impl SightingState {
    /// What the reporter is told.
    pub fn receipt(self) -> ReceiptState {
        match self {
            SightingState::New => ReceiptState::Received,
            SightingState::Assigned | SightingState::Visited => ReceiptState::BeingFollowedUp,
            SightingState::Linked | SightingState::Duplicate | SightingState::FalseReport => {
                ReceiptState::Closed
            }
        }
    }

    /// Closed reports take no more steps and join no incident.
    pub fn is_closed(self) -> bool {
        self.receipt() == ReceiptState::Closed
    }
}

/// What a visit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    Found,
    NotFound,
}

/// One step of a report's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SightingEvent {
    pub state: SightingState,
    pub note: Option<String>,
    /// The user who made the step; none for a citizen's report.
    pub by: Option<String>,
    pub at: String,
}

/// A report as staff whose scope holds its county see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sighting {
    pub id: String,
    pub receipt_code: String,
    pub source: SightingSource,
    pub seen_at: String,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub province: Option<String>,
    pub county: Option<String>,
    /// The county's names from the imported boundaries (`kudakyar geo
    /// import`); none before counties are imported.
    pub county_name_fa: Option<String>,
    pub county_name_en: Option<String>,
    pub children_count: i64,
    pub age_bands: Vec<AgeBand>,
    pub sex: Option<Sex>,
    pub activity: Option<WorkType>,
    pub description: Option<String>,
    /// `GET /api/v1/sightings/{id}/photo` serves it.
    pub has_photo: bool,
    pub reporter_phone: Option<String>,
    /// Why the report needs a second look, e.g. `far_apart`: the same
    /// device reported from places too far apart for the time between.
    pub flag: Option<String>,
    pub state: SightingState,
    pub visit_outcome: Option<VisitOutcome>,
    pub assigned_to: Option<String>,
    pub incident_id: String,
    pub linked_children: Vec<String>,
    pub history: Vec<SightingEvent>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/v1/sightings/{id}/assign`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignSighting {
    /// An outreach worker or supervisor whose scope holds the report's county.
    pub worker_id: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/sightings/{id}/visit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitSighting {
    pub outcome: VisitOutcome,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/sightings/{id}/link`: the report was about these children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkSighting {
    /// 1–50 child records in the caller's scope.
    pub child_ids: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Why a report is closed without a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Duplicate,
    FalseReport,
}

/// `POST /api/v1/sightings/{id}/close`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CloseSighting {
    pub reason: CloseReason,
    #[serde(default)]
    pub note: Option<String>,
}

/// Reports of one place and evening, to visit once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: String,
    pub province: Option<String>,
    pub county: Option<String>,
    pub lat: f64,
    pub lng: f64,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub report_count: i64,
    /// Reports not yet linked or closed.
    pub open_count: i64,
    pub sighting_ids: Vec<String>,
}

/// `POST /api/v1/incidents/{id}/split`: these reports leave for a new incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SplitIncident {
    pub sighting_ids: Vec<String>,
}

/// `POST /api/v1/incidents/{id}/join`: these incidents' reports move here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinIncidents {
    pub incident_ids: Vec<String>,
}

/// A report as it shows on the timeline of a child it was linked to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedSighting {
    pub id: String,
    pub source: SightingSource,
    pub seen_at: String,
    pub lat: f64,
    pub lng: f64,
    pub state: SightingState,
    /// When the report was linked to this child.
    pub linked_at: String,
}

/// One entry of `GET /api/v1/children/{id}/timeline`: an encounter, or a
/// report linked to the child; `at` is when the child was met or seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineEntry {
    Encounter {
        at: String,
        // Boxed: an encounter is several times the size of a linked report.
        encounter: Box<Encounter>,
    },
    Sighting {
        at: String,
        sighting: LinkedSighting,
    },
}
