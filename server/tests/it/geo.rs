//! Admin boundaries (the presence atlas): importing OSM GeoJSON, placing
//! points by it, and what that changes for reports and encounters.
//!
//! The boundaries are the real ones staged beside the project
//! (`../shared/geo/iran`, or `KUDAKYAR_TEST_GEO_DIR`); without them the test
//! is skipped loudly, and fails under `CI=true`. Simplifying 509 shapes is
//! slow in a debug build, so one test per backend prepares them once and
//! goes through everything with that import.

use std::path::PathBuf;

use kudakyar::geo::import::{self, Imported};
use serde_json::{Value, json};

use crate::common::{TestApp, TestDb, problem, worker};

on_both_backends!(boundaries_are_imported_and_place_reports_and_encounters);

const TEHRAN: (f64, f64) = (35.6892, 51.3890);
const MASHHAD: (f64, f64) = (36.2972, 59.6067);
const TABRIZ: (f64, f64) = (38.0800, 46.2919);
/// The Persian Gulf, 47 km off Parsian's coast: in the country's bounding
/// box, in no county and none within the tolerance.
const GULF: (f64, f64) = (26.5, 52.5);
/// Azerbaijan, about 1.7 km north of Iranian Astara across the border river.
const ACROSS_ASTARA: (f64, f64) = (38.46, 48.87);
/// Azerbaijan, about 10 km further: too far for the tolerance.
const DEEP_IN_AZERBAIJAN: (f64, f64) = (38.55, 48.85);

/// Counties' codes (their wikidata ids) as in the staged data.
const TEHRAN_COUNTY: &str = "Q643031";
const MASHHAD_COUNTY: &str = "Q1270617";
const TABRIZ_COUNTY: &str = "Q1286247";
const ASTARA_COUNTY: &str = "Q1289684";

/// The staged boundaries, or `None` (said loudly) when they are absent.
fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("KUDAKYAR_TEST_GEO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/geo/iran"));
    if dir.join("provinces.geojson").is_file() {
        return Some(dir);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !in_ci,
        "the boundaries at {} must exist in CI",
        dir.display()
    );
    eprintln!(
        "SKIPPED: boundary tests (no {}; stage ../shared/geo/iran or set KUDAKYAR_TEST_GEO_DIR)",
        dir.display()
    );
    None
}

fn place(lat: f64, lng: f64) -> Value {
    json!({
        "id": uuid::Uuid::now_v7().to_string(), "lat": lat, "lng": lng,
        "children_count": 1, "activity": "selling_flowers_or_poems",
    })
}

async fn citizen_reports(app: &TestApp, at: (f64, f64)) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/sightings"))
        .json(&place(at.0, at.1))
        .send()
        .await
        .unwrap()
}

/// A report's id by its receipt, after checking it was taken.
async fn reported(app: &TestApp, at: (f64, f64)) -> String {
    let response = citizen_reports(app, at).await;
    assert_eq!(response.status(), 201, "{at:?}");
    let receipt: Value = response.json().await.unwrap();
    receipt["id"].as_str().unwrap().to_string()
}

async fn place_of(app: &TestApp, table: &str, id: &str) -> (Option<String>, Option<String>) {
    let row: (Option<String>, Option<String>) = sqlx::query_as(&format!(
        "SELECT province, county FROM {table} WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    row
}

fn some(province: &str, county: &str) -> (Option<String>, Option<String>) {
    (Some(province.into()), Some(county.into()))
}

async fn stored(app: &TestApp) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT SUM(CASE WHEN level = 'province' THEN 1 ELSE 0 END),
                SUM(CASE WHEN level = 'county' THEN 1 ELSE 0 END),
                COUNT(DISTINCT code), MAX(imported_at)
         FROM boundaries",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
}

/// An encounter of a child of Tehran at `at`; its id.
async fn encounter(app: &TestApp, token: &str, child: &str, at: (f64, f64)) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let body = json!({"id": id, "at": "2026-11-20T10:30:00Z", "lat": at.0, "lng": at.1,
                      "activity": "street_vending"});
    let response = app
        .post(
            token,
            &format!("/api/v1/children/{child}/encounters"),
            &body,
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    id
}

async fn boundaries_are_imported_and_place_reports_and_encounters(db: TestDb) {
    let Some(dir) = data_dir() else { return };
    let app = TestApp::start_with(db, |c| {
        c.sighting_max_per_hour = 1000;
        c.sighting_soft_limit_per_hour = 1000;
    })
    .await;
    let db = &app.state.db;
    let w = worker(&app, "geo-worker", "IR-23").await;
    let child = uuid::Uuid::now_v7().to_string();
    let response = app
        .post(
            &w,
            "/api/v1/children",
            &json!({"id": child, "given_name": "علی", "family_name": "رضایی", "sex": "male",
                    "birth": {"precision": "estimated", "estimated_age": 11},
                    "nationality": "afghan", "languages": ["persian"],
                    "work_types": ["street_vending"], "home_province": "IR-23"}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());

    // Before any import: the bounding box lets the Gulf through, and nothing
    // places a report (no centres) or an encounter.
    assert!(db.boundaries().await.unwrap().is_empty());
    let old_report = reported(&app, TABRIZ).await;
    let gulf_report = reported(&app, GULF).await;
    assert_eq!(place_of(&app, "sightings", &old_report).await, (None, None));
    let old_encounter = encounter(&app, &w, &child, TEHRAN).await;
    assert_eq!(
        place_of(&app, "encounters", &old_encounter).await,
        (None, None)
    );

    // Read and simplify once; store twice: the second replaces the first.
    let provinces = import::read_provinces(&dir.join("provinces.geojson")).unwrap();
    let counties = import::read_counties(&dir.join("counties"), &provinces.boundaries).unwrap();
    assert_eq!(provinces.boundaries.len(), 31);
    assert_eq!(counties.boundaries.len(), 478);
    assert!(
        counties.skipped > 0,
        "the files' tagless Points are skipped"
    );
    assert!(
        counties
            .boundaries
            .iter()
            .all(|c| kudakyar::geo::is_county_code(&c.code))
    );
    let skipped = provinces.skipped + counties.skipped;
    let mut all = provinces.boundaries;
    all.extend(counties.boundaries);
    let prepared = import::prepare(all, |_| {}).unwrap();
    let first = import::replace(db, &prepared, skipped).await.unwrap();
    let expected = Imported {
        provinces: 31,
        counties: 478,
        skipped,
        ..first
    };
    assert_eq!(first, expected);
    assert!(first.county_display_bytes < first.county_full_bytes / 4);
    let (p, c, codes, stamp) = stored(&app).await;
    assert_eq!((p, c, codes), (31, 478, 509));
    let again = import::replace(db, &prepared, skipped).await.unwrap();
    assert_eq!(again, first);
    let (p, c, codes, restamp) = stored(&app).await;
    assert_eq!((p, c, codes), (31, 478, 509), "replaced, not added");
    assert!(restamp >= stamp);

    // A broken import changes nothing: a file that is not GeoJSON fails
    // before the database is touched, and a set that fails while being
    // stored (two rows with one code) rolls back whole.
    let broken = app.state.config.data_dir.join("broken.geojson");
    std::fs::write(&broken, r#"{"type": "FeatureCollection", "features": [{"#).unwrap();
    let err = import::read_counties(&broken, &[]).unwrap_err();
    assert!(err.to_string().contains("broken.geojson"), "{err}");
    let mut twice = prepared.clone();
    twice.push(prepared[0].clone());
    import::replace(db, &twice, 0).await.unwrap_err();
    assert_eq!(stored(&app).await, (31, 478, 509, restamp));

    // Points.
    let index = db.boundaries().await.unwrap();
    let at = |p: (f64, f64)| index.place(p.0, p.1).map(|p| (p.province, p.county));
    assert_eq!(at(TEHRAN), Some(some("IR-23", TEHRAN_COUNTY)));
    assert_eq!(at(MASHHAD), Some(some("IR-09", MASHHAD_COUNTY)));
    assert_eq!(at(TABRIZ), Some(some("IR-03", TABRIZ_COUNTY)));
    assert_eq!(at(GULF), None);
    let outside = geo::Point::new(ACROSS_ASTARA.1, ACROSS_ASTARA.0);
    assert!(index.provinces.containing(outside).is_none(), "abroad");
    assert_eq!(at(ACROSS_ASTARA), Some(some("IR-01", ASTARA_COUNTY)));
    assert_eq!(at(DEEP_IN_AZERBAIJAN), None);

    // Intake: placed by the boundaries; the Gulf is now outside Iran.
    let tabriz = reported(&app, TABRIZ).await;
    assert_eq!(
        place_of(&app, "sightings", &tabriz).await,
        some("IR-03", TABRIZ_COUNTY)
    );
    let body = problem(citizen_reports(&app, GULF).await, 422).await;
    assert!(body["errors"]["lat"].is_array(), "{body}");
    // Staff read a report's county by its names (before the import: none).
    let admin = app.admin_token().await;
    let (fa, en): (String, Option<String>) = sqlx::query_as(
        "SELECT name_fa, name_en FROM boundaries WHERE level = 'county' AND code = $1",
    )
    .bind(TABRIZ_COUNTY)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(!fa.is_empty());
    let read = app
        .get_json(&admin, &format!("/api/v1/sightings/{tabriz}"))
        .await;
    assert_eq!(
        (&read["county_name_fa"], &read["county_name_en"]),
        (&json!(fa), &json!(en))
    );
    let unplaced = app
        .get_json(&admin, &format!("/api/v1/sightings/{old_report}"))
        .await;
    assert_eq!(unplaced["county_name_fa"], Value::Null);
    // An encounter gets its county at write time.
    let fresh = encounter(&app, &w, &child, TEHRAN).await;
    assert_eq!(
        place_of(&app, "encounters", &fresh).await,
        some("IR-23", TEHRAN_COUNTY)
    );

    // Backfill: the old encounter and the old reports move; the new ones
    // stay; the Gulf report becomes unplaced (it stays, for review).
    let mut progressed = 0;
    let moved = kudakyar::geo::backfill::encounters(db, 1, |n| progressed += n)
        .await
        .unwrap();
    assert_eq!((moved, progressed), (1, 2));
    assert_eq!(
        place_of(&app, "encounters", &old_encounter).await,
        some("IR-23", TEHRAN_COUNTY)
    );
    kudakyar::sightings::relocate::relocate(db, 500, |_| {})
        .await
        .unwrap();
    assert_eq!(
        place_of(&app, "sightings", &old_report).await,
        some("IR-03", TABRIZ_COUNTY)
    );
    assert_eq!(
        place_of(&app, "sightings", &gulf_report).await,
        (None, None)
    );
    let again = kudakyar::geo::backfill::encounters(db, 500, |_| {})
        .await
        .unwrap();
    assert_eq!(again, 0, "nothing left to move");
}
