//! The child record and its encounters (`/api/v1/children…`).
//!
//! Names are all optional: children often give no name, or a false one. Every
//! enumerated field rejects unknown values, so the PWA and the server agree on
//! the vocabulary at compile time.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }
    };
}

vocabulary!(
    /// Sex as recorded by the worker.
    Sex { Male, Female, Unknown }
);
vocabulary!(
    /// Nationality as stated or documented.
    Nationality { Iranian, Afghan, Pakistani, Iraqi, Other, Stateless, Unknown }
);
vocabulary!(
    /// Languages the child speaks.
    Language { Persian, Dari, Pashto, Azerbaijani, Kurdish, Balochi, Arabic, Other }
);
vocabulary!(
    /// Kinds of street work observed.
    WorkType {
        StreetVending, Begging, WastePicking, CarWindowWashing, SellingFlowersOrPoems,
        Porter, StreetMusic, ShoeShining, Other,
    }
);
vocabulary!(
    /// Where and with whom the child lives.
    LivingSituation { WithParents, WithRelatives, WithEmployer, Alone, Street, Shelter, Unknown }
);
vocabulary!(
    /// Schooling.
    SchoolStatus { Enrolled, Dropped, NeverEnrolled, Unknown }
);
vocabulary!(
    /// Risks that call for action.
    RiskFlag { NeedsMedicalCare, Disability, SignsOfAbuse, SubstanceExposure }
);
vocabulary!(
    /// The case lifecycle: active → referred → in service → reunified / closed / moved away.
    Status { Active, Referred, InService, Reunified, Closed, MovedAway }
);
impl Status {
    /// Whether the case lifecycle allows a change from `self` to `to` (the
    /// server enforces it; the PWA offers only these).
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        self == to
            || matches!(
                (self, to),
                (Active, Referred | Reunified | Closed | MovedAway)
                    | (Referred, InService | Active | Closed | MovedAway)
                    | (InService, Reunified | Closed | MovedAway | Active)
                    | (Reunified | Closed | MovedAway, Active)
            )
    }
}

vocabulary!(
    /// How precisely the birth date is known.
    BirthPrecision { Exact, Year, Estimated }
);
vocabulary!(
    /// Services given at an encounter.
    Service { Food, Clothing, MedicalReferral, SchoolReferral, Counselling, LegalAid, Other }
);

/// Birth date with its precision: an exact date, a year only, or an age the
/// worker estimated at registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Birth {
    pub precision: BirthPrecision,
    /// `YYYY-MM-DD` (Gregorian) when `precision` is `exact`.
    pub date: Option<String>,
    /// Gregorian year when `precision` is `year`.
    pub year: Option<i32>,
    /// Age in years when `precision` is `estimated`.
    pub estimated_age: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Guardian {
    pub name: Option<String>,
    /// e.g. mother, uncle.
    pub relation: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Who consented (guardian's name, or "self").
    pub given_by: String,
    /// RFC 3339.
    pub given_at: String,
    /// The child's own assent.
    pub child_assent: bool,
}

/// The facts a worker records about a child: the body of a create, and the
/// fields an update may change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChildFacts {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 100,
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        )
    )]
    pub given_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 100,
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        )
    )]
    pub family_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 100,
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        )
    )]
    pub father_name: Option<String>,
    /// Nicknames and other names the child has given.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub aliases: Vec<String>,
    pub sex: Sex,
    #[serde(default)]
    pub birth: Option<Birth>,
    pub nationality: Nationality,
    #[serde(default)]
    pub languages: Vec<Language>,
    /// Iranian national code (کد ملی): 10 digits with a valid check digit.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9]{10}$"))]
    pub national_code: Option<String>,
    /// Amayesh card or passport number for foreign nationals.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9-]{4,20}$"))]
    pub foreign_id: Option<String>,
    #[serde(default)]
    pub work_types: Vec<WorkType>,
    #[serde(default)]
    pub living_situation: Option<LivingSituation>,
    #[serde(default)]
    pub school_status: Option<SchoolStatus>,
    #[serde(default)]
    pub risk_flags: Vec<RiskFlag>,
    #[serde(default)]
    pub guardian: Option<Guardian>,
    #[serde(default)]
    pub consent: Option<Consent>,
    /// ISO 3166-2 province (`IR-xx`) the child is registered in.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^IR-(0[0-9]|[12][0-9]|30)$"))]
    pub home_province: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9_-]{1,16}$"))]
    pub home_county: Option<String>,
    /// The user id of the assigned outreach worker.
    #[serde(default)]
    pub assigned_worker: Option<String>,
}

/// `POST /api/v1/children`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewChild {
    /// A UUID the client generated, so that a retried create (e.g. from the
    /// offline outbox) is recognised and never makes a second record.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub id: Option<String>,
    #[serde(flatten)]
    pub facts: ChildFacts,
}

/// A child record as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Child {
    pub id: String,
    /// e.g. `23-1405-000123-7`: province, Jalali year, sequence, check digit.
    pub registry_code: String,
    pub status: Status,
    /// Increases with every change; updates name the version they were based on.
    pub version: i64,
    #[serde(flatten)]
    pub facts: ChildFacts,
    pub created_at: String,
    pub updated_at: String,
    pub last_seen_at: Option<String>,
    /// `pending_review` while an iris match with another record is unresolved.
    #[serde(default)]
    pub identity: crate::iris::Identity,
}

/// `PATCH /api/v1/children/{id}`: the changed fields only, and the version the
/// client's copy was based on. Fields changed by someone else since then merge
/// silently when they differ from this change; a field both changed → 409.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChildUpdate {
    pub base_version: i64,
    /// Field name → new value, as in [`ChildFacts`] (plus `status`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub changes: serde_json::Map<String, serde_json::Value>,
    /// Why, for status changes (stored with the transition).
    #[serde(default)]
    pub reason: Option<String>,
}

/// One conflicting field in a 409 answer to an update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldConflict {
    pub field: String,
    /// The value someone else stored since `base_version`.
    pub stored: serde_json::Value,
    /// The value this update tried to write.
    pub yours: serde_json::Value,
}

/// An encounter: each time a worker meets a child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEncounter {
    /// Client-generated UUID for idempotent retries. Left out of an encounter
    /// as the API returns it, whose own `id` is this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub id: Option<String>,
    /// RFC 3339; not in the future.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub at: String,
    #[cfg_attr(feature = "openapi", schema(minimum = -90, maximum = 90))]
    pub lat: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = -180, maximum = 180))]
    pub lng: f64,
    /// GPS accuracy in metres.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000))]
    pub accuracy_m: Option<f64>,
    pub activity: Option<WorkType>,
    #[serde(default)]
    pub accompanied_by_adult: Option<bool>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub notes: Option<String>,
    /// `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub next_follow_up: Option<String>,
    /// Where the position came from: the phone's GPS or typed by the worker.
    /// Absent (older clients): GPS when `accuracy_m` is given, else typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_source: Option<PositionSource>,
    /// RFC 3339, by the device: when the offline outbox queued this
    /// encounter. Lets an encounter sent hours later, once the phone is back
    /// online, still prove it was recorded at the time it claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<String>,
    /// The `identification_id` of an iris identification
    /// (`POST /api/v1/iris/identify`) made by the same worker within the
    /// last minutes that matched this child: the encounter is then
    /// iris-verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iris_identification: Option<String>,
}

vocabulary!(
    /// Where an encounter's position came from.
    PositionSource { Gps, Typed }
);
/// How far an encounter is known to have really happened where and when it
/// says (computed by the server when it is stored): `iris_verified` — an
/// iris identification made during the encounter matched the child;
/// `location_verified` — a GPS fix within the configured accuracy and a
/// device time within the tolerance of the server's receipt (or of the
/// offline queue's timestamp); `unverified` — a typed position, a poor fix
/// or an implausible time. A vocabulary like the others, with a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    IrisVerified,
    LocationVerified,
    #[default]
    Unverified,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Encounter {
    pub id: String,
    pub child_id: String,
    pub worker_id: String,
    #[serde(flatten)]
    pub details: NewEncounter,
    pub created_at: String,
    /// Computed when the encounter was stored (`unverified` when absent, as
    /// in copies a PWA saved before the field existed).
    #[serde(default)]
    pub verification: Verification,
}
