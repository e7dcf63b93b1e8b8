//! Demo data: `kudakyar demo seed` fills a database with a synthetic but
//! plausible year of street-working children, so that a newcomer (or a
//! meeting) sees a living registry and atlas.
//!
//! - [`places`]: the cities and the junctions in them where children work,
//!   each with a trend over the year.
//! - [`plan`]: everything drawn from the seed before anything is written, so
//!   the same seed gives the same rows.
//! - [`seed`] (here): writes the plan through the server's own functions —
//!   users by [`crate::users::create`], centres by
//!   [`crate::cases::centres::create`], children by
//!   [`crate::registry::records::create`], encounters by
//!   [`crate::registry::encounters::add`], status changes by
//!   [`crate::registry::records::update`], reports by
//!   [`crate::sightings::writer::write_batch`] — so every row is validated, placed
//!   in its province and county by the imported boundaries, and audited like
//!   real data. Reports are written a hundred to a transaction (as the
//!   intake's group commit does); the rest one transaction each, as the API
//!   writes them (encounters eight at a time on PostgreSQL).
//!
//! What marks demo data: it is made by the demo accounts, whose usernames
//! start with [`DEMO_PREFIX`]. A database holding children made by anyone
//! else is refused unless forced, so demo rows never mix with real records
//! by accident. Seeding again with the same seed changes nothing: every
//! create is idempotent by its id, and the accounts and centres are reused.
//!
//! Each child's case is assigned to one of the province's two demo workers,
//! and has a course over the year ([`plan`]: registered at the first
//! encounter, then open, in service, reunified or closed — some met in the
//! street again after), so that the programme's indicators
//! ([`crate::indicators`]) have caseloads, verified visits, follow-ups,
//! cohort outcomes and re-entries to show. Encounters come as the offline
//! outbox sends them (recorded then, queued with that time), so a good GPS
//! fix makes them location-verified.
//!
//! Where the data differs from real data: the status changes are written
//! through [`records::update`] at the time of seeding, then the
//! registration and change times are set to the planned ones in SQL (the
//! audit log keeps the time of seeding, and the registry code's year is
//! that of seeding); receipt codes are random.

pub mod places;
pub mod plan;

use std::collections::BTreeMap;

use futures::StreamExt;

use kudakyar_api::cases::{NewCentre, NewReferral, ReferralState, ReferralTransition};
use kudakyar_api::children::{ChildUpdate, NewChild, Service, Status};
use kudakyar_api::sightings::SightingSource;
use kudakyar_api::users::{NewUser, Role};

use crate::audit::{Origin, Who};
use crate::auth::{Actor, Scope};
use crate::config::Config;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::registry::records::{self, Created};
use crate::sightings::intake::Pending;
use crate::sightings::writer;
use plan::{Sizes, SpotPlace};

/// Every demo account's username starts with this.
pub const DEMO_PREFIX: &str = "demo-";
/// The password of every demo account (printed at the end of a seed).
pub const DEMO_PASSWORD: &str = "kudakyar-demo-1404";
/// The national administrator among the demo accounts.
pub const DEMO_ADMIN: &str = "demo-admin";
/// The demo accounts of each province, as username suffix (after
/// `demo-ir-23-`), role and display name.
const TEAM: [(&str, Role, &str); 5] = [
    (
        "worker-1",
        Role::OutreachWorker,
        "مددکار اجتماعی ۱ (نمایشی)",
    ),
    (
        "worker-2",
        Role::OutreachWorker,
        "مددکار اجتماعی ۲ (نمایشی)",
    ),
    ("supervisor", Role::Supervisor, "سرپرست تیم (نمایشی)"),
    ("staff", Role::ProvincialStaff, "کارشناس استان (نمایشی)"),
    (
        "hotline",
        Role::HotlineOperator,
        "اپراتور اورژانس اجتماعی ۱۲۳ (نمایشی)",
    ),
];
/// Reports written per transaction.
const REPORT_BATCH: usize = 100;

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub children: usize,
    pub encounters: usize,
    pub reports: usize,
    pub seed: u64,
    /// The end of the demo year (ms since the epoch); `None`: the start of
    /// today (UTC), so that seeding twice on one day gives the same rows.
    pub until_ms: Option<i64>,
    /// Seed even if the database holds children not made by demo accounts.
    pub force: bool,
}

/// Progress of a seed: a stage starting with its total, then steps done.
#[derive(Debug, Clone, Copy)]
pub enum Tick {
    Stage(&'static str, u64),
    Done(u64),
}

/// A demo login.
#[derive(Debug, Clone)]
pub struct Login {
    pub username: String,
    pub role: Role,
    pub province: Option<String>,
}

/// What a seed did. `new` rows were written now; `existing` ones were
/// already there (a seed run again).
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub logins: Vec<Login>,
    pub centres: usize,
    pub children: (usize, usize),
    pub encounters: (usize, usize),
    pub reports: (usize, usize),
    /// Reports refused as the API refuses them (a point outside the
    /// boundaries).
    pub reports_refused: usize,
    /// Encounters left without a province (no boundaries imported, or
    /// outside them).
    pub unplaced_encounters: i64,
}

/// The demo accounts of one province.
struct Team {
    workers: [Actor; 2],
    supervisor: Actor,
    hotline: Actor,
}

/// The start of today (UTC), in ms: the default end of the demo year.
pub fn start_of_today_ms() -> i64 {
    let now = crate::now_ms();
    now - now.rem_euclid(86_400_000)
}

/// How many children were made by accounts other than the demo ones.
pub async fn real_children(db: &Db) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM children c WHERE NOT EXISTS (
             SELECT 1 FROM users u WHERE u.id = c.created_by AND u.username LIKE $1)",
    )
    .bind(format!("{DEMO_PREFIX}%"))
    .fetch_one(db.pool())
    .await?)
}

/// Seeds the database; see the module's documentation.
pub async fn seed(
    db: &Db,
    config: &Config,
    options: &Options,
    progress: &mut dyn FnMut(Tick),
) -> Result<Seeded> {
    let real = real_children(db).await?;
    if real > 0 && !options.force {
        return Err(Error::BadRequest(format!(
            "this database holds {real} children not made by the demo accounts: demo data \
             would mix with real records. Seed a fresh database, or pass --force"
        )));
    }
    let boundaries = db.boundaries().await?;
    let spots: Vec<SpotPlace> = places::spots()
        .into_iter()
        .map(|(city, spot, share)| {
            let place = boundaries.place(spot.lat, spot.lng).unwrap_or_default();
            SpotPlace {
                city,
                spot,
                share,
                province: place.province.unwrap_or_else(|| city.province.to_string()),
                county: place.county,
            }
        })
        .collect();
    let mut seeded = Seeded::default();
    let admin = account(
        db,
        &mut seeded,
        DEMO_ADMIN,
        Role::NationalAdmin,
        None,
        "مدیر کشوری (نمایشی)",
    )
    .await?;
    let mut teams = BTreeMap::new();
    let provinces: std::collections::BTreeSet<&str> =
        spots.iter().map(|s| s.province.as_str()).collect();
    progress(Tick::Stage("demo accounts", provinces.len() as u64));
    for province in provinces {
        let tag = province.to_lowercase();
        let mut actors = Vec::with_capacity(TEAM.len());
        for (suffix, role, display_name) in TEAM {
            let username = format!("{DEMO_PREFIX}{tag}-{suffix}");
            actors.push(
                account(
                    db,
                    &mut seeded,
                    &username,
                    role,
                    Some(province),
                    display_name,
                )
                .await?,
            );
        }
        let [worker_1, worker_2, supervisor, _staff, hotline] = <[Actor; 5]>::try_from(actors)
            .map_err(|_| Error::Internal(anyhow::anyhow!("a demo team has five accounts")))?;
        let workers = [worker_1, worker_2];
        teams.insert(
            province.to_string(),
            Team {
                workers,
                supervisor,
                hotline,
            },
        );
        progress(Tick::Done(1));
    }
    seeded.centres = centres(db, &admin, &spots).await?;

    let until_ms = options.until_ms.unwrap_or_else(start_of_today_ms);
    let plan = plan::plan(
        &Sizes {
            children: options.children,
            encounters: options.encounters,
            reports: options.reports,
            seed: options.seed,
            until_ms,
        },
        &spots,
    );
    accounts_date_from(db, &plan).await?;
    let origin = Origin::system();
    let team = |province: &str| {
        teams
            .get(province)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("no demo team in {province}")))
    };

    progress(Tick::Stage("children", plan.children.len() as u64));
    for child in &plan.children {
        let actor = &team(&child.facts.home_province)?.workers[child.worker];
        let mut facts = child.facts.clone();
        facts.assigned_worker = Some(actor.user_id.clone());
        let new = NewChild {
            id: Some(child.id.clone()),
            facts,
        };
        match records::create(db, actor, &origin, new).await? {
            Created::New(_) => seeded.children.0 += 1,
            Created::Existing(_) => seeded.children.1 += 1,
        }
        progress(Tick::Done(1));
    }

    progress(Tick::Stage("encounters", plan.encounters.len() as u64));
    // Several at once on PostgreSQL, where each is mostly round trips (each
    // locks only its child's row, so they cannot deadlock); one at a time on
    // SQLite, which has one writer anyway. The rows are the same either way.
    let parallel = match db.backend() {
        crate::db::Backend::Postgres => 8,
        crate::db::Backend::Sqlite => 1,
    };
    let rules = crate::indicators::verification::Rules::from(config);
    let rules = &rules;
    let mut writes = futures::stream::iter(plan.encounters.iter().map(|e| {
        let child = &plan.children[e.child];
        let origin = &origin;
        let actor = team(&child.facts.home_province).map(|t| &t.workers[e.worker]);
        async move {
            let (_, new) = crate::registry::encounters::add(
                db,
                rules,
                actor?,
                origin,
                &child.id,
                e.encounter.clone(),
            )
            .await?;
            Ok::<bool, Error>(new)
        }
    }))
    .buffer_unordered(parallel);
    while let Some(new) = writes.next().await {
        if new? {
            seeded.encounters.0 += 1;
        } else {
            seeded.encounters.1 += 1;
        }
        progress(Tick::Done(1));
    }
    drop(writes);

    progress(Tick::Stage("reports", plan.reports.len() as u64));
    for batch in plan.reports.chunks(REPORT_BATCH) {
        let mut pending = Vec::with_capacity(batch.len());
        for r in batch {
            let team = team(&spots[r.spot].province)?;
            let actor = match r.report.source {
                Some(SightingSource::Hotline) => Some(&team.hotline),
                Some(SightingSource::Worker) => Some(&team.workers[0]),
                _ => None,
            };
            match Pending::backdated(actor, &r.report, r.seen_at_ms, boundaries.clone()) {
                Ok(p) => pending.push(p),
                // A point the boundaries put outside Iran (a coarse coast):
                // refused as the API would refuse it.
                Err(Error::Validation(_)) => seeded.reports_refused += 1,
                Err(e) => return Err(e),
            }
        }
        for answer in writer::write_batch(db, config, &pending).await {
            let (_, new) = answer?;
            if new {
                seeded.reports.0 += 1;
            } else {
                seeded.reports.1 += 1;
            }
        }
        progress(Tick::Done(batch.len() as u64));
    }

    progress(Tick::Stage("case histories", plan.children.len() as u64));
    for child in &plan.children {
        let team = team(&child.facts.home_province)?;
        let centre = centre_name(spots[child.spot].city.name);
        history(db, team, &origin, child, &centre).await?;
        progress(Tick::Done(1));
    }

    seeded.unplaced_encounters =
        sqlx::query_scalar("SELECT COUNT(*) FROM encounters WHERE province IS NULL")
            .fetch_one(db.pool())
            .await?;
    Ok(seeded)
}

/// Writes `child`'s status changes as its worker makes them (once: a seed
/// run again finds them made) — a referral to `centre` (by name) when the
/// child is referred, accepted by the supervisor when in service — then
/// dates the registration, each change and the referral's steps as planned,
/// and has the atlas count the child again from its rows.
async fn history(
    db: &Db,
    team: &Team,
    origin: &Origin,
    child: &plan::PlannedChild,
    centre: &str,
) -> Result<()> {
    let worker = &team.workers[child.worker];
    let version: i64 = sqlx::query_scalar("SELECT version FROM children WHERE id = $1")
        .bind(&child.id)
        .fetch_one(db.pool())
        .await?;
    let referred = child.changes.iter().find(|(s, _)| *s == Status::Referred);
    let serving = child.changes.iter().find(|(s, _)| *s == Status::InService);
    // The city's centre, or another of the child's province (a city whose
    // spots the boundaries put in two provinces); none: no referral.
    let centre_id: Option<String> =
        match referred {
            Some(_) => sqlx::query_scalar(
                "SELECT id FROM centres WHERE province = $1 ORDER BY name = $2 DESC, name LIMIT 1",
            )
            .bind(&child.facts.home_province)
            .bind(centre)
            .fetch_optional(db.pool())
            .await?,
            None => None,
        };
    if let Some(centre_id) = centre_id {
        let new = NewReferral {
            id: Some(child.referral_id.clone()),
            child_id: child.id.clone(),
            centre_id,
            note: None,
        };
        crate::cases::referrals::create(db, worker, origin, new).await?;
        if serving.is_some() {
            let accept = ReferralTransition {
                state: ReferralState::Accepted,
                note: None,
            };
            crate::cases::referrals::transition(
                db,
                &team.supervisor,
                origin,
                &child.referral_id,
                accept,
            )
            .await?;
        }
    }
    if version == 1 {
        for (k, (status, _)) in child.changes.iter().enumerate() {
            let mut changes = serde_json::Map::new();
            changes.insert(
                "status".into(),
                serde_json::Value::String(crate::db::vocab::enum_str(status)),
            );
            let update = ChildUpdate {
                base_version: k as i64 + 1,
                changes,
                reason: Some("پیگیری مددکار (نمایشی)".into()),
            };
            records::update(db, worker, origin, &child.id, update).await?;
        }
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE children SET created_at = $2 WHERE id = $1")
        .bind(&child.id)
        .bind(child.registered_at_ms)
        .execute(&mut *tx)
        .await?;
    let times =
        std::iter::once(child.registered_at_ms).chain(child.changes.iter().map(|(_, at)| *at));
    for (k, at) in times.enumerate() {
        sqlx::query(
            "UPDATE child_versions SET changed_at = $3 WHERE child_id = $1 AND version = $2",
        )
        .bind(&child.id)
        .bind(k as i64 + 1)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    // (Nothing to date when there was no referral.)
    for (step, at) in [("sent", referred), ("accepted", serving)] {
        let Some((_, at)) = at else { continue };
        sqlx::query("UPDATE referral_events SET at = $3 WHERE referral_id = $1 AND state = $2")
            .bind(&child.referral_id)
            .bind(step)
            .bind(*at)
            .execute(&mut *tx)
            .await?;
    }
    if let Some((_, at)) = referred {
        sqlx::query("UPDATE referrals SET created_at = $2 WHERE id = $1")
            .bind(&child.referral_id)
            .bind(*at)
            .execute(&mut *tx)
            .await?;
    }
    crate::atlas::rollup::enqueue(&mut tx, crate::atlas::subjects::Kind::Child, &child.id).await?;
    tx.commit().await?;
    Ok(())
}

/// The name of a demo city's service centre.
fn centre_name(city: &str) -> String {
    format!("مرکز مثبت زندگی {city}")
}

/// A demo account, created with [`DEMO_PASSWORD`] or found from an earlier
/// seed; acting as it needs no session.
async fn account(
    db: &Db,
    seeded: &mut Seeded,
    username: &str,
    role: Role,
    province: Option<&str>,
    display_name: &str,
) -> Result<Actor> {
    let user_id = match crate::users::store::find_by_username(db, username).await? {
        Some(found) => found.user.id,
        None => {
            let new = NewUser {
                username: username.to_string(),
                password: DEMO_PASSWORD.to_string(),
                display_name: Some(display_name.to_string()),
                role,
                province: province.map(str::to_string),
                county: None,
            };
            crate::users::create(db, new, &Who::system(), &Origin::system())
                .await?
                .id
        }
    };
    seeded.logins.push(Login {
        username: username.to_string(),
        role,
        province: province.map(str::to_string),
    });
    Ok(Actor {
        user_id,
        username: username.to_string(),
        role,
        scope: Scope::from_parts(province.map(str::to_string), None),
        token_hash: String::new(),
    })
}

/// Dates the demo accounts from the plan's first day. The history is dated
/// back (children, visits, reports) but the accounts are made today, and
/// the indicators count a worker only from the account's creation: without
/// this every past quarter of the demo would show open cases assigned to
/// no worker at all.
async fn accounts_date_from(db: &Db, plan: &plan::Plan) -> Result<()> {
    let first = plan
        .children
        .iter()
        .map(|c| c.registered_at_ms)
        .chain(plan.encounters.iter().map(|e| e.at_ms))
        .chain(plan.reports.iter().map(|r| r.seen_at_ms))
        .min();
    let Some(first) = first else { return Ok(()) };
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE users SET created_at = $1 WHERE username LIKE $2 AND created_at > $1")
        .bind(first)
        .bind(format!("{DEMO_PREFIX}%"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// One service centre (مرکز مثبت زندگی) per demo city, about a kilometre
/// from its first spot; those already there (by name) are kept. Returns
/// how many were created.
async fn centres(db: &Db, admin: &Actor, spots: &[SpotPlace]) -> Result<usize> {
    let mut created = 0;
    let mut seen = std::collections::BTreeSet::new();
    for s in spots {
        if !seen.insert(s.city.name) {
            continue;
        }
        let name = centre_name(s.city.name);
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM centres WHERE name = $1")
            .bind(&name)
            .fetch_optional(db.pool())
            .await?;
        if exists.is_some() {
            continue;
        }
        let new = NewCentre {
            name,
            address: None,
            lat: s.spot.lat + 0.009,
            lng: s.spot.lng,
            province: s.province.clone(),
            county: s.county.clone(),
            services: vec![
                Service::Food,
                Service::Counselling,
                Service::SchoolReferral,
                Service::MedicalReferral,
            ],
            capacity: None,
        };
        crate::cases::centres::create(db, admin, &Origin::system(), new).await?;
        created += 1;
    }
    Ok(created)
}
