//! `kudakyar demo seed`: counts, places, determinism, idempotence, and the
//! refusal to mix demo data with real children.
//!
//! Placing needs boundaries: the built-in province outlines, which also
//! get their own test here (31 provinces, Tehran placed in IR-23).

use kudakyar::config::Config;
use kudakyar::db::{Backend, Db};
use kudakyar::demo::{self, Options};
use kudakyar::geo::builtin;
use kudakyar::geo::import::{self, Imported};

use crate::common::TestDb;

on_both_backends!(
    builtin_outlines_hold_every_province,
    seeds_placed_deterministic_idempotent_demo_data
);

fn options() -> Options {
    Options {
        children: 40,
        encounters: 160,
        reports: 30,
        seed: 17,
        // Fixed for the test: both databases get the same year.
        until_ms: Some(demo::start_of_today_ms()),
        force: false,
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

/// An encounter: id, child, time, position, province, worker's username.
type EncounterRow = (String, String, i64, f64, f64, Option<String>, String);
/// A child as [`rows`] reads it: id, home province and county, facts,
/// status, assigned worker's username, created at.
type ChildRow = (String, String, Option<String>, String, String, String, i64);
/// A report: id, source, time, position, province, children.
type ReportRow = (String, String, i64, f64, f64, Option<String>, i64);

/// The rows a seed decides, in a fixed order, as text (ids, facts, statuses,
/// assigned workers, times, places — not receipt codes, which are chance).
async fn rows(db: &Db) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // The assigned worker by username (account ids are drawn when made).
    let children: Vec<ChildRow> = sqlx::query_as(
        "SELECT c.id, c.home_province, c.home_county, c.facts, c.status, u.username, c.created_at
             FROM children c JOIN users u ON u.id = c.assigned_worker ORDER BY c.id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    out.extend(children.into_iter().map(|mut r| {
        let mut facts: serde_json::Value = serde_json::from_str(&r.3).unwrap();
        facts["assigned_worker"] = serde_json::Value::Null;
        r.3 = facts.to_string();
        format!("{r:?}")
    }));
    let encounters: Vec<EncounterRow> = sqlx::query_as(
        "SELECT e.id, e.child_id, e.at, e.lat, e.lng, e.province, u.username
             FROM encounters e JOIN users u ON u.id = e.worker_id ORDER BY e.id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    out.extend(encounters.into_iter().map(|r| format!("{r:?}")));
    let reports: Vec<ReportRow> = sqlx::query_as(
        "SELECT id, source, seen_at, lat, lng, province, children_count FROM sightings ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    out.extend(reports.into_iter().map(|r| format!("{r:?}")));
    out
}

/// Imports the built-in province outlines, as a fresh install does.
async fn with_provinces(db: &Db) -> Imported {
    let read = builtin::provinces().unwrap();
    let prepared = import::prepare(read.boundaries, |_| {}).unwrap();
    import::replace(db, &prepared, read.skipped).await.unwrap()
}

async fn builtin_outlines_hold_every_province(test: TestDb) {
    let db = &test.db;
    let done = with_provinces(db).await;
    assert_eq!((done.provinces, done.counties), (31, 0));
    assert_eq!(
        count(
            db,
            "SELECT COUNT(DISTINCT code) FROM boundaries WHERE level = 'province'"
        )
        .await,
        31
    );
    let tehran: String = sqlx::query_scalar("SELECT name_fa FROM boundaries WHERE code = 'IR-23'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(tehran, "تهران");
    let index = db.boundaries().await.unwrap();
    // Central Tehran (Enghelab Square), Mashhad, Karaj (Alborz, next to Tehran).
    let province = |lat, lng| index.place(lat, lng).and_then(|p| p.province);
    assert_eq!(province(35.7010, 51.3915).as_deref(), Some("IR-23"));
    assert_eq!(province(36.2972, 59.6067).as_deref(), Some("IR-09"));
    assert_eq!(province(35.8355, 50.9915).as_deref(), Some("IR-30"));
    // No counties: a point is placed in its province only.
    assert_eq!(index.place(35.7010, 51.3915).unwrap().county, None);
    // The Gulf, far from any coast: nowhere.
    assert_eq!(index.place(26.5, 52.5), None);
}

async fn seeds_placed_deterministic_idempotent_demo_data(test: TestDb) {
    let other = match test.db.backend() {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await.expect("a PostgreSQL server"),
    };
    let (db, twin) = (&test.db, &other.db);
    with_provinces(db).await;
    with_provinces(twin).await;
    let config = Config::default();
    let options = options();

    let mut stages = Vec::new();
    let mut done = 0;
    let seeded = demo::seed(db, &config, &options, &mut |tick: demo::Tick| match tick {
        demo::Tick::Stage(what, total) => stages.push((what, total)),
        demo::Tick::Done(n) => done += n,
    })
    .await
    .unwrap();
    assert_eq!(seeded.children, (40, 0));
    assert_eq!(seeded.encounters, (160, 0));
    assert_eq!(seeded.reports, (30, 0));
    assert_eq!(seeded.unplaced_encounters, 0);
    assert!(seeded.centres >= 10, "a centre per city");
    assert!(stages.contains(&("encounters", 160)));
    assert_eq!(
        done,
        stages.iter().map(|s| s.1).sum::<u64>(),
        "every stage reported to its end"
    );

    // Counted in the tables, each row placed, audited like real data.
    assert_eq!(count(db, "SELECT COUNT(*) FROM children").await, 40);
    assert_eq!(count(db, "SELECT COUNT(*) FROM encounters").await, 160);
    assert_eq!(count(db, "SELECT COUNT(*) FROM sightings").await, 30);
    for sql in [
        "SELECT COUNT(*) FROM encounters WHERE province IS NULL",
        "SELECT COUNT(*) FROM sightings WHERE province IS NULL",
        "SELECT COUNT(*) FROM sightings WHERE incident_id IS NULL",
    ] {
        assert_eq!(count(db, sql).await, 0, "{sql}");
    }
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'child.create'"
        )
        .await,
        40
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'encounter.create'"
        )
        .await,
        160
    );
    // Tehran has the most: the distribution follows the cities' sizes.
    let tehran = count(
        db,
        "SELECT COUNT(*) FROM encounters WHERE province = 'IR-23'",
    )
    .await;
    let zahedan = count(
        db,
        "SELECT COUNT(*) FROM encounters WHERE province = 'IR-11'",
    )
    .await;
    assert!(tehran > zahedan, "Tehran {tehran}, Zahedan {zahedan}");
    // Spread over the year, none after its end.
    let (first, last): (i64, i64) = sqlx::query_as("SELECT MIN(at), MAX(at) FROM encounters")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let until = options.until_ms.unwrap();
    assert!(
        last <= until && first < until - 120 * 86_400_000,
        "{first}…{last}"
    );
    // The demo logins work with the printed password.
    let user = kudakyar::users::store::find_by_username(db, "demo-ir-23-staff")
        .await
        .unwrap()
        .expect("a demo account per province and role");
    assert!(kudakyar::auth::password::verify(
        &user.password_hash,
        demo::DEMO_PASSWORD
    ));

    // The same seed on another fresh database: the same rows.
    demo::seed(twin, &config, &options, &mut |_: demo::Tick| {})
        .await
        .unwrap();
    assert_eq!(rows(db).await, rows(twin).await);
    // Another seed: other rows.
    let third = match test.db.backend() {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await.expect("a PostgreSQL server"),
    };
    with_provinces(&third.db).await;
    let reseeded = Options {
        seed: 18,
        ..options
    };
    demo::seed(&third.db, &config, &reseeded, &mut |_: demo::Tick| {})
        .await
        .unwrap();
    assert_ne!(rows(db).await, rows(&third.db).await);

    // Cases with a course: assigned, some changed status (referred ones to
    // their city's centre), registered over the year.
    for sql in [
        "SELECT COUNT(*) FROM children WHERE assigned_worker IS NULL",
        "SELECT COUNT(*) FROM children WHERE created_at > updated_at",
        "SELECT COUNT(*) FROM child_versions v JOIN children c ON c.id = v.child_id
         WHERE v.version = 1 AND v.changed_at <> c.created_at",
    ] {
        assert_eq!(count(db, sql).await, 0, "{sql}");
    }
    assert!(
        count(
            db,
            "SELECT COUNT(*) FROM children WHERE status IN ('reunified', 'closed')"
        )
        .await
            > 0
    );
    assert!(count(db, "SELECT COUNT(*) FROM referrals").await > 0);
    assert!(
        count(
            db,
            "SELECT COUNT(DISTINCT created_at / 7776000000) FROM children"
        )
        .await
            >= 2,
        "registrations in several quarters"
    );
    let versions = count(db, "SELECT COUNT(*) FROM child_versions").await;
    let steps = count(db, "SELECT COUNT(*) FROM referral_events").await;

    // Again on the first: nothing new.
    let again = demo::seed(db, &config, &options, &mut |_: demo::Tick| {})
        .await
        .unwrap();
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM child_versions").await,
        versions
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM referral_events").await,
        steps
    );
    assert_eq!(again.children, (0, 40));
    assert_eq!(again.encounters, (0, 160));
    assert_eq!(again.reports, (0, 30));
    assert_eq!(again.centres, 0);
    assert_eq!(count(db, "SELECT COUNT(*) FROM children").await, 40);

    // A real child (made by a non-demo account): refused unless forced.
    sqlx::query(
        "UPDATE children SET created_by = (SELECT id FROM users WHERE username = 'demo-admin')
         WHERE id = (SELECT MIN(id) FROM children)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    assert_eq!(
        demo::real_children(db).await.unwrap(),
        0,
        "demo-admin is a demo account"
    );
    let admin = kudakyar::users::create(
        db,
        kudakyar_api::users::NewUser {
            username: "real-admin".into(),
            password: "a real password".into(),
            display_name: None,
            role: kudakyar_api::users::Role::NationalAdmin,
            province: None,
            county: None,
        },
        &kudakyar::audit::Who::system(),
        &kudakyar::audit::Origin::system(),
    )
    .await
    .unwrap();
    sqlx::query("UPDATE children SET created_by = $1 WHERE id = (SELECT MIN(id) FROM children)")
        .bind(&admin.id)
        .execute(db.pool())
        .await
        .unwrap();
    let refused = demo::seed(db, &config, &options, &mut |_: demo::Tick| {})
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("1 children not made by the demo accounts")
            && refused.to_string().contains("--force"),
        "{refused}"
    );
    let forced = Options {
        force: true,
        ..options
    };
    let forced = demo::seed(db, &config, &forced, &mut |_: demo::Tick| {})
        .await
        .unwrap();
    assert_eq!(forced.children, (0, 40));
}
