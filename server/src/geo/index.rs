//! Which province and county a point is in: [`Index::place`].
//!
//! The imported boundaries are held in memory, one [`Layer`] per level. A
//! lookup asks the layer's R-tree (over each boundary's bounding box) for the
//! few candidates whose box holds the point, then tests those exactly with
//! `geo`'s point in polygon — so a lookup touches two or three polygons, not
//! 478.
//!
//! Borders and coasts: OSM's county polygons do not tile the country exactly
//! (slivers between neighbours, a pier past the coastline, a phone's GPS a few
//! metres off), and a point exactly on a border is in neither polygon. Such a
//! point goes to the nearest county within [`TOLERANCE_M`]; further away it is
//! in no place (`None`): a report there is "outside Iran" (422), an encounter
//! stays unplaced (province and county NULL, listed by the atlas as such).
//! Distances are measured from the point to the nearest point of the polygon
//! in degree space, then as a great-circle distance: off by a few percent at
//! Iran's latitudes, which a 5 km tolerance does not notice.
//!
//! The [`Cache`] on each [`crate::db::Db`] loads the index on first use and
//! checks the `boundaries` table's import stamp again at most every
//! [`RECHECK`], so a server picks up a `kudakyar geo import` run elsewhere
//! without a restart; an import in this process replaces it at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use geo::{BoundingRect, Closest, ClosestPoint, Contains, Distance, Haversine};
use geo::{MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use sqlx::Row;

/// How far outside every polygon a point may be and still be placed in the
/// nearest county (a border, a coast, GPS error).
pub const TOLERANCE_M: f64 = 5_000.0;

/// How often a cached index asks the database whether a newer import exists.
pub const RECHECK: Duration = Duration::from_secs(30);

/// Metres in a degree of latitude (and of longitude at the equator).
const METRES_PER_DEGREE: f64 = 111_320.0;

/// A point's province and county; `None` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub province: Option<String>,
    pub county: Option<String>,
}

/// One imported boundary, ready for point in polygon.
#[derive(Debug, Clone)]
pub struct Region {
    /// ISO 3166-2 for a province, the county code for a county.
    pub code: String,
    /// The province it lies in (a province's own code).
    pub province: String,
    pub shape: MultiPolygon<f64>,
}

/// The boundaries of one level and an R-tree over their bounding boxes.
#[derive(Debug, Default)]
pub struct Layer {
    regions: Vec<Region>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl Layer {
    pub fn new(regions: Vec<Region>) -> Layer {
        let boxes = regions
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let b = r.shape.bounding_rect()?;
                let rect = Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
                Some(GeomWithData::new(rect, i))
            })
            .collect();
        Layer {
            regions,
            tree: RTree::bulk_load(boxes),
        }
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// The region whose polygon holds the point (lng, lat).
    pub fn containing(&self, at: Point<f64>) -> Option<&Region> {
        self.tree
            .locate_all_at_point(&[at.x(), at.y()])
            .map(|b| &self.regions[b.data])
            .find(|r| r.shape.contains(&at))
    }

    /// The region nearest to the point within `tolerance_m`, and how far it is.
    pub fn nearest(&self, at: Point<f64>, tolerance_m: f64) -> Option<(&Region, f64)> {
        let dlat = tolerance_m / METRES_PER_DEGREE;
        let dlng = dlat / at.y().to_radians().cos().max(0.01);
        let around = AABB::from_corners(
            [at.x() - dlng, at.y() - dlat],
            [at.x() + dlng, at.y() + dlat],
        );
        self.tree
            .locate_in_envelope_intersecting(&around)
            .filter_map(|b| {
                let region = &self.regions[b.data];
                match region.shape.closest_point(&at) {
                    Closest::Intersection(p) | Closest::SinglePoint(p) => {
                        Some((region, Haversine.distance(at, p)))
                    }
                    Closest::Indeterminate => None,
                }
            })
            .filter(|(_, metres)| *metres <= tolerance_m)
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Every imported boundary; empty before the first import.
#[derive(Debug, Default)]
pub struct Index {
    pub provinces: Layer,
    pub counties: Layer,
    /// The import these came from (`boundaries.imported_at`).
    pub stamp: Option<i64>,
}

impl Index {
    /// No boundaries imported: callers fall back to their older rules.
    pub fn is_empty(&self) -> bool {
        self.provinces.is_empty() && self.counties.is_empty()
    }

    /// The province and county of a point, `None` when it is in no province
    /// and no county is within [`TOLERANCE_M`] (at sea, abroad).
    ///
    /// Inside a county: that county and its province. Inside a province but
    /// in no county (a gap in the county layer): that province and the
    /// nearest county within tolerance, if it is in that province. In
    /// neither: the nearest county within tolerance and its province.
    pub fn place(&self, lat: f64, lng: f64) -> Option<Place> {
        let at = Point::new(lng, lat);
        if let Some(county) = self.counties.containing(at) {
            return Some(county_place(county));
        }
        let near = self.counties.nearest(at, TOLERANCE_M).map(|(c, _)| c);
        match self.provinces.containing(at) {
            Some(province) => Some(Place {
                province: Some(province.code.clone()),
                county: near
                    .filter(|c| c.province == province.code)
                    .map(|c| c.code.clone()),
            }),
            None => near.map(county_place).or_else(|| {
                // A province layer without counties (not yet imported).
                self.provinces.nearest(at, TOLERANCE_M).map(|(p, _)| Place {
                    province: Some(p.code.clone()),
                    county: None,
                })
            }),
        }
    }

    /// Loads every boundary from the database.
    pub async fn load(pool: &sqlx::AnyPool) -> crate::error::Result<Index> {
        let rows = sqlx::query(
            "SELECT level, code, province, geometry, imported_at FROM boundaries ORDER BY level, code",
        )
        .fetch_all(pool)
        .await?;
        let mut raw = Vec::with_capacity(rows.len());
        let mut stamp = None;
        for row in &rows {
            let level: String = row.try_get("level")?;
            let region = (
                row.try_get::<String, _>("code")?,
                row.try_get::<String, _>("province")?,
                row.try_get::<String, _>("geometry")?,
            );
            stamp = Some(row.try_get::<i64, _>("imported_at")?);
            raw.push((level == "province", region));
        }
        // Parsing a country's polygons takes a moment: off the async workers.
        tokio::task::spawn_blocking(move || {
            let (mut provinces, mut counties) = (Vec::new(), Vec::new());
            for (is_province, (code, province, geometry)) in raw {
                let shape =
                    parse_shape(&geometry).map_err(|e| anyhow::anyhow!("boundary {code}: {e}"))?;
                let region = Region {
                    code,
                    province,
                    shape,
                };
                if is_province {
                    provinces.push(region);
                } else {
                    counties.push(region);
                }
            }
            Ok(Index {
                provinces: Layer::new(provinces),
                counties: Layer::new(counties),
                stamp,
            })
        })
        .await
        .map_err(anyhow::Error::new)?
    }
}

fn county_place(county: &Region) -> Place {
    Place {
        province: Some(county.province.clone()),
        county: Some(county.code.clone()),
    }
}

/// A GeoJSON geometry (text) as a MultiPolygon.
pub fn parse_shape(text: &str) -> Result<MultiPolygon<f64>, String> {
    let geometry: geojson::Geometry = serde_json::from_str(text).map_err(|e| e.to_string())?;
    to_multipolygon(&geometry)
}

/// A GeoJSON Polygon or MultiPolygon as a MultiPolygon; other types are an error.
pub fn to_multipolygon(geometry: &geojson::Geometry) -> Result<MultiPolygon<f64>, String> {
    let shape = geo::Geometry::<f64>::try_from(&geometry.value).map_err(|e| e.to_string())?;
    match shape {
        geo::Geometry::MultiPolygon(m) => Ok(m),
        geo::Geometry::Polygon(p) => Ok(MultiPolygon::new(vec![p])),
        other => Err(format!(
            "a {} where a Polygon or MultiPolygon was expected",
            geometry_name(&other)
        )),
    }
}

fn geometry_name(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "Point",
        geo::Geometry::MultiPoint(_) => "MultiPoint",
        geo::Geometry::LineString(_) | geo::Geometry::Line(_) => "LineString",
        geo::Geometry::MultiLineString(_) => "MultiLineString",
        geo::Geometry::GeometryCollection(_) => "GeometryCollection",
        _ => "geometry",
    }
}

/// The index a [`crate::db::Db`] shares among its clones: loaded on first
/// use, reloaded when the table's import stamp changed (checked at most every
/// [`RECHECK`]), replaced at once by an import in this process.
#[derive(Clone, Default)]
pub struct Cache(Arc<tokio::sync::Mutex<Option<Cached>>>);

struct Cached {
    index: Arc<Index>,
    checked: Instant,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("geo::index::Cache")
    }
}

impl Cache {
    /// The current index (empty before any import).
    pub async fn get(&self, pool: &sqlx::AnyPool) -> crate::error::Result<Arc<Index>> {
        // One lock: concurrent first lookups wait for one load, not each do one.
        let mut slot = self.0.lock().await;
        if let Some(cached) = slot.as_mut() {
            if cached.checked.elapsed() < RECHECK {
                return Ok(cached.index.clone());
            }
            let stamp: Option<i64> = sqlx::query_scalar("SELECT MAX(imported_at) FROM boundaries")
                .fetch_one(pool)
                .await?;
            cached.checked = Instant::now();
            if stamp == cached.index.stamp {
                return Ok(cached.index.clone());
            }
        }
        let index = Arc::new(Index::load(pool).await?);
        *slot = Some(Cached {
            index: index.clone(),
            checked: Instant::now(),
        });
        Ok(index)
    }

    /// Drops the cached index: the next [`Cache::get`] loads the table again.
    pub async fn invalidate(&self) {
        *self.0.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn square(code: &str, province: &str, x: f64, y: f64) -> Region {
        Region {
            code: code.into(),
            province: province.into(),
            shape: MultiPolygon::new(vec![polygon![
                (x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0)
            ]]),
        }
    }

    fn index() -> Index {
        Index {
            provinces: Layer::new(vec![square("IR-01", "IR-01", 50.0, 30.0)]),
            counties: Layer::new(vec![square("A", "IR-01", 50.0, 30.0)]),
            stamp: Some(1),
        }
    }

    #[test]
    fn inside_near_and_far() {
        let index = index();
        let inside = index.place(30.5, 50.5).unwrap();
        assert_eq!(inside.county.as_deref(), Some("A"));
        assert_eq!(inside.province.as_deref(), Some("IR-01"));
        // On the border itself: in no polygon, placed by the tolerance.
        assert_eq!(
            index.place(30.5, 51.0).unwrap().county.as_deref(),
            Some("A")
        );
        // 0.03° of longitude ≈ 2.9 km east of the edge: within tolerance.
        assert_eq!(
            index.place(30.5, 51.03).unwrap().county.as_deref(),
            Some("A")
        );
        // 0.1° ≈ 9.6 km: too far.
        assert_eq!(index.place(30.5, 51.1), None);
        assert!(Index::default().is_empty());
        assert_eq!(Index::default().place(30.5, 50.5), None);
    }
}
