//! Service centres and the nearest ones with free capacity.

use kudakyar_api::cases::{Centre, CentreSuggestion, NewCentre};
use kudakyar_api::children::Service;
use sqlx::Row;

use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, Scope, policy};
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::db::vocab::{enum_parse, enum_str};
use crate::error::{Error, Result, Validator};
use crate::geo::{is_county_code, is_province_code};

/// The programme's rule: about 450 open files per centre.
pub const DEFAULT_CAPACITY: i64 = 450;

/// What [`centre_from_row`] reads, from `centres c`: the centre's columns
/// plus its open files (referrals sent or accepted).
const CENTRE_COLUMNS: &str = "c.id, c.name, c.address, c.lat, c.lng, c.province, c.county,
    c.services, c.capacity,
    (SELECT COUNT(*) FROM referrals r
      WHERE r.centre_id = c.id AND r.state IN ('sent', 'accepted')) AS open_files";

fn centre_from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<Centre> {
    let services: String = row.try_get("services")?;
    Ok(Centre {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lng: row.try_get("lng")?,
        province: row.try_get("province")?,
        county: row.try_get("county")?,
        services: services
            .split('|')
            .filter_map(enum_parse::<Service>)
            .collect(),
        capacity: row.try_get("capacity")?,
        open_files: row.try_get("open_files")?,
    })
}

/// Every centre, for the caller to narrow with ` AND …`.
fn select() -> Sql {
    Sql::new(&format!(
        "SELECT {CENTRE_COLUMNS} FROM centres c WHERE 1 = 1"
    ))
}

/// A centre's open files, read inside a transaction (counted as `CENTRE_COLUMNS` counts them).
pub async fn open_files(conn: &mut sqlx::AnyConnection, centre_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM referrals r WHERE r.centre_id = $1 AND r.state IN ('sent', 'accepted')",
    )
    .bind(centre_id)
    .fetch_one(&mut *conn)
    .await
}

pub async fn create(db: &Db, actor: &Actor, origin: &Origin, new: NewCentre) -> Result<Centre> {
    let mut v = Validator::new();
    v.check(
        (1..=200).contains(&new.name.trim().chars().count()),
        "name",
        "must be 1–200 characters",
    );
    v.check(
        new.address
            .as_deref()
            .is_none_or(|a| a.chars().count() <= 500),
        "address",
        "must be at most 500 characters",
    );
    crate::geo::check_position(&mut v, new.lat, new.lng);
    v.check(
        is_province_code(&new.province),
        "province",
        "must be an ISO 3166-2 code from IR-00 to IR-30",
    );
    v.check(
        new.county.as_deref().is_none_or(is_county_code),
        "county",
        "must be a county code",
    );
    v.check(
        new.capacity.is_none_or(|c| (1..=100_000).contains(&c)),
        "capacity",
        "must be 1–100000",
    );
    v.finish()?;
    policy::manage_centres(actor, &new.province)?;
    let id = uuid::Uuid::now_v7().to_string();
    let services: String = std::iter::once(String::new())
        .chain(new.services.iter().map(enum_str))
        .chain(std::iter::once(String::new()))
        .collect::<Vec<_>>()
        .join("|");
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO centres (id, name, address, lat, lng, province, county, services, capacity,
                              created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(new.name.trim())
    .bind(new.address.as_deref())
    .bind(new.lat)
    .bind(new.lng)
    .bind(&new.province)
    .bind(new.county.as_deref())
    .bind(services)
    .bind(new.capacity.unwrap_or(DEFAULT_CAPACITY))
    .bind(&actor.user_id)
    .bind(crate::now_ms())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Who::from(actor),
        origin,
        Event::new("centre.create", "centre", Some(&id)),
    )
    .await?;
    tx.commit().await?;
    get(db, &Scope::National, &id).await?.ok_or(Error::NotFound)
}

/// Centres in a scope (a county-scoped caller sees its whole province's centres:
/// children are referred across county lines).
pub async fn list(db: &Db, scope: &Scope) -> Result<Vec<Centre>> {
    let mut sql = select();
    if let Some(p) = scope.province() {
        sql.push(" AND c.province = ").bind(Arg::Text(p.into()));
    }
    sql.push(" ORDER BY c.name, c.id LIMIT 1000");
    let rows = sql.query().fetch_all(db.pool()).await?;
    Ok(rows
        .iter()
        .map(centre_from_row)
        .collect::<sqlx::Result<_>>()?)
}

pub async fn get(db: &Db, scope: &Scope, id: &str) -> Result<Option<Centre>> {
    let mut sql = select();
    sql.push(" AND c.id = ").bind(Arg::Text(id.into()));
    if let Some(p) = scope.province() {
        sql.push(" AND c.province = ").bind(Arg::Text(p.into()));
    }
    let row = sql.query().fetch_optional(db.pool()).await?;
    Ok(row.as_ref().map(centre_from_row).transpose()?)
}

/// Great-circle distance in kilometres.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lng1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lng2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lng2 - lng1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Centres of a child's province with free capacity, nearest to where the
/// child was last met first (by name when the child has no encounter yet).
pub async fn suggest(db: &Db, province: &str, child_id: &str) -> Result<Vec<CentreSuggestion>> {
    let last =
        sqlx::query("SELECT lat, lng FROM encounters WHERE child_id = $1 ORDER BY at DESC LIMIT 1")
            .bind(child_id)
            .fetch_optional(db.pool())
            .await?;
    let from = match last {
        Some(row) => Some((row.try_get::<f64, _>("lat")?, row.try_get::<f64, _>("lng")?)),
        None => None,
    };
    let scope = Scope::Province {
        province: province.into(),
        county: None,
    };
    let mut out: Vec<CentreSuggestion> = list(db, &scope)
        .await?
        .into_iter()
        .filter(|c| c.capacity > c.open_files)
        .map(|c| CentreSuggestion {
            distance_km: from.map(|f| haversine_km(f, (c.lat, c.lng))),
            free_capacity: c.capacity - c.open_files,
            centre: c,
        })
        .collect();
    out.sort_by(|a, b| match (a.distance_km, b.distance_km) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.centre.name.cmp(&b.centre.name),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn haversine_tehran_to_shiraz() {
        let d = super::haversine_km((35.6892, 51.3890), (29.5918, 52.5837));
        assert!((d - 687.0).abs() < 15.0, "{d}");
    }
}
