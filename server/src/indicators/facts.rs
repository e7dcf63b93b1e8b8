//! What the indicators are computed from, read from the registry in a few
//! plain queries: children with their status history, encounters, linked
//! reports, referrals and their states, duplicate reviews, iris
//! identifications, staff accounts and centres. Read once per job run (and
//! once for a whole `indicators rebuild`), then every day's figures are
//! computed in memory ([`super::definitions::compute`]) — the same code for
//! any day, so a rebuilt day equals the nightly one.

use std::collections::HashMap;

use kudakyar_api::children::{Service, Status, Verification};
use serde::Deserialize;
use sqlx::Row;
use time::Date;

use super::period;
use crate::db::Db;
use crate::db::vocab::enum_parse;
use crate::error::Result;

pub struct ChildFact {
    pub id: String,
    pub province: String,
    pub county: Option<String>,
    pub sex: String,
    pub nationality: String,
    pub birth_year: Option<i64>,
    pub created_at: i64,
    pub assigned_worker: Option<String>,
    /// Merged into another record (a tombstone).
    pub merged: bool,
    /// (changed_at, status, in school) of each version, oldest first.
    pub history: Vec<(i64, Status, bool)>,
    /// When the first report linked to the child was seen.
    pub first_report: Option<i64>,
}

impl ChildFact {
    /// The status and schooling of the latest version before `t`.
    pub fn state_at(&self, t: i64) -> Option<(Status, bool)> {
        self.history
            .iter()
            .rev()
            .find(|(at, _, _)| *at < t)
            .map(|(_, s, school)| (*s, *school))
    }

    pub fn status_at(&self, t: i64) -> Option<Status> {
        self.state_at(t).map(|(s, _)| s)
    }

    /// The first change to closed or reunified in `[from, to)`.
    pub fn closed_between(&self, from: i64, to: i64) -> Option<i64> {
        let mut previous: Option<Status> = None;
        for (at, status, _) in &self.history {
            let closing = matches!(status, Status::Closed | Status::Reunified)
                && !matches!(previous, Some(Status::Closed | Status::Reunified));
            if closing && *at >= from && *at < to {
                return Some(*at);
            }
            previous = Some(*status);
        }
        None
    }
}

pub struct EncounterFact {
    /// Index into [`Facts::children`].
    pub child: usize,
    pub worker: String,
    pub at: i64,
    pub verification: Verification,
    pub services: Vec<Service>,
    pub next_follow_up: Option<Date>,
}

pub struct ReferralFact {
    pub child: usize,
    /// Index into [`Facts::centres`].
    pub centre: usize,
    pub created_at: i64,
    /// (state, at), oldest first.
    pub events: Vec<(String, i64)>,
}

impl ReferralFact {
    /// The state it was last in before `t`.
    pub fn state_at(&self, t: i64) -> Option<&str> {
        self.events
            .iter()
            .rev()
            .find(|(_, at)| *at < t)
            .map(|(s, _)| s.as_str())
    }

    /// When it reached `state`, if it did.
    pub fn reached(&self, state: &str) -> Option<i64> {
        self.events
            .iter()
            .find(|(s, _)| s == state)
            .map(|(_, at)| *at)
    }
}

pub struct ReviewFact {
    /// The newer record (the registration that matched).
    pub child: usize,
    pub opened_at: i64,
    pub cross_province: bool,
}

pub struct UserFact {
    pub id: String,
    pub role: String,
    pub province: Option<String>,
    pub county: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

pub struct CentreFact {
    pub id: String,
    pub province: String,
    pub county: Option<String>,
    pub capacity: i64,
    pub created_at: i64,
}

#[derive(Default)]
pub struct Facts {
    pub children: Vec<ChildFact>,
    /// Sorted by child, then time.
    pub encounters: Vec<EncounterFact>,
    /// The range of each child's encounters in `encounters`.
    by_child: Vec<(usize, usize)>,
    pub referrals: Vec<ReferralFact>,
    pub reviews: Vec<ReviewFact>,
    /// Child → when an iris identification or a registration matched them.
    pub iris_seen: HashMap<usize, Vec<i64>>,
    pub users: Vec<UserFact>,
    pub centres: Vec<CentreFact>,
}

/// The part of an encounter's stored details the indicators read.
#[derive(Deserialize)]
struct Details {
    #[serde(default)]
    services: Vec<Service>,
    #[serde(default)]
    next_follow_up: Option<String>,
}

#[derive(Deserialize)]
struct VersionFacts {
    #[serde(default)]
    school_status: Option<String>,
}

impl Facts {
    /// The encounters of child `i`, oldest first.
    pub fn encounters_of(&self, i: usize) -> &[EncounterFact] {
        let (from, to) = self.by_child.get(i).copied().unwrap_or((0, 0));
        &self.encounters[from..to]
    }

    /// Reads everything the indicators need.
    pub async fn load(db: &Db) -> Result<Facts> {
        let pool = db.pool();
        let mut facts = Facts::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        let rows = sqlx::query(
            "SELECT id, home_province, home_county, sex, nationality, birth_year, created_at,
                    assigned_worker, merged_into
             FROM children ORDER BY id",
        )
        .fetch_all(pool)
        .await?;
        for r in rows {
            let id: String = r.try_get("id")?;
            index.insert(id.clone(), facts.children.len());
            facts.children.push(ChildFact {
                id,
                province: r.try_get("home_province")?,
                county: r.try_get("home_county")?,
                sex: r.try_get("sex")?,
                nationality: r.try_get("nationality")?,
                birth_year: r.try_get("birth_year")?,
                created_at: r.try_get("created_at")?,
                assigned_worker: r.try_get("assigned_worker")?,
                merged: r.try_get::<Option<String>, _>("merged_into")?.is_some(),
                history: Vec::new(),
                first_report: None,
            });
        }
        let rows = sqlx::query(
            "SELECT child_id, changed_at, status, facts FROM child_versions
             ORDER BY child_id, version",
        )
        .fetch_all(pool)
        .await?;
        for r in rows {
            let Some(&i) = index.get(&r.try_get::<String, _>("child_id")?) else {
                continue;
            };
            let Some(status) = enum_parse::<Status>(&r.try_get::<String, _>("status")?) else {
                continue;
            };
            let school = serde_json::from_str::<VersionFacts>(&r.try_get::<String, _>("facts")?)
                .ok()
                .and_then(|f| f.school_status)
                .is_some_and(|s| s == "enrolled");
            facts.children[i]
                .history
                .push((r.try_get("changed_at")?, status, school));
        }
        let rows = sqlx::query(
            "SELECT sc.child_id, MIN(s.seen_at) AS first_seen
             FROM sighting_children sc JOIN sightings s ON s.id = sc.sighting_id
             GROUP BY sc.child_id",
        )
        .fetch_all(pool)
        .await?;
        for r in rows {
            if let Some(&i) = index.get(&r.try_get::<String, _>("child_id")?) {
                facts.children[i].first_report = r.try_get("first_seen")?;
            }
        }
        let rows =
            sqlx::query("SELECT child_id, worker_id, at, verification, details FROM encounters")
                .fetch_all(pool)
                .await?;
        for r in rows {
            let Some(&child) = index.get(&r.try_get::<String, _>("child_id")?) else {
                continue;
            };
            let details: Option<Details> =
                serde_json::from_str(&r.try_get::<String, _>("details")?).ok();
            let (services, next_follow_up) = details
                .map(|d| {
                    (
                        d.services,
                        d.next_follow_up.as_deref().and_then(period::parse_day),
                    )
                })
                .unwrap_or_default();
            facts.encounters.push(EncounterFact {
                child,
                worker: r.try_get("worker_id")?,
                at: r.try_get("at")?,
                verification: enum_parse(&r.try_get::<String, _>("verification")?)
                    .unwrap_or(Verification::Unverified),
                services,
                next_follow_up,
            });
        }
        facts.encounters.sort_by_key(|e| (e.child, e.at));
        facts.by_child = vec![(0, 0); facts.children.len()];
        let mut start = 0;
        for k in 0..=facts.encounters.len() {
            let boundary = k == facts.encounters.len()
                || (k > 0 && facts.encounters[k].child != facts.encounters[k - 1].child);
            if boundary && k > start {
                facts.by_child[facts.encounters[start].child] = (start, k);
                start = k;
            }
        }
        let rows = sqlx::query(
            "SELECT id, province, county, capacity, created_at FROM centres ORDER BY id",
        )
        .fetch_all(pool)
        .await?;
        let mut centres: HashMap<String, usize> = HashMap::new();
        for r in rows {
            let id: String = r.try_get("id")?;
            centres.insert(id.clone(), facts.centres.len());
            facts.centres.push(CentreFact {
                id,
                province: r.try_get("province")?,
                county: r.try_get("county")?,
                capacity: r.try_get("capacity")?,
                created_at: r.try_get("created_at")?,
            });
        }
        let rows = sqlx::query(
            "SELECT r.id, r.child_id, r.centre_id, r.created_at, e.state, e.at
             FROM referrals r LEFT JOIN referral_events e ON e.referral_id = r.id
             ORDER BY r.id, e.at",
        )
        .fetch_all(pool)
        .await?;
        let mut last_referral: Option<String> = None;
        for r in rows {
            let id: String = r.try_get("id")?;
            let (Some(&child), Some(&centre)) = (
                index.get(&r.try_get::<String, _>("child_id")?),
                centres.get(&r.try_get::<String, _>("centre_id")?),
            ) else {
                continue;
            };
            if last_referral.as_deref() != Some(&id) {
                facts.referrals.push(ReferralFact {
                    child,
                    centre,
                    created_at: r.try_get("created_at")?,
                    events: Vec::new(),
                });
                last_referral = Some(id);
            }
            if let (Some(state), Some(at)) = (
                r.try_get::<Option<String>, _>("state")?,
                r.try_get::<Option<i64>, _>("at")?,
            ) && let Some(referral) = facts.referrals.last_mut()
            {
                referral.events.push((state, at));
            }
        }
        let rows = sqlx::query(
            "SELECT child_id, candidate_id, child_province, candidate_province, opened_at
             FROM identity_reviews",
        )
        .fetch_all(pool)
        .await?;
        for r in rows {
            let child = index.get(&r.try_get::<String, _>("child_id")?).copied();
            let candidate = index.get(&r.try_get::<String, _>("candidate_id")?).copied();
            let opened_at: i64 = r.try_get("opened_at")?;
            if let Some(child) = child {
                facts.reviews.push(ReviewFact {
                    child,
                    opened_at,
                    cross_province: r.try_get::<String, _>("child_province")?
                        != r.try_get::<String, _>("candidate_province")?,
                });
            }
            // The older record was found again by a new registration's iris.
            if let Some(candidate) = candidate {
                facts
                    .iris_seen
                    .entry(candidate)
                    .or_default()
                    .push(opened_at);
            }
        }
        let rows = sqlx::query(
            "SELECT m.child_id, i.at FROM iris_identification_matches m
             JOIN iris_identifications i ON i.id = m.identification_id",
        )
        .fetch_all(pool)
        .await?;
        for r in rows {
            if let Some(&i) = index.get(&r.try_get::<String, _>("child_id")?) {
                facts.iris_seen.entry(i).or_default().push(r.try_get("at")?);
            }
        }
        let rows = sqlx::query(
            "SELECT id, role, province, county, created_at, disabled_at FROM users ORDER BY id",
        )
        .fetch_all(pool)
        .await?;
        for r in rows {
            facts.users.push(UserFact {
                id: r.try_get("id")?,
                role: r.try_get("role")?,
                province: r.try_get("province")?,
                county: r.try_get("county")?,
                created_at: r.try_get("created_at")?,
                disabled_at: r.try_get("disabled_at")?,
            });
        }
        Ok(facts)
    }
}
