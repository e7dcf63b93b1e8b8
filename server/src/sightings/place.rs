//! Where a report is: inside the country, and in which province and county.
//!
//! Once administrative boundaries are imported (`kudakyar geo import`), a
//! point is placed by them ([`crate::geo::Index::place`]: point in polygon,
//! with a tolerance at borders and coasts), and a point they do not place is
//! outside Iran. Before that, a point is checked against the country's
//! bounding box and placed in the province and county of the nearest service
//! centre — the team that would go there. `kudakyar sightings relocate` places
//! the stored reports again after an import.

use sqlx::Row;

use crate::geo::Index;

/// Iran's bounding box (degrees), a little generous: a point outside it is
/// certainly not in the country. Refined by the imported boundaries.
const LAT_RANGE: std::ops::RangeInclusive<f64> = 24.8..=39.9;
const LNG_RANGE: std::ops::RangeInclusive<f64> = 43.9..=63.5;

/// A report's province and county; both `None` when nothing could place it
/// (then only national staff see it, until it is placed).
pub use crate::geo::Place;

/// Is this point in Iran: in (or within tolerance of) an imported boundary,
/// or inside the bounding box when none is imported?
pub fn in_country(boundaries: &Index, lat: f64, lng: f64) -> bool {
    if boundaries.is_empty() {
        LAT_RANGE.contains(&lat) && LNG_RANGE.contains(&lng)
    } else {
        boundaries.place(lat, lng).is_some()
    }
}

/// Places a point: by the imported boundaries when there are any, else in
/// the province and county of the nearest service centre.
pub async fn locate<'e, E>(
    boundaries: &Index,
    executor: E,
    lat: f64,
    lng: f64,
) -> sqlx::Result<Place>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if !boundaries.is_empty() {
        return Ok(boundaries.place(lat, lng).unwrap_or_default());
    }
    // Squared degree distance, with longitude shrunk by cos(latitude): exact
    // enough to pick the nearest centre, and plain SQL on both backends.
    let shrink = lat.to_radians().cos().powi(2);
    let row = sqlx::query(
        "SELECT province, county FROM centres
         ORDER BY (lat - $1) * (lat - $1) + (lng - $2) * (lng - $2) * $3, id
         LIMIT 1",
    )
    .bind(lat)
    .bind(lng)
    .bind(shrink)
    .fetch_optional(executor)
    .await?;
    Ok(match row {
        Some(row) => Place {
            province: row.try_get("province")?,
            county: row.try_get("county")?,
        },
        None => Place::default(),
    })
}

#[cfg(test)]
mod tests {
    use crate::geo::Index;

    fn in_country(lat: f64, lng: f64) -> bool {
        super::in_country(&Index::default(), lat, lng)
    }

    #[test]
    fn the_bounding_box_holds_the_country_and_not_its_neighbours() {
        assert!(in_country(35.6892, 51.3890)); // Tehran
        assert!(in_country(25.29, 60.64)); // Chabahar
        assert!(in_country(39.65, 47.9)); // Parsabad, near the northern border
        assert!(!in_country(41.0, 29.0)); // Istanbul
        assert!(!in_country(24.45, 54.38)); // Abu Dhabi
        assert!(!in_country(0.0, 0.0));
    }
}
