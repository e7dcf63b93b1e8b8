//! `kudakyar geo import`: admin boundaries from GeoJSON into the `boundaries`
//! table.
//!
//! 1. [`read_provinces`] and [`read_counties`] parse FeatureCollections whose
//!    features carry OSM tags (under `properties.tags`, as OSM exports write
//!    them, or flat in `properties`). Features with no tags or with no area
//!    (the Points OSM exports put beside the relations) are skipped and
//!    counted; a tagged polygon missing what it needs is an error naming it.
//! 2. [`prepare`] simplifies each shape for display and writes both versions
//!    as GeoJSON text.
//! 3. [`replace`] deletes every stored boundary and inserts the new ones in one
//!    write transaction: a failed import leaves the previous set whole.
//!
//! Codes. A province is its `ISO3166-2` tag (IR-23). Counties have no code
//! tag, so a county's code is its `wikidata` id (Q643031) where it has one —
//! stable across OSM edits and shared by other datasets — else `r` and its
//! OSM relation id (r6554970), which OSM keeps for the life of the relation.
//! Both satisfy [`super::is_county_code`]. A county's province is the province
//! holding an interior point of the county (within the tolerance of
//! [`super::index`]), so a single file of all counties works as well as a
//! folder of one file per province.
//!
//! Simplification: Visvalingam–Whyatt, topology-preserving (no ring crosses
//! itself), dropping vertices whose triangle is under [`SIMPLIFY_AREA`]
//! square degrees, then coordinates rounded to [`DISPLAY_DECIMALS`] places
//! (about 11 m). Neighbours are simplified separately, so their shared edges
//! may part by a few hundred metres at phone zoom levels: fine for a
//! choropleth, never used for placing a point (the full geometry is).

use std::path::{Path, PathBuf};

use geo::{BoundingRect, Coord, InteriorPoint, MapCoords, MultiPolygon, SimplifyVwPreserve};
use serde_json::{Map, Value};

use super::index::{Layer, Region, TOLERANCE_M, to_multipolygon};
use super::{is_county_code, is_province_code};
use crate::audit::{self, Event, Origin, Who};
use crate::db::Db;
use crate::error::{Error, Result};

/// Visvalingam–Whyatt threshold: a vertex whose triangle with its neighbours
/// is smaller than this (square degrees; 1e-4 ≈ 1 km² at Iran's latitudes)
/// is dropped from the display version.
pub const SIMPLIFY_AREA: f64 = 1e-4;
/// Decimal places kept in the display version (4: about 11 m).
pub const DISPLAY_DECIMALS: i32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Province,
    County,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::County => "county",
        }
    }
}

/// One boundary as read from a file.
#[derive(Debug, Clone)]
pub struct Boundary {
    pub level: Level,
    pub code: String,
    pub province: String,
    pub name_fa: String,
    pub name_en: Option<String>,
    pub wikidata: Option<String>,
    pub shape: MultiPolygon<f64>,
    /// The geometry as it was in the file (GeoJSON text).
    pub geometry: String,
}

/// The boundaries of one level read from files, and the features skipped.
#[derive(Debug, Default)]
pub struct Read {
    pub boundaries: Vec<Boundary>,
    pub skipped: u64,
}

/// A boundary ready to store: with its bounding box and display version.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub boundary: Boundary,
    pub min: Coord<f64>,
    pub max: Coord<f64>,
    pub simplified: String,
}

/// What an import stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub provinces: u64,
    pub counties: u64,
    pub skipped: u64,
    /// Size of the counties' display versions together (JSON bytes).
    pub county_display_bytes: u64,
    /// Size of the counties' full geometries together (JSON bytes).
    pub county_full_bytes: u64,
}

/// Reads a FeatureCollection of provinces (`ISO3166-2` required).
pub fn read_provinces(path: &Path) -> Result<Read> {
    let mut read = Read::default();
    for (tags, feature_id, shape, geometry) in features(path, &mut read.skipped)? {
        let code = tag(&tags, "ISO3166-2")
            .filter(|c| is_province_code(c))
            .ok_or_else(|| {
                bad(
                    path,
                    format!("province {feature_id} has no ISO3166-2 tag IR-00 … IR-30"),
                )
            })?;
        read.boundaries.push(boundary(
            path,
            &tags,
            Level::Province,
            code.clone(),
            code,
            shape,
            geometry,
        )?);
    }
    unique(path, &read.boundaries)?;
    Ok(read)
}

/// Reads counties from a FeatureCollection file, or from every `.geojson` /
/// `.json` file of a folder (in name order), placing each in one of
/// `provinces`.
pub fn read_counties(path: &Path, provinces: &[Boundary]) -> Result<Read> {
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| bad(path, e.to_string()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "geojson" || x == "json"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let layer = Layer::new(
        provinces
            .iter()
            .map(|p| Region {
                code: p.code.clone(),
                province: p.code.clone(),
                shape: p.shape.clone(),
            })
            .collect(),
    );
    let mut read = Read::default();
    for file in &files {
        for (tags, feature_id, shape, geometry) in features(file, &mut read.skipped)? {
            let code = tag(&tags, "wikidata")
                .or_else(|| {
                    feature_id
                        .strip_prefix("relation/")
                        .map(|id| format!("r{id}"))
                })
                .filter(|c| is_county_code(c))
                .ok_or_else(|| {
                    bad(
                        file,
                        format!(
                            "county {feature_id} has neither a wikidata tag nor an OSM relation id"
                        ),
                    )
                })?;
            let inside = shape
                .interior_point()
                .and_then(|p| {
                    layer
                        .containing(p)
                        .or_else(|| layer.nearest(p, TOLERANCE_M).map(|(r, _)| r))
                })
                .ok_or_else(|| bad(file, format!("county {code} lies in no imported province")))?;
            let province = inside.code.clone();
            read.boundaries.push(boundary(
                file,
                &tags,
                Level::County,
                code,
                province,
                shape,
                geometry,
            )?);
        }
    }
    unique(path, &read.boundaries)?;
    Ok(read)
}

/// Simplifies each boundary for display; `progress` hears of each one.
pub fn prepare(boundaries: Vec<Boundary>, mut progress: impl FnMut(u64)) -> Result<Vec<Prepared>> {
    let scale = 10f64.powi(DISPLAY_DECIMALS);
    let round = |c: Coord<f64>| Coord {
        x: (c.x * scale).round() / scale,
        y: (c.y * scale).round() / scale,
    };
    let mut prepared = Vec::with_capacity(boundaries.len());
    for boundary in boundaries {
        let rect = boundary.shape.bounding_rect().ok_or_else(|| {
            Error::BadRequest(format!("boundary {} has an empty shape", boundary.code))
        })?;
        let display = boundary
            .shape
            .simplify_vw_preserve(SIMPLIFY_AREA)
            .map_coords(round);
        let simplified = serde_json::to_string(&geojson::Geometry::from(&display))
            .map_err(anyhow::Error::new)?;
        prepared.push(Prepared {
            min: rect.min(),
            max: rect.max(),
            simplified,
            boundary,
        });
        progress(1);
    }
    Ok(prepared)
}

/// Replaces every stored boundary with `prepared`, in one transaction, and
/// makes this database's index load them. Audited as the system.
pub async fn replace(db: &Db, prepared: &[Prepared], skipped: u64) -> Result<Imported> {
    let at = crate::now_ms();
    let mut done = Imported {
        skipped,
        ..Imported::default()
    };
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM boundaries")
        .execute(&mut *tx)
        .await?;
    for p in prepared {
        let b = &p.boundary;
        sqlx::query(
            "INSERT INTO boundaries (level, code, province, name_fa, name_en, wikidata,
                 min_lat, min_lng, max_lat, max_lng, geometry, simplified, imported_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(b.level.as_str())
        .bind(&b.code)
        .bind(&b.province)
        .bind(&b.name_fa)
        .bind(b.name_en.as_deref())
        .bind(b.wikidata.as_deref())
        .bind(p.min.y)
        .bind(p.min.x)
        .bind(p.max.y)
        .bind(p.max.x)
        .bind(&b.geometry)
        .bind(&p.simplified)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        match b.level {
            Level::Province => done.provinces += 1,
            Level::County => {
                done.counties += 1;
                done.county_display_bytes += p.simplified.len() as u64;
                done.county_full_bytes += b.geometry.len() as u64;
            }
        }
    }
    audit::record(
        &mut *tx,
        &Who::system(),
        &Origin::system(),
        Event::new("geo.import", "boundary", None).with_detail(serde_json::json!({
            "provinces": done.provinces, "counties": done.counties, "skipped": done.skipped,
        })),
    )
    .await?;
    tx.commit().await?;
    db.boundaries_cache().invalidate().await;
    Ok(done)
}

/// Reads the provinces, then the counties placed in them: every boundary of
/// an import, and the features skipped in both.
pub fn read_all(provinces: &Path, counties: &Path) -> Result<Read> {
    let mut read = read_provinces(provinces)?;
    let counties = read_counties(counties, &read.boundaries)?;
    read.boundaries.extend(counties.boundaries);
    read.skipped += counties.skipped;
    Ok(read)
}

/// A feature's tags, its id for messages (`relation/123` for OSM), its shape
/// and its geometry as GeoJSON text; tagless and arealess features counted
/// in `skipped`.
type Feature = (Map<String, Value>, String, MultiPolygon<f64>, String);

fn features(path: &Path, skipped: &mut u64) -> Result<Vec<Feature>> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    let collection: geojson::FeatureCollection =
        serde_json::from_str(&text).map_err(|e| bad(path, e.to_string()))?;
    let mut out = Vec::new();
    for (n, feature) in collection.features.into_iter().enumerate() {
        let properties = feature.properties.unwrap_or_default();
        let tags = match properties.get("tags") {
            Some(Value::Object(tags)) => tags.clone(),
            _ => properties.clone(),
        };
        let id = match (properties.get("type"), properties.get("id")) {
            (Some(Value::String(kind)), Some(Value::Number(id))) => format!("{kind}/{id}"),
            _ => format!("feature #{n}"),
        };
        let areal = feature.geometry.as_ref().is_some_and(|g| {
            matches!(
                g.value,
                geojson::GeometryValue::Polygon { .. }
                    | geojson::GeometryValue::MultiPolygon { .. }
            )
        });
        let Some(geometry) = feature.geometry.filter(|_| areal && !tags.is_empty()) else {
            *skipped += 1;
            continue;
        };
        let shape = to_multipolygon(&geometry).map_err(|e| bad(path, format!("{id}: {e}")))?;
        let text = serde_json::to_string(&geometry).map_err(anyhow::Error::new)?;
        out.push((tags, id, shape, text));
    }
    Ok(out)
}

fn boundary(
    path: &Path,
    tags: &Map<String, Value>,
    level: Level,
    code: String,
    province: String,
    shape: MultiPolygon<f64>,
    geometry: String,
) -> Result<Boundary> {
    let name_fa = tag(tags, "name:fa")
        .or_else(|| tag(tags, "name"))
        .ok_or_else(|| bad(path, format!("{} {code} has no name", level.as_str())))?;
    Ok(Boundary {
        level,
        name_fa,
        name_en: tag(tags, "name:en"),
        wikidata: tag(tags, "wikidata"),
        code,
        province,
        shape,
        geometry,
    })
}

fn tag(tags: &Map<String, Value>, key: &str) -> Option<String> {
    tags.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn unique(path: &Path, boundaries: &[Boundary]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    match boundaries.iter().find(|b| !seen.insert(&b.code)) {
        Some(b) => Err(bad(
            path,
            format!(
                "two {} boundaries have the code {}",
                b.level.as_str(),
                b.code
            ),
        )),
        None => Ok(()),
    }
}

fn bad(path: &Path, message: String) -> Error {
    Error::BadRequest(format!("{}: {message}", path.display()))
}
