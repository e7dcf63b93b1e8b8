//! Where a report is: inside the country, and in which province and county.
//!
//! Until administrative boundaries are imported (the atlas), a point is
//! checked against the country's bounding box and placed in the province and
//! county of the nearest service centre — the team that would go there. Once
//! boundaries exist, point-in-polygon replaces both, and `kudakyar sightings
//! relocate` places the stored reports again.

use sqlx::Row;

/// Iran's bounding box (degrees), a little generous: a point outside it is
/// certainly not in the country. Refined by the imported boundaries.
const LAT_RANGE: std::ops::RangeInclusive<f64> = 24.8..=39.9;
const LNG_RANGE: std::ops::RangeInclusive<f64> = 43.9..=63.5;

/// Could this point be in Iran?
pub fn in_country(lat: f64, lng: f64) -> bool {
    LAT_RANGE.contains(&lat) && LNG_RANGE.contains(&lng)
}

/// A report's province and county; both `None` when nothing could place it
/// (then only national staff see it, until it is placed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub province: Option<String>,
    pub county: Option<String>,
}

/// Places a point: the province and county of the nearest service centre.
pub async fn locate<'e, E>(executor: E, lat: f64, lng: f64) -> sqlx::Result<Place>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
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
    use super::in_country;

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
