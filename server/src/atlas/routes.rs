//! `/api/v1/atlas/…` over HTTP: choropleth, hexes, timeseries, zones (and
//! their freeze), hotspots.
//!
//! Every GET parses its query string into a [`Request`] (each bad parameter
//! named in one 422, an unknown parameter too), reads the figures of the
//! caller's scope ([`query::figures`]), applies [`privacy`] and answers JSON,
//! GeoJSON or CSV (UTF-8 with a BOM, so spreadsheet programs read Persian
//! names) with a strong `ETag` over the body; `If-None-Match` with it gets a
//! 304. `format=csv|geojson` is a download (`Content-Disposition:
//! attachment`) and is always suppressed.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use h3o::{CellIndex, LatLng};
use kudakyar_api::children::{Nationality, Sex, WorkType};
use kudakyar_api::problem::Problem;
use serde::Deserialize;
use sha2::Digest;
use sqlx::Row;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::periods::{self, Bucket};
use super::query::{self, Figure, Filter, Group, Level, Measure};
use super::{hotspots, privacy, sketch, svg, zones};
use crate::app::AppState;
use crate::auth::{Actor, Scope, policy};
use crate::db::vocab::enum_parse;
use crate::error::{Error, Result, Validator};
use crate::http::json::ApiJson;
use crate::http::pagination::ApiQuery;

/// What every map drawn from the OSM boundaries must carry.
pub const ATTRIBUTION: &str = "© OpenStreetMap contributors";
/// The longest range one request may span: five years of days.
const MAX_RANGE_DAYS: i64 = 5 * 365 + 2;
/// The widest bounding box, in degrees of latitude or longitude (Iran spans
/// about 19° × 15°).
const MAX_BBOX_DEG: f64 = 25.0;
/// The age bands of the atlas (those of reports, then adults, unknown).
const AGE_BANDS: [&str; 6] = ["0-5", "6-11", "12-14", "15-17", "18+", "unknown"];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(choropleth))
        .routes(routes!(hexes))
        .routes(routes!(timeseries))
        .routes(routes!(get_zones))
        .routes(routes!(zones_map))
        .routes(routes!(freeze_zones))
        .routes(routes!(get_hotspots))
}

/// The parameters every atlas GET shares.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Common {
    /// `children` (distinct children, the default), `encounters`, `reports`,
    /// `children_reported` or `incidents`. Distinct children are exact for
    /// one day and area, and with any filter on the children; over more
    /// days or areas, exact up to 512 children and estimated past that
    /// (1.6 % relative standard error): the answer's `distinct_children`
    /// says `exact` or `estimated`.
    measure: Option<String>,
    /// First Tehran day, `YYYY-MM-DD` (default: 364 days before `to`).
    from: Option<String>,
    /// Last Tehran day, `YYYY-MM-DD` (default: today). At most five years after `from`.
    to: Option<String>,
    /// `male`, `female`, `unknown` (children and encounters only).
    sex: Option<String>,
    /// `0-5`, `6-11`, `12-14`, `15-17`, `18+`, `unknown` (children and encounters only).
    age_band: Option<String>,
    /// e.g. `iranian`, `afghan` (children and encounters only).
    nationality: Option<String>,
    /// e.g. `begging`: counts children who do it among other work (children and encounters only).
    work_type: Option<String>,
    /// `citizen`, `hotline` or `worker` (report measures only).
    source: Option<String>,
    /// `json` (default), `geojson` or `csv`; `geojson` and `csv` are
    /// downloads, always suppressed.
    format: Option<String>,
}

const COMMON: [&str; 9] = [
    "measure",
    "from",
    "to",
    "sex",
    "age_band",
    "nationality",
    "work_type",
    "source",
    "format",
];

/// The answer's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    GeoJson,
    Csv,
}

/// A validated atlas request: the filter, the form, and whether small
/// figures are hidden.
struct Request {
    filter: Filter,
    format: Format,
    suppress: bool,
    /// Some figure's distinct children were estimated (see [`query`]):
    /// set once the figures are read.
    estimated: bool,
}

/// Names every query parameter this endpoint does not take.
fn unknown_parameters(v: &mut Validator, uri: &Uri, own: &[&str]) {
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default();
    for (name, _) in pairs {
        if !COMMON.contains(&name.as_str()) && !own.contains(&name.as_str()) {
            v.add(&name, "is not a parameter of this endpoint");
        }
    }
}

fn vocabulary<T: serde::de::DeserializeOwned>(
    v: &mut Validator,
    field: &str,
    value: &Option<String>,
) -> Option<String> {
    let value = value.as_ref()?;
    v.check(
        enum_parse::<T>(value).is_some(),
        field,
        "is not a known value",
    );
    Some(value.clone())
}

impl Request {
    /// Checks the common parameters into `v`; `formats` are those this
    /// endpoint offers besides JSON.
    fn parse(v: &mut Validator, actor: &Actor, c: &Common, formats: &[Format]) -> Request {
        let measure = match c.measure.as_deref() {
            None => Measure::Children,
            Some(m) => Measure::parse(m).unwrap_or_else(|| {
                v.add(
                    "measure",
                    "must be children, encounters, reports, children_reported or incidents",
                );
                Measure::Children
            }),
        };
        let today = periods::day_of(crate::now_ms());
        let day = |v: &mut Validator, field: &str, s: &Option<String>| {
            let parsed = s.as_deref().map(periods::parse_day);
            v.check(
                !matches!(parsed, Some(None)),
                field,
                "must be a date YYYY-MM-DD",
            );
            parsed.flatten()
        };
        let to = day(v, "to", &c.to).unwrap_or(today);
        let from = day(v, "from", &c.from).unwrap_or(to - 364);
        v.check(from <= to, "from", "must not be after `to`");
        v.check(
            to - from < MAX_RANGE_DAYS,
            "from",
            "the range may span at most five years",
        );
        let sex = vocabulary::<Sex>(v, "sex", &c.sex);
        let nationality = vocabulary::<Nationality>(v, "nationality", &c.nationality);
        let work_type = vocabulary::<WorkType>(v, "work_type", &c.work_type);
        if let Some(a) = &c.age_band {
            v.check(
                AGE_BANDS.contains(&a.as_str()),
                "age_band",
                "must be 0-5, 6-11, 12-14, 15-17, 18+ or unknown",
            );
        }
        if !measure.of_children() {
            for (field, given) in [
                ("sex", &c.sex),
                ("age_band", &c.age_band),
                ("nationality", &c.nationality),
                ("work_type", &c.work_type),
            ] {
                v.check(
                    given.is_none(),
                    field,
                    "describes children met in encounters: not available with a report measure",
                );
            }
        }
        if let Some(s) = &c.source {
            v.check(
                ["citizen", "hotline", "worker"].contains(&s.as_str()),
                "source",
                "must be citizen, hotline or worker",
            );
            v.check(
                !measure.of_children(),
                "source",
                "applies to the report measures (reports, children_reported, incidents) only",
            );
        }
        let format = match c.format.as_deref() {
            None | Some("json") => Format::Json,
            Some("geojson") if formats.contains(&Format::GeoJson) => Format::GeoJson,
            Some("csv") if formats.contains(&Format::Csv) => Format::Csv,
            Some(_) => {
                v.add("format", "is not a format this endpoint offers");
                Format::Json
            }
        };
        Request {
            filter: Filter {
                measure,
                from,
                to,
                sex,
                age_band: c.age_band.clone(),
                nationality,
                work_type,
                source: c.source.clone(),
                within: None,
            },
            format,
            // Downloads leave the system: always suppressed.
            suppress: format != Format::Json || !policy::sees_small_atlas_figures(actor),
            estimated: false,
        }
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "measure": self.filter.measure.as_str(),
            "from": periods::format_day(self.filter.from),
            "to": periods::format_day(self.filter.to),
            "filters": {
                "sex": self.filter.sex, "age_band": self.filter.age_band,
                "nationality": self.filter.nationality, "work_type": self.filter.work_type,
                "source": self.filter.source,
            },
            "suppressed_below": if self.suppress { Some(privacy::MIN_BASIS) } else { None },
            // How distinct children were counted: "exact", or "estimated"
            // (a HyperLogLog, for some union of more than 512) with its
            // relative standard error.
            "distinct_children": if self.estimated { "estimated" } else { "exact" },
            "distinct_children_error": self.estimated.then_some(sketch::RELATIVE_ERROR),
        })
    }

    /// Notes whether any of the figures was estimated.
    fn counted<'f>(&mut self, figures: impl IntoIterator<Item = &'f Figure>) {
        self.estimated = figures.into_iter().any(|f| f.estimated);
    }
}

/// The answer with its `ETag` (SHA-256 of the body), or 304 when the client
/// has it; downloads are attachments named `filename`.
fn respond(
    headers: &HeaderMap,
    body: Vec<u8>,
    content_type: &'static str,
    filename: &str,
    download: bool,
) -> Response {
    let digest = sha2::Sha256::digest(&body);
    let etag = format!("\"{}\"", hex::encode(&digest[..16]));
    let etag_value =
        HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    // Private: the figures depend on who asks; no-cache: revalidate each time.
    let cache = HeaderValue::from_static("private, no-cache");
    if crate::photos::routes::none_match(headers, &etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    let mut response = (
        [
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        ],
        body,
    )
        .into_response();
    if download
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

fn json_body(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// CSV with a UTF-8 BOM; fields quoted when they need it.
fn csv_body(header_row: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("\u{feff}");
    out.push_str(&header_row.join(","));
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|f| quote(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn answer(
    headers: &HeaderMap,
    req: &Request,
    name: &str,
    json: impl FnOnce() -> serde_json::Value,
    geojson: impl FnOnce() -> serde_json::Value,
    csv: impl FnOnce() -> (Vec<&'static str>, Vec<Vec<String>>),
) -> Response {
    match req.format {
        Format::Json => respond(headers, json_body(&json()), "application/json", name, false),
        Format::GeoJson => respond(
            headers,
            json_body(&geojson()),
            "application/geo+json",
            &format!("{name}.geojson"),
            true,
        ),
        Format::Csv => {
            let (head, rows) = csv();
            respond(
                headers,
                csv_body(&head, &rows),
                "text/csv; charset=utf-8",
                &format!("{name}.csv"),
                true,
            )
        }
    }
}

fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A GeoJSON feature.
fn feature(
    id: &str,
    properties: serde_json::Value,
    geometry: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({ "type": "Feature", "id": id, "properties": properties, "geometry": geometry })
}

/// An H3 cell as a GeoJSON polygon (its boundary, closed).
fn cell_geometry(cell: CellIndex) -> serde_json::Value {
    let mut ring: Vec<[f64; 2]> = cell.boundary().iter().map(|p| [p.lng(), p.lat()]).collect();
    if let Some(first) = ring.first().copied() {
        ring.push(first);
    }
    serde_json::json!({ "type": "Polygon", "coordinates": [ring] })
}

/// The GeoJSON geometry of each of `areas` at `level`, in order: a
/// province's or county's simplified outline, a cell's hexagon; `null`
/// (GeoJSON's unlocated feature) for the country, or an area without an
/// imported outline.
async fn geometries(
    state: &AppState,
    scope: &Scope,
    level: Level,
    areas: &[&str],
) -> Result<Vec<serde_json::Value>> {
    let outlines: BTreeMap<String, String> = match level {
        Level::Province | Level::County => outlines(state, scope, level)
            .await?
            .into_iter()
            .map(|o| (o.code, o.simplified))
            .collect(),
        _ => BTreeMap::new(),
    };
    Ok(areas
        .iter()
        .map(|area| match level {
            Level::Cells(_) => area
                .parse::<CellIndex>()
                .map_or(serde_json::Value::Null, cell_geometry),
            _ => outlines
                .get(*area)
                .and_then(|g| serde_json::from_str(g).ok())
                .unwrap_or(serde_json::Value::Null),
        })
        .collect())
}

/// A province or county outline and names, as stored by `geo import`.
struct Outline {
    code: String,
    province: String,
    name_fa: String,
    name_en: Option<String>,
    simplified: String,
}

/// The outlines of `level` in the caller's scope.
async fn outlines(state: &AppState, scope: &Scope, level: Level) -> Result<Vec<Outline>> {
    let level = level.as_str();
    let rows = sqlx::query(
        "SELECT code, province, name_fa, name_en, simplified FROM boundaries
         WHERE level = $1 ORDER BY code",
    )
    .bind(&level)
    .fetch_all(state.db.pool())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let o = Outline {
            code: r.try_get("code")?,
            province: r.try_get("province")?,
            name_fa: r.try_get("name_fa")?,
            name_en: r.try_get("name_en")?,
            simplified: r.try_get("simplified")?,
        };
        let county = (level == "county").then_some(o.code.as_str());
        let visible = match scope {
            Scope::National => true,
            Scope::Province {
                province,
                county: mine,
            } => {
                &o.province == province
                    && (mine.is_none() || level != "province")
                    && mine.as_deref().is_none_or(|c| county == Some(c))
            }
        };
        if visible {
            out.push(o);
        }
    }
    Ok(out)
}

/// The choropleth's level: `province` by default, `county` for a caller
/// confined to one county.
fn parse_level(v: &mut Validator, scope: &Scope, level: Option<&str>) -> Level {
    match level {
        None if scope.county().is_some() => Level::County,
        Some("province") | None => Level::Province,
        Some("county") => Level::County,
        Some(_) => {
            v.add("level", "must be province or county");
            Level::Province
        }
    }
}

/// A caller confined to one county sees no province's figure (it would be
/// their county's under another name, or an empty map): `level=province`
/// is a 422 that says which level is theirs.
fn check_level_in_scope(v: &mut Validator, scope: &Scope, level: Level) {
    v.check(
        !(level == Level::Province && scope.county().is_some()),
        "level",
        "your access is to one county: ask for level=county",
    );
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChoroplethQuery {
    /// `province` (default; `county` for a caller confined to one county,
    /// who may not ask for `province`) or `county`.
    level: Option<String>,
    /// How the classes are made: `jenks` (default), `quantiles`, `equal`.
    method: Option<String>,
}

/// A choropleth: every province or county of your scope as a GeoJSON
/// feature with its simplified outline, its figure (or `"suppressed"`),
/// its class and the legend; `format=csv` for a table.
#[utoipa::path(get, path = "/api/v1/atlas/choropleth", tag = "atlas",
    params(ChoroplethQuery, Common, ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before")),
    security(("bearer" = [])),
    responses((status = 200,
            content((serde_json::Value = "application/json"), (serde_json::Value = "application/geo+json")),
            description = "A FeatureCollection; `properties` hold the legend and the attribution. \
                As `application/json` for the app; `format=geojson` is the same collection as an \
                `application/geo+json` download (always suppressed)",
            headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn choropleth(
    State(state): State<AppState>,
    actor: Actor,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(c): ApiQuery<Common>,
    ApiQuery(q): ApiQuery<ChoroplethQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    unknown_parameters(&mut v, &uri, &["level", "method"]);
    let mut req = Request::parse(&mut v, &actor, &c, &[Format::GeoJson, Format::Csv]);
    let level = parse_level(&mut v, &actor.scope, q.level.as_deref());
    check_level_in_scope(&mut v, &actor.scope, level);
    let method = match q.method.as_deref() {
        None | Some("jenks") => zones::Method::Jenks,
        Some("quantiles") => zones::Method::Quantiles,
        Some("equal") => zones::Method::Equal,
        Some(_) => {
            v.add("method", "must be jenks, quantiles or equal");
            zones::Method::Jenks
        }
    };
    v.finish()?;
    let figures =
        query::figures(&state.db, &actor.scope, level, &req.filter, &Group::Areas).await?;
    req.counted(figures.values());
    let outlines = outlines(&state, &actor.scope, level).await?;
    let fig = |code: &str| figures.get(code).copied().unwrap_or_default();
    let visible: Vec<f64> = outlines
        .iter()
        .map(|o| fig(&o.code))
        .filter(|f| !(req.suppress && privacy::hides(f)))
        .map(|f| f.value as f64)
        .collect();
    let computed = zones::compute(&visible, &method);
    let breaks = computed.as_ref().map(|(_, b)| b.clone());
    let method_used = computed.map_or(method.name(), |(name, _)| name);
    let class = |f: &Figure| -> serde_json::Value {
        match &breaks {
            Some(b) if !(req.suppress && privacy::hides(f)) => {
                zones::zone_name(zones::zone(f.value as f64, b)).into()
            }
            _ => serde_json::Value::Null,
        }
    };
    let properties = |o: &Outline| {
        let f = fig(&o.code);
        serde_json::json!({
            "code": o.code, "province": o.province, "name_fa": o.name_fa, "name_en": o.name_en,
            "value": privacy::shown(&f, req.suppress), "class": class(&f),
        })
    };
    let collection = || {
        let features: Vec<serde_json::Value> = outlines
            .iter()
            .map(|o| {
                let outline = serde_json::from_str(&o.simplified).unwrap_or_default();
                feature(&o.code, properties(o), outline)
            })
            .collect();
        let mut props = req.describe();
        props["level"] = level.as_str().into();
        props["method"] = method_used.into();
        props["attribution"] = ATTRIBUTION.into();
        props["legend"] = breaks.as_deref().map(zones::legend).unwrap_or_default();
        serde_json::json!({ "type": "FeatureCollection", "properties": props, "features": features })
    };
    Ok(answer(
        &headers,
        &req,
        "atlas-choropleth",
        collection,
        collection,
        || {
            let rows = outlines
                .iter()
                .map(|o| {
                    let p = properties(o);
                    vec![
                        o.code.clone(),
                        o.province.clone(),
                        o.name_fa.clone(),
                        o.name_en.clone().unwrap_or_default(),
                        text_of(&p["value"]),
                        text_of(&p["class"]).replace("null", ""),
                    ]
                })
                .collect();
            (
                vec!["code", "province", "name_fa", "name_en", "value", "class"],
                rows,
            )
        },
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HexQuery {
    /// H3 resolution, 5 to 9.
    res: Option<i64>,
    /// `min_lng,min_lat,max_lng,max_lat` (degrees, GeoJSON order), at most
    /// 25° each way: only the cells whose centre is inside. Without it,
    /// every cell of your scope (a province's hexes for its staff), so a map
    /// can ask for them beside its choropleth instead of after it.
    bbox: Option<String>,
}

/// Parses `bbox`, naming it when malformed or too large.
fn parse_bbox(v: &mut Validator, bbox: &str) -> Option<[f64; 4]> {
    let parts: Vec<f64> = bbox
        .split(',')
        .filter_map(|p| p.trim().parse::<f64>().ok())
        .filter(|x| x.is_finite())
        .collect();
    let Ok([min_lng, min_lat, max_lng, max_lat]) = <[f64; 4]>::try_from(parts) else {
        v.add(
            "bbox",
            "must be four numbers: min_lng,min_lat,max_lng,max_lat",
        );
        return None;
    };
    let ok = (-180.0..=180.0).contains(&min_lng)
        && (-180.0..=180.0).contains(&max_lng)
        && (-90.0..=90.0).contains(&min_lat)
        && (-90.0..=90.0).contains(&max_lat)
        && min_lng < max_lng
        && min_lat < max_lat;
    if !ok {
        v.add(
            "bbox",
            "must be min_lng,min_lat,max_lng,max_lat on the globe, minimums first",
        );
        return None;
    }
    if max_lng - min_lng > MAX_BBOX_DEG || max_lat - min_lat > MAX_BBOX_DEG {
        v.add("bbox", "is too large: at most 25 degrees each way");
        return None;
    }
    Some([min_lng, min_lat, max_lng, max_lat])
}

fn parse_res(v: &mut Validator, res: Option<i64>, default: Option<u8>) -> u8 {
    match res.or(default.map(i64::from)) {
        Some(r) if (5..=9).contains(&r) => r as u8,
        _ => {
            v.add("res", "must be an H3 resolution from 5 to 9");
            7
        }
    }
}

/// The H3 cells of your scope (whose centre is in `bbox`, if given), with figures:
/// compact JSON (`cells` and `values` side by side), or GeoJSON hexagons
/// with `format=geojson`, or CSV.
#[utoipa::path(get, path = "/api/v1/atlas/hexes", tag = "atlas",
    params(HexQuery, Common, ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before")),
    security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value, description = "`{res, cells: [...], values: [...]}`", headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn hexes(
    State(state): State<AppState>,
    actor: Actor,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(c): ApiQuery<Common>,
    ApiQuery(q): ApiQuery<HexQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    unknown_parameters(&mut v, &uri, &["res", "bbox"]);
    let mut req = Request::parse(&mut v, &actor, &c, &[Format::GeoJson, Format::Csv]);
    let res = parse_res(&mut v, q.res, None);
    let bbox = q.bbox.as_deref().and_then(|b| parse_bbox(&mut v, b));
    v.finish()?;
    if let Some(bbox) = bbox {
        req.filter.within = provinces_near(&state, bbox, res).await?;
    }
    let figures = query::figures(
        &state.db,
        &actor.scope,
        Level::Cells(res),
        &req.filter,
        &Group::Areas,
    )
    .await?;
    req.counted(figures.values());
    let cells: Vec<(CellIndex, Figure)> = figures
        .into_iter()
        .filter_map(|(id, f)| {
            let cell = id.parse::<CellIndex>().ok()?;
            let inside = bbox.is_none_or(|[min_lng, min_lat, max_lng, max_lat]| {
                let centre = LatLng::from(cell);
                (min_lat..=max_lat).contains(&centre.lat())
                    && (min_lng..=max_lng).contains(&centre.lng())
            });
            inside.then_some((cell, f))
        })
        .collect();
    let compact = || {
        let mut out = req.describe();
        out["res"] = res.into();
        out["cells"] = cells
            .iter()
            .map(|(c, _)| c.to_string())
            .collect::<Vec<_>>()
            .into();
        out["values"] = cells
            .iter()
            .map(|(_, f)| privacy::shown(f, req.suppress))
            .collect::<Vec<_>>()
            .into();
        out
    };
    let geojson = || {
        let features: Vec<serde_json::Value> = cells
            .iter()
            .map(|(cell, f)| {
                let id = cell.to_string();
                let properties =
                    serde_json::json!({ "cell": id, "value": privacy::shown(f, req.suppress) });
                feature(&id, properties, cell_geometry(*cell))
            })
            .collect();
        let mut props = req.describe();
        props["res"] = res.into();
        serde_json::json!({ "type": "FeatureCollection", "properties": props, "features": features })
    };
    Ok(answer(
        &headers,
        &req,
        "atlas-hexes",
        compact,
        geojson,
        || {
            let rows = cells
                .iter()
                .map(|(cell, f)| vec![cell.to_string(), text_of(&privacy::shown(f, req.suppress))])
                .collect();
            (vec!["cell", "value"], rows)
        },
    ))
}

/// The provinces a box of cells at `res` can hold events of, and '' (events
/// in no province): those whose outline's box comes within a cell's reach
/// of it, widened by the tolerance that places a point just outside a
/// border in the nearest county. `None` (every province) when no province
/// outlines are imported.
async fn provinces_near(
    state: &AppState,
    [min_lng, min_lat, max_lng, max_lat]: [f64; 4],
    res: u8,
) -> Result<Option<Vec<String>>> {
    // A cell counts its events by its centre, and they lie within about two
    // edges of it. Degrees from km: 111 km a degree of latitude, and at
    // least 85 km one of longitude south of 40°N, all of Iran.
    let edge_km = h3o::Resolution::try_from(res).map_or(10.0, |r| r.edge_length_km());
    let reach = (2.0 * edge_km + crate::geo::index::TOLERANCE_M / 1000.0) / 85.0;
    let mut provinces: Vec<String> = sqlx::query_scalar(
        "SELECT code FROM boundaries WHERE level = 'province'
           AND min_lat <= $1 AND max_lat >= $2 AND min_lng <= $3 AND max_lng >= $4",
    )
    .bind(max_lat + reach)
    .bind(min_lat - reach)
    .bind(max_lng + reach)
    .bind(min_lng - reach)
    .fetch_all(state.db.pool())
    .await?;
    let outlines: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM boundaries WHERE level = 'province'")
            .fetch_one(state.db.pool())
            .await?;
    if outlines == 0 {
        return Ok(None);
    }
    provinces.push(String::new());
    Ok(Some(provinces))
}

/// Which level an `area` code is, if it is one the caller may see (else
/// 404): `IR` (national staff), a province, a county, an H3 cell.
async fn area_level(state: &AppState, scope: &Scope, area: &str) -> Result<Level> {
    if area == "IR" {
        return match scope {
            Scope::National => Ok(Level::Country),
            Scope::Province { .. } => Err(Error::NotFound),
        };
    }
    if crate::geo::is_province_code(area) {
        return if scope.county().is_none() && scope.covers(Some(area), None) {
            Ok(Level::Province)
        } else {
            Err(Error::NotFound)
        };
    }
    if let Ok(cell) = area.parse::<CellIndex>() {
        let res = u8::from(cell.resolution());
        // A cell's figures are filtered by the scope's place columns, so
        // only the part of it inside the scope is counted.
        return if (5..=9).contains(&res) {
            Ok(Level::Cells(res))
        } else {
            Err(Error::NotFound)
        };
    }
    let province: Option<String> =
        sqlx::query_scalar("SELECT province FROM boundaries WHERE level = 'county' AND code = $1")
            .bind(area)
            .fetch_optional(state.db.pool())
            .await?;
    match province {
        Some(p) if scope.covers(Some(&p), Some(area)) => Ok(Level::County),
        _ => Err(Error::NotFound),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// `IR`, a province (`IR-23`), a county code, or an H3 cell (resolution 5–9).
    area: Option<String>,
    /// `day` (default), `week` (ISO, Monday first), `month`, `jweek` (Jalali,
    /// Saturday first) or `jmonth` (Jalali).
    bucket: Option<String>,
}

/// One area's figure per period, every period of the range listed (0 when
/// nothing was counted). Distinct children are exact per day; a week or a
/// month is exact up to 512 children and estimated past that (see
/// `distinct_children` in the answer).
#[utoipa::path(get, path = "/api/v1/atlas/timeseries", tag = "atlas",
    params(SeriesQuery, Common, ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before")),
    security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value, description = "`{area, bucket, series: [{period, start, value}]}`; `format=geojson` is a download with one feature per period, each with the area's outline; `format=csv` a table", headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "No such area in what you may see"),
        (status = 422, body = Problem)))]
async fn timeseries(
    State(state): State<AppState>,
    actor: Actor,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(c): ApiQuery<Common>,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    unknown_parameters(&mut v, &uri, &["area", "bucket"]);
    let mut req = Request::parse(&mut v, &actor, &c, &[Format::GeoJson, Format::Csv]);
    let bucket = match q.bucket.as_deref() {
        None => Bucket::Day,
        Some(b) => Bucket::parse(b).unwrap_or_else(|| {
            v.add("bucket", "must be day, week, month, jweek or jmonth");
            Bucket::Day
        }),
    };
    v.check(q.area.is_some(), "area", "is required");
    v.finish()?;
    let area = q.area.unwrap_or_default();
    let level = area_level(&state, &actor.scope, &area).await?;
    let starts = bucket.starts(req.filter.from, req.filter.to);
    let group = Group::Periods {
        area: area.clone(),
        bucket,
        starts: starts.clone(),
    };
    let figures = query::figures(&state.db, &actor.scope, level, &req.filter, &group).await?;
    req.counted(figures.values());
    let series: Vec<(i64, serde_json::Value)> = starts
        .iter()
        .map(|s| {
            let f = figures.get(&s.to_string()).copied().unwrap_or_default();
            (*s, privacy::shown(&f, req.suppress))
        })
        .collect();
    let bucket_name = q.bucket.clone().unwrap_or_else(|| "day".into());
    let point = |s: i64, value: &serde_json::Value| {
        serde_json::json!({
            "period": bucket.label(s), "start": periods::format_day(s), "value": value,
        })
    };
    let json = || {
        let mut out = req.describe();
        out["area"] = area.clone().into();
        out["level"] = level.as_str().into();
        out["bucket"] = bucket_name.clone().into();
        out["series"] = series
            .iter()
            .map(|(s, value)| point(*s, value))
            .collect::<Vec<_>>()
            .into();
        out
    };
    // GeoJSON: one feature per period, each with the area's outline, as GIS
    // programs' time controls read a series.
    let outline = match req.format {
        Format::GeoJson => geometries(&state, &actor.scope, level, &[&area])
            .await?
            .pop(),
        _ => None,
    };
    let geojson = || {
        let outline = outline.unwrap_or_default();
        let features: Vec<serde_json::Value> = series
            .iter()
            .map(|(s, value)| {
                let mut properties = point(*s, value);
                properties["area"] = area.clone().into();
                let id = format!("{area}/{}", bucket.label(*s));
                feature(&id, properties, outline.clone())
            })
            .collect();
        let mut props = req.describe();
        props["area"] = area.clone().into();
        props["level"] = level.as_str().into();
        props["bucket"] = bucket_name.clone().into();
        props["attribution"] = ATTRIBUTION.into();
        serde_json::json!({ "type": "FeatureCollection", "properties": props, "features": features })
    };
    Ok(answer(
        &headers,
        &req,
        "atlas-timeseries",
        json,
        geojson,
        || {
            let rows = series
                .iter()
                .map(|(s, value)| vec![bucket.label(*s), periods::format_day(*s), text_of(value)])
                .collect();
            (vec!["period", "start", "value"], rows)
        },
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ZonesQuery {
    /// `province`, `county` (default) or `cells` (then `res`).
    level: Option<String>,
    /// H3 resolution for `level=cells`, 5 to 9 (default 7).
    res: Option<i64>,
    /// `quantiles`, `equal`, `jenks` (default) or `fixed` (with `thresholds`).
    method: Option<String>,
    /// Three increasing inner thresholds for `method=fixed`, e.g. `5,20,50`.
    thresholds: Option<String>,
    /// Rates per this many inhabitants (e.g. 10000), from the imported
    /// population; counties only.
    per: Option<i64>,
}

/// The zoning parameters, validated.
struct ZoneRequest {
    level: Level,
    method: zones::Method,
    per: Option<i64>,
}

fn parse_zones(v: &mut Validator, q: &ZonesQuery) -> ZoneRequest {
    let level = match q.level.as_deref() {
        Some("province") => Level::Province,
        Some("county") | None => Level::County,
        Some("cells") => Level::Cells(parse_res(v, q.res, Some(7))),
        Some(_) => {
            v.add("level", "must be province, county or cells");
            Level::County
        }
    };
    let method = match q.method.as_deref() {
        Some("quantiles") => zones::Method::Quantiles,
        Some("equal") => zones::Method::Equal,
        Some("jenks") | None => zones::Method::Jenks,
        Some("fixed") => {
            let t: Vec<f64> = q
                .thresholds
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter_map(|x| x.trim().parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .collect();
            v.check(
                t.len() == zones::CLASSES - 1 && t.windows(2).all(|w| w[0] < w[1]),
                "thresholds",
                "method=fixed needs three strictly increasing numbers, e.g. 5,20,50",
            );
            zones::Method::Fixed(t)
        }
        Some(_) => {
            v.add("method", "must be quantiles, equal, jenks or fixed");
            zones::Method::Jenks
        }
    };
    v.check(
        q.thresholds.is_none() || matches!(method, zones::Method::Fixed(_)),
        "thresholds",
        "only with method=fixed",
    );
    if let Some(per) = q.per {
        v.check(
            (1..=1_000_000).contains(&per),
            "per",
            "must be between 1 and 1000000",
        );
        v.check(
            level == Level::County,
            "per",
            "rates are per county population: level=county",
        );
    }
    ZoneRequest {
        level,
        method,
        per: q.per,
    }
}

/// The zone of every area of your scope: low / medium / high / critical, by
/// the breaks frozen for the Jalali year `from` falls in, else by `method`.
#[utoipa::path(get, path = "/api/v1/atlas/zones", tag = "atlas",
    params(ZonesQuery, Common, ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before")),
    security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value, description = "`{breaks, frozen, legend, areas: [{area, value, rate, zone}]}`; `format=geojson` is a download with each area's outline (or cell) as a feature; `format=csv` a table", headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn get_zones(
    State(state): State<AppState>,
    actor: Actor,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(c): ApiQuery<Common>,
    ApiQuery(q): ApiQuery<ZonesQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    unknown_parameters(
        &mut v,
        &uri,
        &["level", "res", "method", "thresholds", "per"],
    );
    let mut req = Request::parse(&mut v, &actor, &c, &[Format::GeoJson, Format::Csv]);
    let zr = parse_zones(&mut v, &q);
    check_level_in_scope(&mut v, &actor.scope, zr.level);
    v.finish()?;
    let zoning = zoning(&state, &actor, &req, &zr).await?;
    req.estimated = zoning.estimated;
    let legend = zoning
        .breaks
        .as_deref()
        .map(zones::legend)
        .unwrap_or_default();
    let area_json = |a: &ZonedArea| serde_json::json!({"area": a.area, "value": a.value, "rate": a.rate, "zone": a.zone});
    let shapes = match req.format {
        Format::GeoJson => {
            let codes: Vec<&str> = zoning.areas.iter().map(|a| a.area.as_str()).collect();
            geometries(&state, &actor.scope, zr.level, &codes).await?
        }
        _ => Vec::new(),
    };
    // What both the JSON and the GeoJSON say of the zoning as a whole.
    let described = || {
        let mut out = req.describe();
        out["level"] = zr.level.as_str().into();
        out["method"] = zoning.method.clone().into();
        out["per"] = zr.per.into();
        out["frozen"] = zoning.frozen.into();
        out["breaks"] = zoning.breaks.clone().into();
        out["legend"] = legend.clone();
        out
    };
    let geojson = || {
        let features: Vec<serde_json::Value> = zoning
            .areas
            .iter()
            .zip(shapes)
            .map(|(a, shape)| feature(&a.area, area_json(a), shape))
            .collect();
        let mut props = described();
        props["attribution"] = ATTRIBUTION.into();
        serde_json::json!({ "type": "FeatureCollection", "properties": props, "features": features })
    };
    let json = || {
        let mut out = described();
        out["areas"] = zoning
            .areas
            .iter()
            .map(area_json)
            .collect::<Vec<_>>()
            .into();
        out
    };
    Ok(answer(&headers, &req, "atlas-zones", json, geojson, || {
        let rows = zoning
            .areas
            .iter()
            .map(|a| {
                vec![
                    a.area.clone(),
                    text_of(&a.value),
                    a.rate.map(|r| r.to_string()).unwrap_or_default(),
                    a.zone.unwrap_or_default().to_string(),
                ]
            })
            .collect();
        (vec!["area", "value", "rate", "zone"], rows)
    }))
}

struct ZonedArea {
    area: String,
    value: serde_json::Value,
    rate: Option<f64>,
    zone: Option<&'static str>,
}

struct Zoning {
    /// Some figure's distinct children were estimated.
    estimated: bool,
    method: String,
    frozen: bool,
    breaks: Option<Vec<f64>>,
    areas: Vec<ZonedArea>,
}

/// The scope key frozen breaks are stored under.
fn scope_key(scope: &Scope) -> String {
    scope.province().unwrap_or("IR").to_string()
}

async fn zoning(
    state: &AppState,
    actor: &Actor,
    req: &Request,
    zr: &ZoneRequest,
) -> Result<Zoning> {
    let figures = query::figures(
        &state.db,
        &actor.scope,
        zr.level,
        &req.filter,
        &Group::Areas,
    )
    .await?;
    let population = match zr.per {
        Some(_) => zones::population(&state.db).await?,
        None => BTreeMap::new(),
    };
    // The value classed: the figure, or its rate per `per` inhabitants.
    let classed = |area: &str, f: &Figure| -> Option<f64> {
        if req.suppress && privacy::hides(f) {
            return None;
        }
        match zr.per {
            None => Some(f.value as f64),
            Some(per) => population
                .get(area)
                .map(|p| f.value as f64 * per as f64 / *p as f64),
        }
    };
    let scope = scope_key(&actor.scope);
    let level = zr.level.as_str();
    let key = zones::FrozenKey {
        jalali_year: periods::jalali(req.filter.from).0,
        scope: &scope,
        level: &level,
        measure: req.filter.measure.as_str(),
        per: zr.per.unwrap_or(0),
    };
    let (method, frozen, breaks) = match zones::frozen(&state.db, &key).await? {
        Some((method, breaks)) => (method, true, Some(breaks)),
        None => {
            let values: Vec<f64> = figures.iter().filter_map(|(a, f)| classed(a, f)).collect();
            match zones::compute(&values, &zr.method) {
                Some((name, breaks)) => (name.to_string(), false, Some(breaks)),
                None => (zr.method.name().to_string(), false, None),
            }
        }
    };
    let areas = figures
        .iter()
        .map(|(area, f)| {
            let value = classed(area, f);
            ZonedArea {
                area: area.clone(),
                value: privacy::shown(f, req.suppress),
                rate: zr.per.and(value),
                zone: value
                    .zip(breaks.as_deref())
                    .map(|(x, b)| zones::zone_name(zones::zone(x, b))),
            }
        })
        .collect();
    Ok(Zoning {
        estimated: figures.values().any(|f| f.estimated),
        method,
        frozen,
        breaks,
        areas,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// The province drawn, e.g. `IR-23` (default: your own).
    province: Option<String>,
    /// As for `/api/v1/atlas/zones`: `quantiles`, `equal`, `jenks` (default) or `fixed`.
    method: Option<String>,
    /// Three increasing inner thresholds for `method=fixed`, e.g. `5,20,50`.
    thresholds: Option<String>,
    /// Rates per this many inhabitants (e.g. 10000), from the imported population.
    per: Option<i64>,
}

/// The printable map of a province for provincial meetings: its counties
/// coloured by the zoning `GET /api/v1/atlas/zones?level=county` gives you
/// (frozen breaks included), with the legend, the Persian title, the
/// Jalali period and the attribution, on an A4 landscape page. A download,
/// so always suppressed: a county resting on 1–4 children is hatched.
#[utoipa::path(get, path = "/api/v1/atlas/zones/map", tag = "atlas",
    params(MapQuery, Common, ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before")),
    security(("bearer" = [])),
    responses((status = 200, content_type = "image/svg+xml", body = String,
            description = "An SVG document (`attachment; filename=\"atlas-IR-23.svg\"`)",
            headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "A province outside what you may see"),
        (status = 422, body = Problem)))]
async fn zones_map(
    State(state): State<AppState>,
    actor: Actor,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(c): ApiQuery<Common>,
    ApiQuery(q): ApiQuery<MapQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    unknown_parameters(&mut v, &uri, &["province", "method", "thresholds", "per"]);
    v.check(
        c.format.is_none(),
        "format",
        "this endpoint answers an SVG document only",
    );
    let mut req = Request::parse(&mut v, &actor, &c, &[]);
    req.suppress = true;
    let zq = ZonesQuery {
        level: None,
        res: None,
        method: q.method.clone(),
        thresholds: q.thresholds.clone(),
        per: q.per,
    };
    let zr = parse_zones(&mut v, &zq);
    let province = q
        .province
        .clone()
        .or_else(|| actor.scope.province().map(str::to_string));
    match &province {
        None => v.add(
            "province",
            "is required: say which province to draw, e.g. IR-23",
        ),
        Some(p) => v.check(
            kudakyar_api::provinces::province_name(p).is_some(),
            "province",
            "must be a province code like IR-23",
        ),
    }
    v.finish()?;
    let province = province.unwrap_or_default();
    if actor.scope.province().is_some_and(|mine| mine != province) {
        return Err(Error::NotFound);
    }
    let zoning = zoning(&state, &actor, &req, &zr).await?;
    let zoned: BTreeMap<&str, &ZonedArea> =
        zoning.areas.iter().map(|a| (a.area.as_str(), a)).collect();
    let counties: Vec<Outline> = outlines(&state, &actor.scope, Level::County)
        .await?
        .into_iter()
        .filter(|o| o.province == province)
        .collect();
    let features: Vec<svg::Feature> = counties
        .into_iter()
        .filter_map(|o| {
            let geometry: geojson::Geometry = serde_json::from_str(&o.simplified).ok()?;
            let shape = crate::geo::index::to_multipolygon(&geometry).ok()?;
            let area = zoned.get(o.code.as_str());
            let suppressed = area.is_some_and(|a| a.value == privacy::SUPPRESSED);
            let (class, value) = match area {
                _ if suppressed => (svg::Class::Suppressed, None),
                Some(a) => (
                    a.zone.map_or(svg::Class::NoData, map_class),
                    a.rate.or(a.value.as_f64()),
                ),
                None => (svg::Class::NoData, None),
            };
            Some(svg::Feature {
                code: o.code,
                name_fa: o.name_fa,
                shape,
                class,
                value,
            })
        })
        .collect();
    let legend: Vec<svg::LegendEntry> = zoning
        .breaks
        .as_deref()
        .unwrap_or_default()
        .windows(2)
        .zip([
            svg::Class::Low,
            svg::Class::Medium,
            svg::Class::High,
            svg::Class::Critical,
        ])
        .enumerate()
        // Few distinct values make empty classes (`6 تا 6` four times): a
        // printed legend lists only classes a county can fall in.
        .filter(|(i, (w, _))| *i == 0 || w[0] < w[1])
        .map(|(_, (w, class))| svg::LegendEntry {
            class,
            range: format!("{} تا {}", number_fa(w[0]), number_fa(w[1])),
        })
        .collect();
    let province_name = kudakyar_api::provinces::province_name(&province).unwrap_or_default();
    let title = format!("اطلس حضور کودکان کار — استان {province_name}");
    let measure = match zr.per {
        None => measure_fa(req.filter.measure).to_string(),
        Some(per) => format!(
            "{} در هر {} نفر",
            measure_fa(req.filter.measure),
            number_fa(per as f64)
        ),
    };
    let day = |d: i64| crate::indicators::period::jalali_text(periods::date(d));
    let period = format!("{} تا {}", day(req.filter.from), day(req.filter.to));
    let document = svg::render(&svg::Map {
        title: &title,
        measure: &measure,
        period: &period,
        features: &features,
        legend: &legend,
    });
    Ok(respond(
        &headers,
        document.into_bytes(),
        "image/svg+xml",
        &format!("atlas-{province}.svg"),
        true,
    ))
}

/// The map's class of a zone.
fn map_class(zone: &str) -> svg::Class {
    match zone {
        "low" => svg::Class::Low,
        "medium" => svg::Class::Medium,
        "high" => svg::Class::High,
        _ => svg::Class::Critical,
    }
}

/// A measure's name on the printed map.
fn measure_fa(measure: Measure) -> &'static str {
    match measure {
        Measure::Children => "کودکان دیده‌شده",
        Measure::Encounters => "مواجهه‌ها",
        Measure::Reports => "گزارش‌ها",
        Measure::ChildrenReported => "کودکان گزارش‌شده",
        Measure::Incidents => "رخدادها",
    }
}

/// A number as the map prints it: Persian digits, a decimal only when it has one.
fn number_fa(x: f64) -> String {
    let text = if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    };
    crate::indicators::period::persian_digits(&text).replace('.', "٫")
}

/// What to freeze: the zoning as `GET /api/v1/atlas/zones` would compute it
/// now, for the Jalali year given.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeZones {
    /// The Jalali year (e.g. 1405) whose maps will use these breaks.
    pub jalali_year: i32,
    /// `province`, `county` or `cells`.
    pub level: Option<String>,
    pub res: Option<i64>,
    pub measure: Option<String>,
    pub method: Option<String>,
    pub thresholds: Option<String>,
    pub per: Option<i64>,
}

/// Freezes the zoning breaks of a Jalali year for your scope (provincial
/// staff: their province; national admins: the country), computed from that
/// year's figures. The first freeze stands; repeating it answers the same.
#[utoipa::path(post, path = "/api/v1/atlas/zones/freeze", tag = "atlas",
    request_body = FreezeZones, security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value, description = "`{jalali_year, method, breaks}`"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn freeze_zones(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<FreezeZones>,
) -> Result<Json<serde_json::Value>> {
    policy::freeze_zones(&actor, actor.scope.province())?;
    let mut v = Validator::new();
    v.check(
        (1390..=1500).contains(&body.jalali_year),
        "jalali_year",
        "must be a Jalali year between 1390 and 1500",
    );
    let zq = ZonesQuery {
        level: body.level.clone(),
        res: body.res,
        method: body.method.clone(),
        thresholds: body.thresholds.clone(),
        per: body.per,
    };
    let zr = parse_zones(&mut v, &zq);
    // The figures of that Jalali year: from Farvardin 1 to Esfand's last day.
    // Computed on a year inside the range even when the one sent is not (its
    // error is already in `v`), so a far-off year cannot overflow the maths.
    let (first, last) = jalali_year_days(body.jalali_year.clamp(1390, 1500));
    let common = Common {
        measure: body.measure.clone(),
        from: Some(periods::format_day(first)),
        to: Some(periods::format_day(last)),
        ..Common::default()
    };
    let req = Request::parse(&mut v, &actor, &common, &[]);
    v.finish()?;
    let zoning = zoning(&state, &actor, &req, &zr).await?;
    let Some(breaks) = zoning.breaks else {
        return Err(Error::InsufficientData(
            "there are no figures to compute breaks from in that year".into(),
        ));
    };
    let scope = scope_key(&actor.scope);
    let level = zr.level.as_str();
    let key = zones::FrozenKey {
        jalali_year: body.jalali_year,
        scope: &scope,
        level: &level,
        measure: req.filter.measure.as_str(),
        per: zr.per.unwrap_or(0),
    };
    let (method, breaks) =
        zones::freeze(&state.db, &key, &zoning.method, &breaks, &actor.user_id).await?;
    Ok(Json(serde_json::json!({
        "jalali_year": body.jalali_year, "scope": scope, "level": level,
        "measure": req.filter.measure.as_str(), "per": zr.per, "method": method, "breaks": breaks,
    })))
}

/// The first and last day of a Jalali year (Farvardin 1 falls on March 19–22).
fn jalali_year_days(year: i32) -> (i64, i64) {
    let start_of = |y: i32| {
        let march_19 = periods::day_of_date(
            time::Date::from_calendar_date(y + 621, time::Month::March, 19)
                .unwrap_or(time::Date::MIN),
        );
        (march_19..march_19 + 5)
            .find(|d| periods::jalali(*d) == (y, 1, 1))
            .unwrap_or(march_19)
    };
    (start_of(year), start_of(year + 1) - 1)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotspotQuery {
    /// H3 resolution of the stored run (default 7).
    res: Option<i64>,
    /// `json` (default), `geojson` or `csv`.
    format: Option<String>,
}

/// The emerging hot spots of the last run (`kudakyar atlas hotspots` or the
/// nightly job): per H3 cell of your scope, its pattern, Gi* z and p of the
/// last week, and the Mann-Kendall trend of its z-scores.
#[utoipa::path(get, path = "/api/v1/atlas/hotspots", tag = "atlas",
    params(HotspotQuery, ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before")),
    security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value, description = "`{res, run, cells: [{cell, pattern, z, p, trend_z, trend_p}]}`", headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem, description = "A bad parameter, or the last run had too little data (`insufficient-data`, saying why)")))]
async fn get_hotspots(
    State(state): State<AppState>,
    actor: Actor,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<HotspotQuery>,
) -> Result<Response> {
    let mut v = Validator::new();
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    for (name, _) in pairs {
        v.check(
            ["res", "format"].contains(&name.as_str()),
            &name,
            "is not a parameter of this endpoint",
        );
    }
    let res = parse_res(&mut v, q.res, Some(hotspots::DEFAULT_RES));
    let common = Common {
        format: q.format.clone(),
        ..Common::default()
    };
    let req = Request::parse(&mut v, &actor, &common, &[Format::GeoJson, Format::Csv]);
    v.finish()?;
    let stored = hotspots::read(&state.db, &actor.scope, res).await?;
    let json = || {
        serde_json::json!({
            "res": res, "run": stored.run, "cells": stored.cells.iter().map(|c| serde_json::json!({
                "cell": c.cell, "pattern": c.pattern, "z": c.z, "p": c.p,
                "trend_z": c.trend_z, "trend_p": c.trend_p,
            })).collect::<Vec<_>>(),
        })
    };
    let geojson = || {
        let features: Vec<serde_json::Value> = stored
            .cells
            .iter()
            .filter_map(|c| {
                let cell = c.cell.parse::<CellIndex>().ok()?;
                let properties = serde_json::json!({
                    "cell": c.cell, "pattern": c.pattern, "z": c.z, "p": c.p,
                    "trend_z": c.trend_z, "trend_p": c.trend_p,
                });
                Some(feature(&c.cell, properties, cell_geometry(cell)))
            })
            .collect();
        serde_json::json!({ "type": "FeatureCollection", "properties": { "res": res, "run": stored.run }, "features": features })
    };
    Ok(answer(
        &headers,
        &req,
        "atlas-hotspots",
        json,
        geojson,
        || {
            let rows = stored
                .cells
                .iter()
                .map(|c| {
                    vec![
                        c.cell.clone(),
                        c.pattern.clone(),
                        c.z.to_string(),
                        c.p.to_string(),
                        c.trend_z.to_string(),
                        c.trend_p.to_string(),
                    ]
                })
                .collect();
            (
                vec!["cell", "pattern", "z", "p", "trend_z", "trend_p"],
                rows,
            )
        },
    ))
}
