//! `/api/v1/indicators`, `/api/v1/indicators/workers`,
//! `/api/v1/indicators/cohorts` and `/api/v1/indicators/definitions`: the
//! materialised figures as JSON or CSV (`format=csv`, UTF-8 with a BOM);
//! `/api/v1/indicators/report`: a province's quarterly report
//! ([`super::report`]) as a download.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kudakyar_api::indicators::{CohortTable, IndicatorDefinition, IndicatorSeries, WorkerTable};
use kudakyar_api::problem::Problem;
use kudakyar_api::users::Role;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::definitions::Indicator;
use super::period::{self, Quarter};
use super::read::{self, Breakdown, CohortBreakdown};
use super::report;
use crate::app::AppState;
use crate::audit::{self, Event, Origin, Who};
use crate::auth::Actor;
use crate::error::{Error, Result, Validator};
use crate::http::pagination::ApiQuery;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(series))
        .routes(routes!(workers))
        .routes(routes!(cohorts))
        .routes(routes!(definitions))
        .routes(routes!(quarterly_report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// caseload, centre_load, timeliness, services, referrals, verification,
    /// reentry or identity (formulas: `/api/v1/indicators/definitions`).
    indicator: Option<String>,
    /// `IR`, a province `IR-23` or a county `IR-23/2301`; default: your scope.
    area: Option<String>,
    /// First day, `YYYY-MM-DD` (Iran time).
    from: Option<String>,
    /// Last day, `YYYY-MM-DD`; at most 5 years after `from`.
    to: Option<String>,
    /// A Jalali quarter instead of from/to, e.g. `1405-Q2`.
    quarter: Option<String>,
    /// `province` (of the country) or `county` (of a province).
    breakdown: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// `json` or `csv`: true for CSV.
fn csv(v: &mut Validator, format: Option<&str>) -> bool {
    match format {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            v.add("format", "must be json or csv");
            false
        }
    }
}

fn csv_response(name: &str, body: String) -> Response {
    attachment("text/csv; charset=utf-8", &format!("{name}.csv"), body)
}

/// `body` as a download named `filename`.
fn attachment(content_type: &str, filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

async fn audited(state: &AppState, actor: &Actor, origin: &Origin, what: &str) -> Result<()> {
    audit::record(
        state.db.pool(),
        &Who::from(actor),
        origin,
        Event::new(what, "indicators", None),
    )
    .await?;
    Ok(())
}

/// One indicator's figures per day for an area (or its provinces or
/// counties), from the nightly materialised tables. Without a period: the
/// latest materialised day. Counts of fewer than 5 children read
/// `"suppressed"` below national_admin. Each indicator's formula is in the
/// answer's `formula` and at `/api/v1/indicators/definitions`.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators", params(SeriesQuery),
    security(("bearer" = [])),
    responses((status = 200, body = IndicatorSeries, description = "JSON, or CSV with `format=csv`"),
        (status = 401, body = Problem),
        (status = 404, body = Problem, description = "The area is outside your scope"),
        (status = 422, body = Problem)))]
async fn series(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    let indicator = match q.indicator.as_deref() {
        None => {
            v.add("indicator", "is required");
            None
        }
        Some(name) => {
            let i = Indicator::parse(name);
            if i.is_none() {
                let names: Vec<&str> = Indicator::ALL.iter().map(|i| i.name()).collect();
                v.add(
                    "indicator",
                    &format!("unknown indicator; one of {}", names.join(", ")),
                );
            }
            i
        }
    };
    let area = read::area(&mut v, q.area.as_deref(), &actor.scope);
    let breakdown = Breakdown::parse(&mut v, q.breakdown.as_deref(), area.as_ref());
    let days = read::period(
        &mut v,
        q.from.as_deref(),
        q.to.as_deref(),
        q.quarter.as_deref(),
    );
    let as_csv = csv(&mut v, q.format.as_deref());
    v.finish()?;
    let (Some(indicator), Some(area)) = (indicator, area) else {
        unreachable!("validated above")
    };
    read::in_scope(&actor.scope, &area)?;
    let s = read::series(&state.db, &actor, indicator, &area, breakdown, days).await?;
    audited(&state, &actor, &origin, "indicators.read").await?;
    Ok(if as_csv {
        csv_response(indicator.name(), read::series_csv(&s))
    } else {
        Json(s).into_response()
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WorkersQuery {
    /// The day (`YYYY-MM-DD`); default: the latest materialised.
    day: Option<String>,
    /// Narrows to a province or county of your scope.
    area: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// The supervisor view: each outreach worker's open cases (Primero's
/// buckets), visits in the 30 days to the day and the share of them verified
/// (iris or location). A worker sees only themself, a supervisor their team
/// (their province or county), provincial staff their province.
#[utoipa::path(get, path = "/api/v1/indicators/workers", tag = "indicators", params(WorkersQuery),
    security(("bearer" = [])),
    responses((status = 200, body = WorkerTable, description = "JSON, or CSV with `format=csv`"),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn workers(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<WorkersQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    let day = q.day.as_deref().map(period::parse_day);
    v.check(day != Some(None), "day", "must be a date YYYY-MM-DD");
    let area = read::area(&mut v, q.area.as_deref(), &actor.scope);
    let as_csv = csv(&mut v, q.format.as_deref());
    v.finish()?;
    let Some(area) = area else {
        unreachable!("validated above")
    };
    read::in_scope(&actor.scope, &area)?;
    let t = read::workers(&state.db, &actor, day.flatten(), &area).await?;
    audited(&state, &actor, &origin, "indicators.workers.read").await?;
    Ok(if as_csv {
        csv_response("workers", read::workers_csv(&t))
    } else {
        Json(t).into_response()
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CohortsQuery {
    /// The Jalali registration quarter, e.g. `1405-Q2`; default: every cohort.
    quarter: Option<String>,
    /// `IR` or a province; default: your province (the country for admins).
    area: Option<String>,
    /// `sex`, `age_band` or `nationality`.
    breakdown: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// Outcomes by registration cohort: of the children registered in a Jalali
/// quarter (by province, and by sex, age band or nationality), how many were
/// in each status 3, 6 and 12 months after registration, and in school.
#[utoipa::path(get, path = "/api/v1/indicators/cohorts", tag = "indicators", params(CohortsQuery),
    security(("bearer" = [])),
    responses((status = 200, body = CohortTable, description = "JSON, or CSV with `format=csv`"),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn cohorts(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<CohortsQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    let quarter = q.quarter.as_deref().map(Quarter::parse);
    v.check(
        quarter != Some(None),
        "quarter",
        "must be a Jalali quarter YYYY-QN with N 1–4, e.g. 1405-Q2",
    );
    let area = read::area(&mut v, q.area.as_deref(), &actor.scope);
    // Kept by province: staff scoped to one county have no cohort table.
    if area.as_ref().is_some_and(|a| a.county.is_some()) {
        v.add("area", "cohorts are by province: give IR or a province");
    }
    let breakdown = CohortBreakdown::parse(&mut v, q.breakdown.as_deref());
    let as_csv = csv(&mut v, q.format.as_deref());
    v.finish()?;
    let Some(area) = area else {
        unreachable!("validated above")
    };
    read::in_scope(&actor.scope, &area)?;
    let t = read::cohorts(&state.db, &actor, None, quarter.flatten(), &area, breakdown).await?;
    audited(&state, &actor, &origin, "indicators.cohorts.read").await?;
    Ok(if as_csv {
        csv_response("cohorts", read::cohorts_csv(&t))
    } else {
        Json(t).into_response()
    })
}

/// Every indicator's name and formula.
#[utoipa::path(get, path = "/api/v1/indicators/definitions", tag = "indicators",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<IndicatorDefinition>), (status = 401, body = Problem)))]
async fn definitions(_actor: Actor) -> Json<Vec<IndicatorDefinition>> {
    Json(
        Indicator::ALL
            .iter()
            .map(|i| IndicatorDefinition {
                indicator: i.name().into(),
                formula: i.formula().into(),
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The Jalali quarter, e.g. `1405-Q2`.
    quarter: Option<String>,
    /// A province (`IR-23`); default: your province.
    area: Option<String>,
}

/// A province's quarter as one printable HTML page, as `kudakyar report
/// quarterly` writes it: Persian, Jalali dates, inline SVG charts, no
/// external resource; counts under 5 children suppressed whoever asks.
/// For supervisors, provincial staff and national admins whose scope holds
/// the whole province; a download (`Content-Disposition: attachment`). A
/// quarter whose last day was never materialised is computed first.
#[utoipa::path(get, path = "/api/v1/indicators/report", tag = "indicators", params(ReportQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The report, an HTML page", content_type = "text/html"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "The province is outside your scope"),
        (status = 422, body = Problem)))]
async fn quarterly_report(
    State(state): State<AppState>,
    actor: Actor,
    origin: Origin,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response> {
    // The report computes a day's indicators when missing: not for every
    // account, only those whose screens offer it.
    if !matches!(
        actor.role,
        Role::Supervisor | Role::ProvincialStaff | Role::NationalAdmin
    ) {
        return Err(Error::Forbidden(
            "the quarterly report is for supervisors, provincial staff and administrators".into(),
        ));
    }
    let mut v = Validator::new();
    let quarter = match q.quarter.as_deref() {
        None => {
            v.add("quarter", "is required, e.g. 1405-Q2");
            None
        }
        Some(s) => {
            let parsed = Quarter::parse(s);
            v.check(
                parsed.is_some(),
                "quarter",
                "must be a Jalali quarter YYYY-QN with N 1–4, e.g. 1405-Q2",
            );
            parsed
        }
    };
    let area = read::area(&mut v, q.area.as_deref(), &actor.scope);
    if let Some(a) = &area {
        v.check(
            a.province.is_some() && a.county.is_none(),
            "area",
            "the report is a province's: give a province IR-00…IR-30",
        );
    }
    v.finish()?;
    let (Some(quarter), Some(area)) = (quarter, area) else {
        unreachable!("validated above")
    };
    read::in_scope(&actor.scope, &area)?;
    let province = area.text();
    let html = report::quarterly(&state.db, &province, quarter).await?;
    audited(&state, &actor, &origin, "indicators.report.read").await?;
    Ok(attachment(
        "text/html; charset=utf-8",
        &format!("report-{province}-{quarter}.html"),
        html,
    ))
}
