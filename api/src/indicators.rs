//! Programme monitoring (`/api/v1/indicators…`): figures materialised per
//! day and area by the server's nightly job, small counts suppressed.

use serde::{Deserialize, Serialize};

/// The marker a figure counting fewer than 5 children shows instead of its
/// value to everyone below national_admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Suppressed {
    Suppressed,
}

/// A number, or `"suppressed"` (never 0 in its place).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum FigureValue {
    Value(f64),
    Suppressed(Suppressed),
}

impl FigureValue {
    pub fn value(self) -> Option<f64> {
        match self {
            FigureValue::Value(v) => Some(v),
            FigureValue::Suppressed(_) => None,
        }
    }
}

/// An indicator's name and formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorDefinition {
    pub indicator: String,
    pub formula: String,
}

/// One figure of one day and area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorItem {
    /// `YYYY-MM-DD` (Iran time): the state at the end of that day.
    pub day: String,
    /// `IR`, a province `IR-23` or a county `IR-23/2301`.
    pub area: String,
    pub figure: String,
    pub value: FigureValue,
}

/// `GET /api/v1/indicators`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorSeries {
    pub indicator: String,
    pub formula: String,
    pub area: String,
    pub from: String,
    pub to: String,
    pub items: Vec<IndicatorItem>,
}

/// One outreach worker's figures on a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerIndicators {
    pub worker_id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub province: Option<String>,
    pub county: Option<String>,
    /// Open cases assigned to them.
    pub open_cases: FigureValue,
    /// `0-9`, `10-19`, `20-29` or `30+` (Primero's buckets).
    pub caseload_bucket: String,
    /// Encounters they recorded in the 30 days to the day.
    pub visits: i64,
    /// Of which iris- or location-verified.
    pub verified_visits: i64,
    /// verified ÷ visits (0 without visits).
    pub verified_share: f64,
    /// Their open cases whose follow-up date has come without a visit
    /// since: assigned to them, or unassigned and last met by them.
    pub overdue_follow_ups: FigureValue,
}

/// `GET /api/v1/indicators/workers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerTable {
    /// The materialised day shown (`None`: nothing materialised yet).
    pub day: Option<String>,
    pub items: Vec<WorkerIndicators>,
}

/// Children of a cohort and group in one outcome some months after registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CohortItem {
    /// The Jalali registration quarter, `1405-Q2`.
    pub cohort: String,
    pub province: String,
    /// The breakdown's value (a sex, age band or nationality); `None` without one.
    pub group: Option<String>,
    /// 3, 6 or 12.
    pub months: i64,
    /// A status, or `in_school` (counted besides the status).
    pub outcome: String,
    pub children: FigureValue,
    /// children ÷ the cohort group's children at that point (statuses only);
    /// `None` where suppressed.
    pub share: Option<f64>,
}

/// `GET /api/v1/indicators/cohorts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CohortTable {
    pub day: Option<String>,
    pub items: Vec<CohortItem>,
}
