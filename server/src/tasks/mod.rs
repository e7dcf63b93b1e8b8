//! A user's tasks: what is theirs to do next, in one read for the worker's
//! «my tasks» screen ([`routes`]: `GET /api/v1/tasks`).
//!
//! - **Follow-ups**: the children the user is responsible for — assigned to
//!   them, or unassigned and last met by them — whose latest encounter set
//!   a follow-up date within [`HORIZON_DAYS`] (an earlier encounter's date
//!   was answered by the visit after it), still active. The rule the
//!   nightly «follow-up due» notification follows (`notify::schedule`).
//! - **Reports**: sightings assigned to the user and not yet visited.
//! - **Referrals**: referrals of the user's children (or made by the user)
//!   that a centre has not settled: sent or accepted.
//!
//! Each list is read by an index of the user's own rows (migration 0021),
//! never by the scope's; at most [`MAX_EACH`] of each.

pub mod routes;

use std::collections::HashSet;

use kudakyar_api::cases::ReferralState;
use kudakyar_api::tasks::{FollowUpTask, ReferralTask, ReportTask, Tasks};
use serde::Deserialize;
use sqlx::Row;

use crate::db::Db;
use crate::db::vocab::enum_parse;
use crate::indicators::period;
use crate::notify::preferences::tehran_day;
use crate::notify::schedule::date_of;

/// Follow-ups due up to this many days ahead are listed.
pub const HORIZON_DAYS: i64 = 7;
/// The most items of each kind listed.
pub const MAX_EACH: usize = 200;

/// The names a list shows, from a record's facts.
#[derive(Deserialize, Default)]
struct Names {
    given_name: Option<String>,
    family_name: Option<String>,
}

fn names(facts: &str) -> Names {
    serde_json::from_str(facts).unwrap_or_default()
}

/// The tasks of `user_id` on the Tehran day of `now_ms`.
pub async fn of(db: &Db, user_id: &str, now_ms: i64) -> sqlx::Result<Tasks> {
    let today = tehran_day(now_ms);
    Ok(Tasks {
        today: date_of(today),
        follow_ups: follow_ups(db, user_id, today).await?,
        reports: reports(db, user_id).await?,
        referrals: referrals(db, user_id).await?,
    })
}

async fn follow_ups(db: &Db, user_id: &str, today: i64) -> sqlx::Result<Vec<FollowUpTask>> {
    // Two reads, each by its own index: the user's assigned children, and
    // the unassigned ones whose follow-up the user's own encounter set.
    let latest = "c.status = 'active' AND c.merged_into IS NULL
                  AND NOT EXISTS (SELECT 1 FROM encounters l WHERE l.child_id = e.child_id
                                  AND (l.at > e.at OR (l.at = e.at AND l.id > e.id)))";
    let columns = "c.id, c.registry_code, c.facts, e.next_follow_up";
    let rows = sqlx::query(&format!(
        "SELECT {columns} FROM children c JOIN encounters e ON e.child_id = c.id
         WHERE c.assigned_worker = $1 AND e.next_follow_up IS NOT NULL
           AND e.next_follow_up <= $2 AND {latest}
         UNION ALL
         SELECT {columns} FROM encounters e JOIN children c ON c.id = e.child_id
         WHERE e.worker_id = $1 AND c.assigned_worker IS NULL
           AND e.next_follow_up IS NOT NULL AND e.next_follow_up <= $2 AND {latest}"
    ))
    .bind(user_id)
    .bind(date_of(today + HORIZON_DAYS))
    .fetch_all(db.pool())
    .await?;
    let mut tasks = Vec::with_capacity(rows.len());
    for row in rows {
        let due: String = row.try_get("next_follow_up")?;
        let names = names(&row.try_get::<String, _>("facts")?);
        tasks.push(FollowUpTask {
            child_id: row.try_get("id")?,
            registry_code: row.try_get("registry_code")?,
            given_name: names.given_name,
            family_name: names.family_name,
            days_overdue: day_number(&due).map_or(0, |d| today - d),
            due,
        });
    }
    tasks.sort_by(|a, b| (&a.due, &a.child_id).cmp(&(&b.due, &b.child_id)));
    tasks.truncate(MAX_EACH);
    Ok(tasks)
}

async fn reports(db: &Db, user_id: &str) -> sqlx::Result<Vec<ReportTask>> {
    let rows = sqlx::query(
        "SELECT id, incident_id, seen_at, updated_at, county, children_count FROM sightings
         WHERE assigned_to = $1 AND state = 'assigned'
         ORDER BY updated_at, id LIMIT $2",
    )
    .bind(user_id)
    .bind(MAX_EACH as i64)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ReportTask {
                id: row.try_get("id")?,
                incident_id: row.try_get("incident_id")?,
                seen_at: crate::ms_to_rfc3339(row.try_get("seen_at")?),
                assigned_at: crate::ms_to_rfc3339(row.try_get("updated_at")?),
                county: row.try_get("county")?,
                children_count: row.try_get("children_count")?,
            })
        })
        .collect()
}

async fn referrals(db: &Db, user_id: &str) -> sqlx::Result<Vec<ReferralTask>> {
    let columns = "r.id, r.child_id, r.state, r.updated_at, c.registry_code, c.facts,
                   k.name AS centre_name";
    let open = "r.state IN ('sent', 'accepted') AND c.merged_into IS NULL";
    let rows = sqlx::query(&format!(
        "SELECT {columns} FROM children c JOIN referrals r ON r.child_id = c.id
             JOIN centres k ON k.id = r.centre_id
         WHERE c.assigned_worker = $1 AND {open}
         UNION ALL
         SELECT {columns} FROM referrals r JOIN children c ON c.id = r.child_id
             JOIN centres k ON k.id = r.centre_id
         WHERE r.created_by = $1 AND {open}"
    ))
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    let mut seen = HashSet::new();
    let mut tasks = Vec::new();
    for row in rows {
        let id: String = row.try_get("id")?;
        if !seen.insert(id.clone()) {
            continue;
        }
        let names = names(&row.try_get::<String, _>("facts")?);
        let state: String = row.try_get("state")?;
        tasks.push(ReferralTask {
            id,
            child_id: row.try_get("child_id")?,
            registry_code: row.try_get("registry_code")?,
            given_name: names.given_name,
            family_name: names.family_name,
            centre_name: row.try_get("centre_name")?,
            state: enum_parse::<ReferralState>(&state).unwrap_or(ReferralState::Sent),
            updated_at: crate::ms_to_rfc3339(row.try_get("updated_at")?),
        });
    }
    tasks.sort_by(|a, b| (&a.updated_at, &a.id).cmp(&(&b.updated_at, &b.id)));
    tasks.truncate(MAX_EACH);
    Ok(tasks)
}

/// The day number (days since 1970-01-01) of a `YYYY-MM-DD`, as
/// [`date_of`] counts them.
fn day_number(date: &str) -> Option<i64> {
    // 2440588 is the Julian day of 1970-01-01.
    period::parse_day(date).map(|d| i64::from(d.to_julian_day()) - 2_440_588)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_match_the_scheduler() {
        for day in [0, 19_000, 20_429, 20_794] {
            assert_eq!(day_number(&date_of(day)), Some(day));
        }
        assert_eq!(day_number("2026-02-30"), None);
    }
}
