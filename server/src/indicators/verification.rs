//! Field-visit verification: how far an encounter is known to have really
//! happened where and when it says, decided once when it is stored.
//!
//! - **iris-verified**: the encounter names an iris identification
//!   (`POST /api/v1/iris/identify`, recorded by [`record_identification`])
//!   made by the same worker within [`Rules::iris_window_ms`] of the
//!   encounter being queued or received, which matched this child. The
//!   capture goes through the existing identify path only (no enrolment);
//!   the encounter carries the identification's id, not the images.
//! - **location-verified**: a GPS fix (not a typed position) with an
//!   accuracy no worse than [`Rules::accuracy_m`], and a device time `at`
//!   within [`Rules::clock_tolerance_ms`] of the server's receipt — or, for
//!   an encounter sent later from the offline outbox, within the tolerance
//!   of its `queued_at`, itself no later than the receipt (plus tolerance).
//! - **unverified**: anything else (typed position, poor or missing fix,
//!   a time that fits neither clock).
//!
//! A named identification that does not exist, is another worker's, is too
//! old or did not match the child is refused (422 on `iris_identification`)
//! rather than silently downgraded: the worker's phone should know.

use kudakyar_api::children::{NewEncounter, PositionSource, Verification};
use sqlx::Row;

use crate::config::Config;
use crate::db::Db;
use crate::error::{Error, Result, Validator};

/// The thresholds, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// `verify_accuracy_m`.
    pub accuracy_m: f64,
    /// `verify_clock_tolerance_secs`, in ms.
    pub clock_tolerance_ms: i64,
    /// `verify_iris_window_mins`, in ms.
    pub iris_window_ms: i64,
}

impl From<&Config> for Rules {
    fn from(c: &Config) -> Rules {
        Rules {
            accuracy_m: c.verify_accuracy_m,
            clock_tolerance_ms: (c.verify_clock_tolerance_secs as i64).saturating_mul(1000),
            iris_window_ms: (c.verify_iris_window_mins as i64).saturating_mul(60_000),
        }
    }
}

impl Default for Rules {
    fn default() -> Rules {
        Rules::from(&Config::default())
    }
}

/// Checks the verification fields of an encounter's body (their shape only).
pub fn validate(e: &NewEncounter, v: &mut Validator) {
    if let Some(q) = &e.queued_at {
        v.check(
            crate::rfc3339_to_ms(q).is_some(),
            "queued_at",
            "must be an RFC 3339 time",
        );
    }
    if let Some(id) = &e.iris_identification {
        v.check(
            uuid::Uuid::parse_str(id).is_ok(),
            "iris_identification",
            "must be the UUID of an identification",
        );
    }
}

/// Whether the position and time alone make a visit location-verified.
pub fn location_verified(rules: &Rules, e: &NewEncounter, received_at: i64) -> bool {
    let gps = match e.position_source {
        Some(PositionSource::Gps) => true,
        Some(PositionSource::Typed) => false,
        // Older clients: a fix has an accuracy, a typed position none.
        None => e.accuracy_m.is_some(),
    };
    let precise = e.accuracy_m.is_some_and(|a| a <= rules.accuracy_m);
    let Some(at) = crate::rfc3339_to_ms(&e.at) else {
        return false;
    };
    let tol = rules.clock_tolerance_ms;
    let on_time = (at - received_at).abs() <= tol
        || e.queued_at
            .as_deref()
            .and_then(crate::rfc3339_to_ms)
            .is_some_and(|q| (at - q).abs() <= tol && q <= received_at + tol);
    gps && precise && on_time
}

/// The level of a new encounter of `child_id` by `worker_id`, received at
/// `received_at` (ms). Fails with a field error when the named iris
/// identification cannot verify it.
pub async fn assess(
    db: &Db,
    rules: &Rules,
    worker_id: &str,
    child_id: &str,
    e: &NewEncounter,
    received_at: i64,
) -> Result<Verification> {
    if let Some(id) = &e.iris_identification {
        let row = sqlx::query(
            "SELECT i.worker_id, i.at,
                    (SELECT COUNT(*) FROM iris_identification_matches m
                     WHERE m.identification_id = i.id AND m.child_id = $2) AS matched
             FROM iris_identifications i WHERE i.id = $1",
        )
        .bind(id)
        .bind(child_id)
        .fetch_optional(db.pool())
        .await?;
        let field = "iris_identification";
        let Some(row) = row else {
            return Err(Error::field(field, "no such identification"));
        };
        let by: String = row.try_get("worker_id")?;
        let at: i64 = row.try_get("at")?;
        let matched: i64 = row.try_get("matched")?;
        if by != worker_id {
            // Said like a missing one: another worker's searches are not ours to probe.
            return Err(Error::field(field, "no such identification"));
        }
        // Measured from when the encounter was queued (offline) or received.
        let recorded = e
            .queued_at
            .as_deref()
            .and_then(crate::rfc3339_to_ms)
            .filter(|q| *q <= received_at)
            .unwrap_or(received_at);
        if recorded - at > rules.iris_window_ms || at > received_at {
            return Err(Error::field(
                field,
                format!(
                    "the identification is older than {} minutes",
                    rules.iris_window_ms / 60_000
                ),
            ));
        }
        if matched == 0 {
            return Err(Error::field(
                field,
                "the identification did not match this child",
            ));
        }
        return Ok(Verification::IrisVerified);
    }
    Ok(if location_verified(rules, e, received_at) {
        Verification::LocationVerified
    } else {
        Verification::Unverified
    })
}

/// Records an identification by `worker_id` and the children it matched
/// (best distance each), in or out of the worker's scope; its id.
pub async fn record_identification(
    db: &Db,
    worker_id: &str,
    matches: &[(String, f32)],
) -> Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = db.pool().begin().await?;
    sqlx::query("INSERT INTO iris_identifications (id, worker_id, at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(worker_id)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?;
    for (child_id, distance) in matches {
        sqlx::query(
            "INSERT INTO iris_identification_matches (identification_id, child_id, distance)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(child_id)
        .bind(f64::from(*distance))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encounter(at: &str, accuracy: Option<f64>) -> NewEncounter {
        serde_json::from_value(serde_json::json!({
            "at": at, "lat": 35.7, "lng": 51.4, "accuracy_m": accuracy,
            "activity": null, "notes": null, "next_follow_up": null,
        }))
        .unwrap()
    }

    #[test]
    fn location_needs_a_fix_a_precise_one_and_a_plausible_time() {
        let rules = Rules::default();
        let now = crate::rfc3339_to_ms("2026-11-20T10:30:00Z").unwrap();
        assert!(location_verified(
            &rules,
            &encounter("2026-11-20T10:29:00Z", Some(10.0)),
            now
        ));
        assert!(!location_verified(
            &rules,
            &encounter("2026-11-20T10:29:00Z", Some(500.0)),
            now
        ));
        assert!(!location_verified(
            &rules,
            &encounter("2026-11-20T10:29:00Z", None),
            now
        ));
        let mut typed = encounter("2026-11-20T10:29:00Z", Some(10.0));
        typed.position_source = Some(PositionSource::Typed);
        assert!(!location_verified(&rules, &typed, now));
        // Three hours old: only the outbox's own timestamp vouches for it.
        let mut late = encounter("2026-11-20T07:30:00Z", Some(10.0));
        assert!(!location_verified(&rules, &late, now));
        late.queued_at = Some("2026-11-20T07:31:00Z".into());
        assert!(location_verified(&rules, &late, now));
        late.queued_at = Some("2026-11-20T09:00:00Z".into());
        assert!(
            !location_verified(&rules, &late, now),
            "queued long after it says"
        );
    }
}
