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
//!   [`crate::registry::encounters::add`], reports by
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
//! Where the data differs from real data: a child's registration time (and
//! so its registry code's year) is the time of seeding, while its encounters
//! spread over the year before; receipt codes are random.

pub mod places;
pub mod plan;

use std::collections::BTreeMap;

use futures::StreamExt;

use kudakyar_api::cases::NewCentre;
use kudakyar_api::children::{NewChild, Service};
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
        let [worker_1, worker_2, _supervisor, _staff, hotline] = <[Actor; 5]>::try_from(actors)
            .map_err(|_| Error::Internal(anyhow::anyhow!("a demo team has five accounts")))?;
        let workers = [worker_1, worker_2];
        teams.insert(province.to_string(), Team { workers, hotline });
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
    let origin = Origin::system();
    let team = |province: &str| {
        teams
            .get(province)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("no demo team in {province}")))
    };

    progress(Tick::Stage("children", plan.children.len() as u64));
    for child in &plan.children {
        let actor = &team(&child.facts.home_province)?.workers[0];
        let new = NewChild {
            id: Some(child.id.clone()),
            facts: child.facts.clone(),
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

    seeded.unplaced_encounters =
        sqlx::query_scalar("SELECT COUNT(*) FROM encounters WHERE province IS NULL")
            .fetch_one(db.pool())
            .await?;
    Ok(seeded)
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
        let name = format!("مرکز مثبت زندگی {}", s.city.name);
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
