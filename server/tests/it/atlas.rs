//! The presence atlas: rollups kept by the queue and its job, equal to a
//! rebuild; figures equal to direct counts; distinct children estimated past
//! 512 and exact again below; scope, suppression, ETags, bad input; zoning;
//! hot spots refused on too little data and found on a planted cluster.
//!
//! Boundaries are two provinces (Tehran IR-23, Razavi Khorasan IR-09) and
//! their counties from the staged `../shared/geo/iran` (or
//! `KUDAKYAR_TEST_GEO_DIR`), read and simplified once per test binary;
//! without them the tests are skipped loudly, and fail under `CI=true`.

use std::path::PathBuf;
use std::sync::OnceLock;

use kudakyar::atlas::{hotspots, periods, rollup};
use kudakyar::geo::import::{self, Prepared};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::Row;

use crate::common::{TestApp, TestDb, json_of, problem};

on_both_backends!(
    figures_equal_direct_counts_within_scope_and_privacy,
    rebuild_equals_incremental_on_a_random_workload,
    distinct_children_past_512_are_estimated_and_exact_again_below,
    a_period_held_in_memory_is_read_again_once_its_rows_change,
    bad_input_is_named,
    hotspots_refuse_too_little_data_and_find_a_planted_cluster,
    the_nightly_run_waits_for_changes_queued_before_it,
    a_province_prints_as_a_map_and_a_county_team_sees_its_county,
    the_rollup_job_waits_while_writes_are_busy_and_catches_up_after,
);

const TEHRAN: (f64, f64) = (35.6892, 51.3890);
const MASHHAD: (f64, f64) = (36.2972, 59.6067);
const TEHRAN_COUNTY: &str = "Q643031";
/// Two days of November 2026 (Tehran time), both inside the ranges asked.
const DAY_A: &str = "2026-11-20T10:30:00Z";
const DAY_B: &str = "2026-11-25T10:30:00Z";
const RANGE: &str = "from=2026-11-01&to=2026-11-30";

fn geo_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("KUDAKYAR_TEST_GEO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/geo/iran"));
    if dir.join("provinces.geojson").is_file() {
        return Some(dir);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "the boundaries at {} must exist in CI",
        dir.display()
    );
    eprintln!(
        "SKIPPED: atlas tests (no {}; stage ../shared/geo/iran or set KUDAKYAR_TEST_GEO_DIR)",
        dir.display()
    );
    None
}

/// Tehran and Razavi Khorasan with their counties, simplified once.
fn boundaries() -> Option<&'static Vec<Prepared>> {
    static PREPARED: OnceLock<Option<Vec<Prepared>>> = OnceLock::new();
    PREPARED
        .get_or_init(|| {
            let dir = geo_dir()?;
            let mut provinces = import::read_provinces(&dir.join("provinces.geojson")).unwrap();
            provinces
                .boundaries
                .retain(|b| ["IR-23", "IR-09"].contains(&b.code.as_str()));
            let mut all = provinces.boundaries.clone();
            for p in ["IR-23", "IR-09"] {
                let file = dir.join("counties").join(format!("{p}.geojson"));
                all.extend(
                    import::read_counties(&file, &provinces.boundaries)
                        .unwrap()
                        .boundaries,
                );
            }
            Some(import::prepare(all, |_| {}).unwrap())
        })
        .as_ref()
}

/// The app with the two provinces imported; `None` without the fixture.
async fn atlas_app(db: TestDb) -> Option<TestApp> {
    let prepared = boundaries()?;
    let app = TestApp::start_with(db, |c| {
        c.sighting_max_per_hour = 1000;
        c.sighting_soft_limit_per_hour = 1000;
    })
    .await;
    import::replace(&app.state.db, prepared, 0).await.unwrap();
    Some(app)
}

async fn new_child(app: &TestApp, token: &str, province: &str, sex: &str, work: &[&str]) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let response = app
        .post(
            token,
            "/api/v1/children",
            &json!({"id": id, "sex": sex, "birth": {"precision": "year", "year": 2014},
                    "nationality": "afghan", "languages": ["persian"],
                    "work_types": work, "home_province": province}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    id
}

async fn meet(app: &TestApp, token: &str, child: &str, at: &str, (lat, lng): (f64, f64)) {
    let body = json!({"id": uuid::Uuid::now_v7().to_string(), "at": at, "lat": lat, "lng": lng});
    let response = app
        .post(
            token,
            &format!("/api/v1/children/{child}/encounters"),
            &body,
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// A point `i` steps of about 300 m east of `p`.
fn near(p: (f64, f64), i: usize) -> (f64, f64) {
    (p.0, p.1 + 0.003 * i as f64)
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.get(token, path).await
}

fn feature<'a>(collection: &'a Value, code: &str) -> &'a Value {
    collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == code)
        .unwrap_or_else(|| panic!("no feature {code} in {collection}"))
}

fn codes(collection: &Value) -> Vec<String> {
    collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// The provinces' choropleth as GeoJSON (their simplified outlines).
async fn geojson_of_provinces(app: &TestApp, token: &str) -> Value {
    let path = format!("/api/v1/atlas/choropleth?level=province&{RANGE}&format=geojson");
    json_of(get(app, token, &path).await, 200).await
}

/// Distinct children and encounters straight from the raw rows.
async fn direct(app: &TestApp, column: &str, place: &str) -> (i64, i64) {
    let from = periods::day_start_ms(periods::parse_day("2026-11-01").unwrap());
    let to = periods::day_start_ms(periods::parse_day("2026-12-01").unwrap());
    let row = sqlx::query(&format!(
        "SELECT COUNT(DISTINCT child_id), COUNT(*) FROM encounters
         WHERE {column} = $1 AND at >= $2 AND at < $3"
    ))
    .bind(place)
    .bind(from)
    .bind(to)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    (row.try_get(0).unwrap(), row.try_get(1).unwrap())
}

pub(crate) async fn figures_equal_direct_counts_within_scope_and_privacy(db: TestDb) {
    let Some(app) = atlas_app(db).await else {
        return;
    };
    let admin = app.admin_token().await;
    let tehran_worker = app.token_for("atlas-w23", "outreach_worker", "IR-23").await;
    let tehran_supervisor = app.token_for("atlas-s23", "supervisor", "IR-23").await;
    let tehran_staff = app
        .token_for("atlas-p23", "provincial_staff", "IR-23")
        .await;
    let mashhad_worker = app.token_for("atlas-w09", "outreach_worker", "IR-09").await;

    // Tehran: seven children on day A, two of them again on day B (one of
    // them twice); Mashhad: two children.
    let mut tehran = Vec::new();
    for i in 0..7 {
        let sex = if i % 2 == 0 { "male" } else { "female" };
        let c = new_child(
            &app,
            &tehran_worker,
            "IR-23",
            sex,
            &["begging", "street_vending"],
        )
        .await;
        meet(&app, &tehran_worker, &c, DAY_A, near(TEHRAN, i)).await;
        tehran.push(c);
    }
    for c in &tehran[..2] {
        meet(&app, &tehran_worker, c, DAY_B, near(TEHRAN, 1)).await;
    }
    meet(&app, &tehran_worker, &tehran[0], DAY_B, near(TEHRAN, 2)).await;
    for i in 0..2 {
        let c = new_child(&app, &mashhad_worker, "IR-09", "male", &["waste_picking"]).await;
        meet(&app, &mashhad_worker, &c, DAY_A, near(MASHHAD, i)).await;
    }
    rollup::drain(&app.state.db).await.unwrap();

    // The country by province, as national admin: equal to direct counts.
    let path = format!("/api/v1/atlas/choropleth?level=province&{RANGE}");
    let all = json_of(get(&app, &admin, &path).await, 200).await;
    assert_eq!(all["type"], "FeatureCollection");
    assert_eq!(
        all["properties"]["attribution"],
        "© OpenStreetMap contributors"
    );
    let (children, encounters) = direct(&app, "province", "IR-23").await;
    assert_eq!((children, encounters), (7, 10));
    assert_eq!(feature(&all, "IR-23")["properties"]["value"], children);
    assert_eq!(
        feature(&all, "IR-09")["properties"]["value"],
        2,
        "admins see small figures"
    );
    assert!(feature(&all, "IR-23")["geometry"]["coordinates"].is_array());
    assert!(all["properties"]["legend"].is_array());
    let by_encounters = json_of(
        get(&app, &admin, &format!("{path}&measure=encounters")).await,
        200,
    )
    .await;
    assert_eq!(
        feature(&by_encounters, "IR-23")["properties"]["value"],
        encounters
    );
    let counties = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/atlas/choropleth?level=county&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    let (in_county, _) = direct(&app, "county", TEHRAN_COUNTY).await;
    assert_eq!(in_county, 7);
    assert_eq!(
        feature(&counties, TEHRAN_COUNTY)["properties"]["value"],
        in_county
    );
    // Filters: girls (3 of the 7); a work type among others (all 7).
    let girls = json_of(get(&app, &admin, &format!("{path}&sex=female")).await, 200).await;
    assert_eq!(feature(&girls, "IR-23")["properties"]["value"], 3);
    let begging = json_of(
        get(&app, &admin, &format!("{path}&work_type=begging")).await,
        200,
    )
    .await;
    assert_eq!(feature(&begging, "IR-23")["properties"]["value"], 7);
    let picking = json_of(
        get(&app, &admin, &format!("{path}&work_type=waste_picking")).await,
        200,
    )
    .await;
    assert_eq!(feature(&picking, "IR-23")["properties"]["value"], 0);

    // Scope: Tehran's staff see Tehran only; Razavi Khorasan is not found.
    let theirs = json_of(get(&app, &tehran_staff, &path).await, 200).await;
    assert_eq!(codes(&theirs), ["IR-23"]);
    let outside = format!("/api/v1/atlas/timeseries?area=IR-09&{RANGE}");
    problem(get(&app, &tehran_staff, &outside).await, 404).await;
    problem(
        get(
            &app,
            &tehran_staff,
            &format!("/api/v1/atlas/timeseries?area=IR&{RANGE}"),
        )
        .await,
        404,
    )
    .await;
    let tehran_counties = json_of(
        get(
            &app,
            &tehran_staff,
            &format!("/api/v1/atlas/choropleth?level=county&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    assert!(codes(&tehran_counties).contains(&TEHRAN_COUNTY.to_string()));
    assert!(
        tehran_counties["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["province"] == "IR-23")
    );

    // Time series of Tehran by day: 7 children on day A, 2 on day B.
    let series_path = format!("/api/v1/atlas/timeseries?area=IR-23&{RANGE}");
    let value_on = |series: &Value, day: &str| -> Value {
        series["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["start"] == day)
            .unwrap()["value"]
            .clone()
    };
    let supervised = json_of(get(&app, &tehran_supervisor, &series_path).await, 200).await;
    assert_eq!(supervised["series"].as_array().unwrap().len(), 30);
    assert_eq!(value_on(&supervised, "2026-11-20"), 7);
    assert_eq!(
        value_on(&supervised, "2026-11-25"),
        2,
        "supervisors see small figures"
    );
    assert_eq!(value_on(&supervised, "2026-11-26"), 0);
    // Below supervisor: suppressed, never 0.
    let worked = json_of(get(&app, &tehran_worker, &series_path).await, 200).await;
    assert_eq!(value_on(&worked, "2026-11-20"), 7);
    assert_eq!(value_on(&worked, "2026-11-25"), "suppressed");
    let mashhad = json_of(get(&app, &mashhad_worker, &path).await, 200).await;
    assert_eq!(
        feature(&mashhad, "IR-09")["properties"]["value"],
        "suppressed"
    );
    assert_eq!(
        feature(&mashhad, "IR-09")["properties"]["class"],
        Value::Null
    );
    // Encounters are suppressed by the children behind them (2 on day B).
    let worked_encounters = json_of(
        get(
            &app,
            &tehran_worker,
            &format!("{series_path}&measure=encounters"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(value_on(&worked_encounters, "2026-11-25"), "suppressed");
    // Jalali months: November 2026 spans Aban and Azar 1405.
    let jmonths = json_of(
        get(&app, &admin, &format!("{series_path}&bucket=jmonth")).await,
        200,
    )
    .await;
    let labels: Vec<&str> = jmonths["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["1405-08", "1405-09"]);
    // Azar 1405 begins on 2026-11-22: day A is in Aban, day B in Azar;
    // each child counts once per month however often met.
    assert_eq!(jmonths["series"][0]["value"], 7);
    assert_eq!(jmonths["series"][1]["value"], 2);

    // Downloads are suppressed whoever asks, CSV with a BOM.
    let csv = get(&app, &admin, &format!("{series_path}&format=csv")).await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'), "UTF-8 BOM");
    assert!(text.contains("2026-11-25,suppressed"), "{text}");
    assert!(text.contains("2026-11-20,7"), "{text}");
    // The series as GeoJSON: a feature per period, each with Tehran's outline.
    let series_geojson = get(&app, &admin, &format!("{series_path}&format=geojson")).await;
    assert_eq!(
        series_geojson.headers()["content-type"],
        "application/geo+json"
    );
    let series_geojson = json_of(series_geojson, 200).await;
    let periods = series_geojson["features"].as_array().unwrap();
    assert_eq!(periods.len(), 30);
    let on = |day: &str| {
        periods
            .iter()
            .find(|f| f["properties"]["start"] == day)
            .unwrap()
    };
    assert_eq!(on("2026-11-20")["properties"]["value"], 7);
    assert_eq!(on("2026-11-20")["properties"]["area"], "IR-23");
    assert_eq!(
        on("2026-11-25")["properties"]["value"],
        "suppressed",
        "downloads are suppressed whoever asks"
    );
    assert_eq!(
        on("2026-11-20")["geometry"],
        feature(&geojson_of_provinces(&app, &admin).await, "IR-23")["geometry"],
        "the province's outline"
    );
    assert_eq!(
        series_geojson["properties"]["attribution"],
        "© OpenStreetMap contributors"
    );
    let geojson = json_of(
        get(&app, &admin, &format!("{path}&format=geojson")).await,
        200,
    )
    .await;
    assert_eq!(
        feature(&geojson, "IR-09")["properties"]["value"],
        "suppressed"
    );
    assert_eq!(feature(&geojson, "IR-23")["properties"]["value"], 7);

    // Hexes: cells, never points.
    let bbox = "bbox=51.0,35.4,51.8,36.0";
    let hexes = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/atlas/hexes?res=7&{bbox}&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    let total: i64 = hexes["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert!(total >= 7, "every Tehran child is in some cell: {hexes}");
    let raw = get(
        &app,
        &admin,
        &format!("/api/v1/atlas/hexes?res=9&{bbox}&{RANGE}&format=geojson"),
    )
    .await;
    let text = raw.text().await.unwrap();
    assert!(
        !text.contains("35.6892") && !text.contains("51.389,"),
        "no exact point: {text}"
    );
    let mashhad_hexes = json_of(
        get(
            &app,
            &mashhad_worker,
            &format!("/api/v1/atlas/hexes?res=7&{bbox}&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        mashhad_hexes["cells"],
        json!([]),
        "Tehran's cells are outside IR-09's scope"
    );
    // Without a bbox: every cell of the caller's scope, Tehran's among the
    // country's, none of them among Mashhad's.
    let cells_of = |answer: &serde_json::Value| -> Vec<String> {
        answer["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    };
    let tehran_cells = cells_of(&hexes);
    let national = json_of(
        get(&app, &admin, &format!("/api/v1/atlas/hexes?res=7&{RANGE}")).await,
        200,
    )
    .await;
    let national = cells_of(&national);
    assert!(
        tehran_cells.iter().all(|c| national.contains(c)) && national.len() > tehran_cells.len(),
        "the country's cells hold Tehran's and more: {national:?} / {tehran_cells:?}"
    );
    let mashhad = json_of(
        get(
            &app,
            &mashhad_worker,
            &format!("/api/v1/atlas/hexes?res=7&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    let mashhad = cells_of(&mashhad);
    assert!(!mashhad.is_empty(), "IR-09's own cells");
    assert!(
        mashhad.iter().all(|c| !tehran_cells.contains(c)),
        "no Tehran cell in IR-09's scope: {mashhad:?}"
    );

    // ETags: a repeat with If-None-Match gets 304, on every atlas GET.
    for p in [
        &path,
        &series_path,
        &format!("/api/v1/atlas/hexes?res=7&{bbox}&{RANGE}"),
    ] {
        let first = get(&app, &admin, p).await;
        let etag = first.headers()["etag"].to_str().unwrap().to_string();
        let again = app
            .client
            .get(app.url(p))
            .bearer_auth(&admin)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{p}");
    }
    // A new encounter changes the figure, so the ETag.
    let before = get(&app, &admin, &series_path).await.headers()["etag"].clone();
    meet(&app, &tehran_worker, &tehran[3], DAY_B, TEHRAN).await;
    rollup::drain(&app.state.db).await.unwrap();
    let after = get(&app, &admin, &series_path).await.headers()["etag"].clone();
    assert_ne!(before, after);

    // Zoning: fixed thresholds put Tehran (7) in critical, Mashhad (2) in medium.
    let zones = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/atlas/zones?level=province&method=fixed&thresholds=1,3,6&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    let zone_of = |code: &str| {
        zones["areas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["area"] == code)
            .unwrap()["zone"]
            .clone()
    };
    assert_eq!(zone_of("IR-23"), "critical");
    assert_eq!(zone_of("IR-09"), "medium");
    // The zones as GeoJSON: every area a feature with its outline and zone.
    let zones_geojson = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/atlas/zones?level=province&method=fixed&thresholds=1,3,6&{RANGE}&format=geojson"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(zones_geojson["type"], "FeatureCollection");
    assert_eq!(
        zones_geojson["features"].as_array().unwrap().len(),
        zones["areas"].as_array().unwrap().len()
    );
    let provinces = geojson_of_provinces(&app, &admin).await;
    for code in ["IR-23", "IR-09"] {
        let zoned = &feature(&zones_geojson, code)["geometry"];
        assert_eq!(zoned, &feature(&provinces, code)["geometry"]);
        assert!(
            zoned["type"].as_str().unwrap().ends_with("Polygon"),
            "{zoned}"
        );
    }
    let tehran = &feature(&zones_geojson, "IR-23")["properties"];
    assert_eq!(
        (&tehran["value"], &tehran["zone"]),
        (&json!(7), &zone_of("IR-23"))
    );
    // Mashhad's 2 children: suppressed in a download, and so not zoned.
    let mashhad = &feature(&zones_geojson, "IR-09")["properties"];
    assert_eq!(
        (&mashhad["value"], &mashhad["zone"]),
        (&json!("suppressed"), &Value::Null)
    );
    assert_eq!(zones_geojson["properties"]["legend"], zones["legend"]);
    // Rates per 10,000: Tehran county of 1,000,000 people, 7 children → 0.07.
    kudakyar::atlas::zones::import_population(
        &app.state.db,
        &format!("county,population\n{TEHRAN_COUNTY},1000000\n"),
    )
    .await
    .unwrap();
    let rates = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/atlas/zones?level=county&per=10000&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    let tehran_rate = rates["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["area"] == TEHRAN_COUNTY)
        .unwrap();
    assert!(
        (tehran_rate["rate"].as_f64().unwrap() - 0.07).abs() < 1e-9,
        "{tehran_rate}"
    );
    // Freezing: provincial staff for their province; not a worker.
    let freeze = json!({"jalali_year": 1405, "level": "province", "method": "equal"});
    problem(
        app.post(&tehran_worker, "/api/v1/atlas/zones/freeze", &freeze)
            .await,
        403,
    )
    .await;
    let frozen = json_of(
        app.post(&tehran_staff, "/api/v1/atlas/zones/freeze", &freeze)
            .await,
        200,
    )
    .await;
    let again = json_of(
        app.post(
            &tehran_staff,
            "/api/v1/atlas/zones/freeze",
            &json!({"jalali_year": 1405, "level": "province", "method": "quantiles"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(frozen["breaks"], again["breaks"], "the first freeze stands");
    // Freezes of the country arriving together: one stands, every answer is it.
    let admin = app.admin_token().await;
    let answers = futures::future::join_all((0..8).map(|i| {
        let method = if i % 2 == 0 { "equal" } else { "quantiles" };
        let body = json!({"jalali_year": 1405, "level": "province", "method": method});
        let admin = admin.clone();
        let app = &app;
        async move {
            json_of(
                app.post(&admin, "/api/v1/atlas/zones/freeze", &body).await,
                200,
            )
            .await
        }
    }))
    .await;
    for answer in &answers {
        assert_eq!(answer["breaks"], answers[0]["breaks"], "{answer}");
        assert_eq!(answer["method"], answers[0]["method"], "{answer}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_frozen_breaks")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 2, "Tehran's freeze and the country's, once each");
    let zoned = json_of(
        get(
            &app,
            &tehran_staff,
            &format!("/api/v1/atlas/zones?level=province&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(zoned["frozen"], true);
    assert_eq!(zoned["breaks"], frozen["breaks"]);
}

/// Rows of a rollup table, sorted, for comparison.
async fn snapshot(app: &TestApp, table: &str) -> Vec<String> {
    let columns = match table {
        "atlas_counts" => {
            "level, area, day, province, county, source, sex, age_band, nationality, work_type, encounters, reports, children_reported, incidents"
        }
        "atlas_totals" => {
            "level, grain, start, province, area, county, encounters, reports, children_reported, incidents, children, sketch"
        }
        _ => "level, area, day, province, county, child_id, sex, age_band, nationality, work_type",
    };
    let rows = sqlx::query(&format!("SELECT {columns} FROM {table}"))
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    r.try_get::<String, _>(i)
                        .or_else(|_| r.try_get::<Option<i64>, _>(i).map(|n| format!("{n:?}")))
                        .or_else(|_| r.try_get::<Vec<u8>, _>(i).map(hex::encode))
                        .unwrap()
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    out.sort();
    out
}

async fn rebuild_equals_incremental_on_a_random_workload(db: TestDb) {
    let Some(app) = atlas_app(db).await else {
        return;
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let admin = app.admin_token().await;
    let supervisor = app.token_for("atlas-rb-s", "supervisor", "IR-23").await;
    let sexes = ["male", "female", "unknown"];
    let works = ["begging", "street_vending", "waste_picking", "porter"];
    let mut children = Vec::new();
    for i in 0..12 {
        let (province, centre) = if i % 3 == 0 {
            ("IR-09", MASHHAD)
        } else {
            ("IR-23", TEHRAN)
        };
        let work: Vec<&str> = works
            .iter()
            .copied()
            .filter(|_| rng.gen_bool(0.5))
            .collect();
        let c = new_child(&app, &admin, province, sexes[rng.gen_range(0..3)], &work).await;
        for _ in 0..rng.gen_range(1..5) {
            let day = rng.gen_range(1..28);
            let at = format!("2026-11-{day:02}T{:02}:15:00Z", rng.gen_range(0..24));
            let p = (
                centre.0 + rng.gen_range(-0.05..0.05),
                centre.1 + rng.gen_range(-0.05..0.05),
            );
            meet(&app, &admin, &c, &at, p).await;
        }
        children.push(c);
    }
    // Reports from citizens, one closed as a false report.
    let mut reports = Vec::new();
    for _ in 0..6 {
        let p = (
            TEHRAN.0 + rng.gen_range(-0.05..0.05),
            TEHRAN.1 + rng.gen_range(-0.05..0.05),
        );
        let response = app
            .client
            .post(app.url("/api/v1/sightings"))
            .json(
                &json!({"id": uuid::Uuid::now_v7().to_string(), "lat": p.0, "lng": p.1,
                          "children_count": rng.gen_range(1..4)}),
            )
            .send()
            .await
            .unwrap();
        let receipt = json_of(response, 201).await;
        reports.push(receipt["id"].as_str().unwrap().to_string());
    }
    rollup::drain(&app.state.db).await.unwrap();
    let closed = app
        .post(
            &supervisor,
            &format!("/api/v1/sightings/{}/close", reports[0]),
            &json!({"reason": "false_report"}),
        )
        .await;
    assert_eq!(closed.status(), 200, "{}", closed.text().await.unwrap());
    // A correction moves every past encounter of the child to its new sex.
    let child: Value = app
        .get_json(&admin, &format!("/api/v1/children/{}", children[1]))
        .await;
    let changed = app
        .patch(
            &admin,
            &format!("/api/v1/children/{}", children[1]),
            &json!({"base_version": child["version"], "changes": {"sex": "female"}}),
        )
        .await;
    assert_eq!(changed.status(), 200, "{}", changed.text().await.unwrap());
    // A merge moves the duplicate's encounters to the survivor.
    let merged = app
        .post(
            &admin,
            &format!("/api/v1/children/{}/merge", children[2]),
            &json!({"duplicate_id": children[4], "reason": "same child"}),
        )
        .await;
    assert!(
        merged.status().is_success(),
        "{}",
        merged.text().await.unwrap()
    );
    rollup::drain(&app.state.db).await.unwrap();

    let counts = snapshot(&app, "atlas_counts").await;
    let presence = snapshot(&app, "atlas_presence").await;
    let totals = snapshot(&app, "atlas_totals").await;
    assert!(!counts.is_empty() && !presence.is_empty() && !totals.is_empty());
    // The incremental result agrees with the raw rows.
    let encounters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM encounters")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let reports_left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sightings WHERE state <> 'false_report'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    let country: (i64, i64) = sqlx::query_as(
        "SELECT CAST(SUM(encounters) AS BIGINT), CAST(SUM(reports) AS BIGINT) FROM atlas_counts
         WHERE level = 'country'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(country, (encounters, reports_left));
    assert!(
        !presence.iter().any(|row| row.contains(&children[4])),
        "the merged duplicate is present nowhere"
    );

    let mut progressed = 0;
    rollup::rebuild(&app.state.db, |n| progressed += n)
        .await
        .unwrap();
    assert!(progressed >= 12 + 6);
    assert_eq!(snapshot(&app, "atlas_counts").await, counts);
    assert_eq!(snapshot(&app, "atlas_presence").await, presence);
    assert_eq!(snapshot(&app, "atlas_totals").await, totals);
}

/// `n` children of Tehran county, the `i`th met once on day `i % 30 + 1` of
/// November 2026; every second one a girl. Written as raw rows and queued,
/// as a bulk import would.
async fn seed_tehran(app: &TestApp, n: usize) -> Vec<String> {
    let admin: String = sqlx::query_scalar("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let now = kudakyar::now_ms();
    let ids: Vec<String> = (0..n).map(|i| format!("bulk-{i:05}")).collect();
    let mut tx = app.state.db.pool().begin().await.unwrap();
    for (i, id) in ids.iter().enumerate() {
        let sex = if i % 2 == 0 { "male" } else { "female" };
        sqlx::query(
            "INSERT INTO children (id, registry_code, status, version, facts, create_digest,
                 home_province, home_county, sex, nationality, birth_year, work_types, created_by,
                 created_at, updated_at)
             VALUES ($1, $2, 'active', 1, '{}', 'seed', 'IR-23', $3, $4, 'afghan', 2014,
                     '|begging|', $5, $6, $6)",
        )
        .bind(id)
        .bind(format!("B{i:010}"))
        .bind(TEHRAN_COUNTY)
        .bind(sex)
        .bind(&admin)
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        let at = kudakyar::rfc3339_to_ms(&format!("2026-11-{:02}T08:00:00Z", i % 30 + 1)).unwrap();
        let (lat, lng) = near(TEHRAN, i % 7);
        sqlx::query(
            "INSERT INTO encounters (id, child_id, worker_id, at, lat, lng, province, county,
                 details, create_digest, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'IR-23', $7, '{}', 'seed', $4)",
        )
        .bind(format!("enc-{id}"))
        .bind(id)
        .bind(&admin)
        .bind(at)
        .bind(lat)
        .bind(lng)
        .bind(TEHRAN_COUNTY)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    // The first child is met again that day in another county of the
    // province: still one child of the province's day.
    sqlx::query(
        "INSERT INTO encounters (id, child_id, worker_id, at, lat, lng, province, county,
             details, create_digest, created_at)
         SELECT 'enc-again', child_id, worker_id, at + 3600000, lat + 0.2, lng, province,
                'Q-ELSEWHERE', details, create_digest, created_at
         FROM encounters WHERE id = 'enc-bulk-00000'",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO atlas_queue (kind, subject_id, queued_at) SELECT 'child', id, 0 FROM children",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    rollup::drain(&app.state.db).await.unwrap();
    ids
}

async fn distinct_children_past_512_are_estimated_and_exact_again_below(db: TestDb) {
    let Some(app) = atlas_app(db).await else {
        return;
    };
    let admin = app.admin_token().await;
    let ids = seed_tehran(&app, 600).await;
    let path = format!("/api/v1/atlas/choropleth?level=province&{RANGE}");
    let month = json_of(get(&app, &admin, &path).await, 200).await;
    // 600 children over the month: a union of days and weeks past 512, so
    // estimated, and said to be.
    let value = feature(&month, "IR-23")["properties"]["value"]
        .as_i64()
        .unwrap();
    assert!(
        (570..=630).contains(&value),
        "600 children estimated as {value}"
    );
    assert_eq!(month["properties"]["distinct_children"], "estimated");
    let error = month["properties"]["distinct_children_error"]
        .as_f64()
        .unwrap();
    assert!((0.015..0.017).contains(&error), "{error}");
    // The sketches read are kept by row and stamp: a second read takes them
    // from memory and answers the same.
    assert!(app.state.db.sketches().bytes() > 0);
    let again = json_of(get(&app, &admin, &path).await, 200).await;
    assert_eq!(feature(&again, "IR-23")["properties"]["value"], value);
    // Every child is Afghan, so the exact presence rows (a filter) must
    // give each cell the same children as its sketches.
    let hexes = format!("/api/v1/atlas/hexes?res=9&{RANGE}");
    let cells_of = async |path: &str| -> Vec<(String, i64)> {
        let body = json_of(get(&app, &admin, path).await, 200).await;
        let cells = body["cells"].as_array().unwrap().iter();
        let values = body["values"].as_array().unwrap().iter();
        cells
            .zip(values)
            .map(|(c, v)| (c.as_str().unwrap().to_string(), v.as_i64().unwrap()))
            .collect()
    };
    let afghan = format!("{hexes}&nationality=afghan");
    let cells = cells_of(&hexes).await;
    assert!(cells.len() >= 5, "{cells:?}");
    assert_eq!(cells, cells_of(&afghan).await);
    // Each day's figure is exact: 20 children a day (the first child's two
    // counties on day 1 are one child of the province).
    let series = json_of(
        get(
            &app,
            &admin,
            &format!("/api/v1/atlas/timeseries?area=IR-23&bucket=day&{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(series["distinct_children"], "exact");
    let values: Vec<i64> = series["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_i64().unwrap())
        .collect();
    assert_eq!(values, vec![20; 30]);
    // A filter reads the exact presence rows: the 300 girls.
    let girls = json_of(get(&app, &admin, &format!("{path}&sex=female")).await, 200).await;
    assert_eq!(feature(&girls, "IR-23")["properties"]["value"], 300);
    assert_eq!(girls["properties"]["distinct_children"], "exact");
    // A hundred children's encounters go (a correction): the sketches are
    // counted again from the presence rows, and 500 is exact again.
    let gone: Vec<&String> = ids.iter().take(100).collect();
    for id in &gone {
        sqlx::query("DELETE FROM encounters WHERE child_id = $1")
            .bind(*id)
            .execute(app.state.db.pool())
            .await
            .unwrap();
        rollup::enqueue(
            &mut app.state.db.pool().acquire().await.unwrap(),
            kudakyar::atlas::subjects::Kind::Child,
            id,
        )
        .await
        .unwrap();
    }
    rollup::drain(&app.state.db).await.unwrap();
    let fewer = json_of(get(&app, &admin, &path).await, 200).await;
    assert_eq!(feature(&fewer, "IR-23")["properties"]["value"], 500);
    assert_eq!(fewer["properties"]["distinct_children"], "exact");
    assert!(fewer["properties"]["distinct_children_error"].is_null());
    // The rows the job wrote have new stamps: the cells' sketches in memory
    // are not used again, and the cells agree with the exact rows.
    let after = cells_of(&hexes).await;
    assert_ne!(after, cells);
    assert_eq!(after, cells_of(&afghan).await);
}

/// The periods a read added up are kept in memory by their checksum
/// (`atlas::piece_cache`): one more encounter at the same place and day
/// changes no row's key and adds no row — only the rows' sums and stamps —
/// and the next map must have it, at every level and for every reader.
async fn a_period_held_in_memory_is_read_again_once_its_rows_change(db: TestDb) {
    let Some(app) = atlas_app(db).await else {
        return;
    };
    let admin = app.admin_token().await;
    let worker = app.token_for("atlas-w23", "outreach_worker", "IR-23").await;
    let staff = app
        .token_for("atlas-p23", "provincial_staff", "IR-23")
        .await;
    let child = new_child(&app, &worker, "IR-23", "male", &["begging"]).await;
    meet(&app, &worker, &child, DAY_A, TEHRAN).await;
    rollup::drain(&app.state.db).await.unwrap();
    let encounters = async |token: &str, level: &str, area: &str| -> i64 {
        let path = format!("/api/v1/atlas/choropleth?level={level}&measure=encounters&{RANGE}");
        let map = json_of(get(&app, token, &path).await, 200).await;
        feature(&map, area)["properties"]["value"].as_i64().unwrap()
    };
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_totals")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(encounters(&admin, "province", "IR-23").await, 1);
    assert_eq!(encounters(&staff, "county", TEHRAN_COUNTY).await, 1);
    assert!(app.state.db.pieces().bytes() > 0, "the periods are kept");
    for expected in [2, 3] {
        meet(&app, &worker, &child, DAY_A, TEHRAN).await;
        rollup::drain(&app.state.db).await.unwrap();
        let now: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_totals")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        assert_eq!(now, rows, "the same rows, rewritten");
        assert_eq!(encounters(&admin, "province", "IR-23").await, expected);
        assert_eq!(encounters(&staff, "county", TEHRAN_COUNTY).await, expected);
    }
}

async fn bad_input_is_named(db: TestDb) {
    let Some(app) = atlas_app(db).await else {
        return;
    };
    let admin = app.admin_token().await;
    let staff = app
        .token_for("atlas-bad-p", "provincial_staff", "IR-23")
        .await;
    for (path, field) in [
        ("/api/v1/atlas/choropleth?measure=people", "measure"),
        ("/api/v1/atlas/choropleth?level=village", "level"),
        ("/api/v1/atlas/choropleth?method=magic", "method"),
        ("/api/v1/atlas/zones?method=magic", "method"),
        (
            "/api/v1/atlas/zones?method=fixed&thresholds=5,1,9",
            "thresholds",
        ),
        (
            "/api/v1/atlas/choropleth?from=2026-11-30&to=2026-11-01",
            "from",
        ),
        (
            "/api/v1/atlas/choropleth?from=2020-01-01&to=2026-11-01",
            "from",
        ),
        ("/api/v1/atlas/choropleth?from=2026-13-01", "from"),
        ("/api/v1/atlas/choropleth?measure=reports&sex=female", "sex"),
        ("/api/v1/atlas/choropleth?source=citizen", "source"),
        (
            "/api/v1/atlas/choropleth?nationality=martian",
            "nationality",
        ),
        ("/api/v1/atlas/choropleth?format=xlsx", "format"),
        ("/api/v1/atlas/choropleth?colour=red", "colour"),
        ("/api/v1/atlas/hexes?res=4&bbox=51,35,52,36", "res"),
        ("/api/v1/atlas/hexes?res=10&bbox=51,35,52,36", "res"),
        ("/api/v1/atlas/hexes?res=7&bbox=51,35,52", "bbox"),
        ("/api/v1/atlas/hexes?res=7&bbox=52,35,51,36", "bbox"),
        ("/api/v1/atlas/hexes?res=7&bbox=10,10,50,40", "bbox"),
        ("/api/v1/atlas/timeseries?area=IR-23&bucket=year", "bucket"),
        ("/api/v1/atlas/timeseries", "area"),
        ("/api/v1/atlas/hotspots?res=3", "res"),
        ("/api/v1/atlas/zones/map", "province"),
        ("/api/v1/atlas/zones/map?province=Tehran", "province"),
        ("/api/v1/atlas/zones/map?province=IR-99", "province"),
        (
            "/api/v1/atlas/zones/map?province=IR-23&format=csv",
            "format",
        ),
        (
            "/api/v1/atlas/zones/map?province=IR-23&level=county",
            "level",
        ),
        (
            "/api/v1/atlas/zones/map?province=IR-23&method=magic",
            "method",
        ),
        ("/api/v1/atlas/zones/map?province=IR-23&per=0", "per"),
    ] {
        let body = problem(get(&app, &admin, path).await, 422).await;
        assert!(body["errors"][field].is_array(), "{path}: {body}");
    }
    // A year far outside the calendar is named, not a crash (found by
    // schemathesis: the year's first day overflowed).
    for year in [2_147_483_646, -2_147_483_647, 1389, 1501] {
        let body = problem(
            app.post(
                &admin,
                "/api/v1/atlas/zones/freeze",
                &json!({"jalali_year": year, "level": "province"}),
            )
            .await,
            422,
        )
        .await;
        assert!(body["errors"]["jalali_year"].is_array(), "{year}: {body}");
    }
    // Outside the scope, or no such area: 404.
    for area in ["IR-09", "IR", "Q0000", "nowhere"] {
        problem(
            get(
                &app,
                &staff,
                &format!("/api/v1/atlas/timeseries?area={area}"),
            )
            .await,
            404,
        )
        .await;
    }
}

async fn hotspots_refuse_too_little_data_and_find_a_planted_cluster(db: TestDb) {
    let Some(app) = atlas_app(db).await else {
        return;
    };
    let db = &app.state.db;
    let admin = app.admin_token().await;
    let mashhad_staff = app
        .token_for("atlas-hs-p", "provincial_staff", "IR-09")
        .await;
    let today = periods::day_of(kudakyar::now_ms());
    // Nothing yet: refused, and the read says why.
    let outcome = hotspots::run(db, 7, today, true).await.unwrap();
    assert!(
        matches!(outcome, hotspots::Outcome::Refused(_)),
        "{outcome:?}"
    );
    let body = problem(get(&app, &admin, "/api/v1/atlas/hotspots").await, 422).await;
    assert!(body["detail"].as_str().unwrap().contains("weeks"), "{body}");
    assert_eq!(body["type"], "/problems/insufficient-data");

    // A cluster planted in the rollups: one Tehran cell and its ring busy
    // and growing over twelve weeks; quiet cells scattered around.
    let centre: h3o::CellIndex = kudakyar::atlas::subjects::cell_of(TEHRAN.0, TEHRAN.1)
        .parse::<h3o::CellIndex>()
        .unwrap()
        .parent(h3o::Resolution::Seven)
        .unwrap();
    let ring: Vec<h3o::CellIndex> = centre.grid_disk(1);
    let background: Vec<h3o::CellIndex> = centre
        .grid_disk::<Vec<_>>(6)
        .into_iter()
        .filter(|c| !ring.contains(c))
        .collect();
    let last_week = periods::Bucket::JWeek.start(today) - 7;
    // The run reads the weekly totals.
    let plant = |cell: h3o::CellIndex, day: i64, n: i64| {
        sqlx::query(
            "INSERT INTO atlas_totals (level, grain, start, province, area, county, encounters,
                 reports, children_reported, incidents, children, sketch)
             VALUES ('h7', 'w', $1, 'IR-23', $2, '', $3, 0, 0, 0, NULL, $4)",
        )
        .bind(periods::Bucket::JWeek.start(day))
        .bind(cell.to_string())
        .bind(n)
        .bind(kudakyar::atlas::sketch::Sketch::default().to_bytes())
        .execute(db.pool())
    };
    for week in 0..12i64 {
        let day = last_week - 7 * (11 - week);
        for (i, cell) in ring.iter().enumerate() {
            let n = if *cell == centre {
                5 + 2 * week
            } else {
                2 + week / 2
            } + i as i64 % 2;
            plant(*cell, day, n).await.unwrap();
        }
        for (i, cell) in background.iter().enumerate() {
            if (i as i64 + week) % 9 == 0 {
                plant(*cell, day + 1, 1).await.unwrap();
            }
        }
    }
    let outcome = hotspots::run(db, 7, today, true).await.unwrap();
    let hotspots::Outcome::Done { weeks, events, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(weeks, 12);
    assert!(events >= 60);
    let read = json_of(get(&app, &admin, "/api/v1/atlas/hotspots").await, 200).await;
    let cells = read["cells"].as_array().unwrap();
    let found = cells
        .iter()
        .find(|c| c["cell"] == centre.to_string())
        .unwrap();
    assert!(
        found["pattern"].as_str().unwrap().starts_with("hot_"),
        "{found}"
    );
    assert!(found["z"].as_f64().unwrap() > 1.96, "{found}");
    let far = background
        .iter()
        .find(|c| centre.grid_distance(**c).ok() == Some(6))
        .unwrap()
        .to_string();
    assert!(
        cells
            .iter()
            .filter(|c| c["cell"] == far)
            .all(|c| !c["pattern"].as_str().unwrap().starts_with("hot_")),
        "a quiet cell is no hot spot"
    );
    // Scoped: Razavi Khorasan's staff see none of Tehran's cells.
    let theirs = json_of(
        get(&app, &mashhad_staff, "/api/v1/atlas/hotspots").await,
        200,
    )
    .await;
    assert_eq!(theirs["cells"], json!([]));
    // The nightly run of the same day does not run again.
    assert_eq!(
        hotspots::run(db, 7, today, false).await.unwrap(),
        hotspots::Outcome::Skipped
    );
}

/// The nightly hot-spot run waits for `rollup::caught_up`: changes queued
/// before it woke must be applied first; changes queued after do not hold it.
async fn the_nightly_run_waits_for_changes_queued_before_it(db: TestDb) {
    let db = &db.db; // no server: no job drains the queue behind the test's back
    let before = kudakyar::now_ms() - 1;
    let mut tx = db.pool().begin().await.unwrap();
    rollup::enqueue(
        &mut tx,
        kudakyar::atlas::subjects::Kind::Child,
        "no-such-child",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let after = kudakyar::now_ms() + 1;
    assert!(
        !rollup::caught_up(db, after).await.unwrap(),
        "a change queued before is pending"
    );
    assert!(
        rollup::caught_up(db, before).await.unwrap(),
        "a change queued later does not count"
    );
    assert_eq!(rollup::drain(db).await.unwrap(), 1);
    assert!(rollup::caught_up(db, after).await.unwrap());
}

/// `GET /api/v1/atlas/zones/map`: Tehran's counties, classed as the zones
/// API classes them, drawn as an SVG download (always suppressed: a county
/// of two children is hatched); scope and ETags as for every atlas read.
/// And a team confined to one county: its choropleth defaults to counties,
/// and asking for provinces is named.
async fn a_province_prints_as_a_map_and_a_county_team_sees_its_county(db: TestDb) {
    let Some(app) = atlas_app(db).await else {
        return;
    };
    let admin = app.admin_token().await;
    let worker = app.token_for("map-w23", "outreach_worker", "IR-23").await;
    let staff = app.token_for("map-p23", "provincial_staff", "IR-23").await;
    // Seven children in Tehran county, two in Varamin county.
    for i in 0..7 {
        let c = new_child(&app, &worker, "IR-23", "male", &["begging"]).await;
        meet(&app, &worker, &c, DAY_A, near(TEHRAN, i)).await;
    }
    const VARAMIN: (f64, f64) = (35.3242, 51.6457);
    for i in 0..2 {
        let c = new_child(&app, &worker, "IR-23", "female", &["begging"]).await;
        meet(&app, &worker, &c, DAY_A, near(VARAMIN, i)).await;
    }
    rollup::drain(&app.state.db).await.unwrap();
    let other: String = sqlx::query_scalar(
        "SELECT DISTINCT county FROM encounters WHERE county <> $1 AND province = 'IR-23'",
    )
    .bind(TEHRAN_COUNTY)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();

    let path = format!("/api/v1/atlas/zones/map?{RANGE}");
    let response = get(&app, &staff, &path).await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "image/svg+xml");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"atlas-IR-23.svg\""
    );
    let etag = header("etag");
    let document = response.text().await.unwrap();
    assert!(document.starts_with("<?xml") || document.starts_with("<svg"));
    let path_of = |code: &str| {
        let at = document
            .find(&format!("data-code=\"{code}\""))
            .unwrap_or_else(|| panic!("{code} drawn"));
        document[at..at + 120].to_string()
    };
    assert!(
        !path_of(TEHRAN_COUNTY).contains("class=\"suppressed\""),
        "{}",
        path_of(TEHRAN_COUNTY)
    );
    assert!(
        path_of(&other).contains("class=\"suppressed\""),
        "two children are hatched: {}",
        path_of(&other)
    );
    let drawn = document.matches("<path data-code=").count();
    let counties: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM boundaries WHERE level = 'county' AND province = 'IR-23'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(drawn as i64, counties, "every county of Tehran, no other");
    // One county classed: one class in the legend, not four empty ones.
    assert!(
        document.contains("<rect class=\"low\""),
        "the legend's class"
    );
    for empty in ["medium", "high", "critical"] {
        assert!(
            !document.contains(&format!("<rect class=\"{empty}\"")),
            "{empty}"
        );
    }
    assert!(document.contains("استان تهران"), "the Persian title");
    assert!(document.contains("۱۴۰۵/۰۸/۱۰"), "the range in Jalali");
    assert!(document.contains("© OpenStreetMap contributors"));
    let again = app
        .client
        .get(app.url(&path))
        .bearer_auth(&staff)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // Another province: not found for Tehran's staff, drawn for the admin.
    let mashhad = format!("/api/v1/atlas/zones/map?province=IR-09&{RANGE}");
    problem(get(&app, &staff, &mashhad).await, 404).await;
    assert_eq!(get(&app, &admin, &mashhad).await.status(), 200);

    // A county team: counties by default, its own only; provinces named.
    let (_, password) = app
        .add_user(
            "map-s-county",
            "supervisor",
            Some("IR-23"),
            Some(TEHRAN_COUNTY),
        )
        .await;
    let county_team = app.login("map-s-county", &password).await;
    let theirs = json_of(
        get(
            &app,
            &county_team,
            &format!("/api/v1/atlas/choropleth?{RANGE}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(theirs["properties"]["level"], "county");
    assert_eq!(codes(&theirs), [TEHRAN_COUNTY]);
    assert_eq!(feature(&theirs, TEHRAN_COUNTY)["properties"]["value"], 7);
    for asked in [
        format!("/api/v1/atlas/choropleth?level=province&{RANGE}"),
        format!("/api/v1/atlas/zones?level=province&{RANGE}"),
    ] {
        let body = problem(get(&app, &county_team, &asked).await, 422).await;
        assert!(body["errors"]["level"].is_array(), "{asked}: {body}");
    }
}

/// The atlas's background job gives way to a burst of writes (intake under a
/// flood of reports): what is queued meanwhile waits, and is applied once
/// the burst is over.
async fn the_rollup_job_waits_while_writes_are_busy_and_catches_up_after(db: TestDb) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let app = TestApp::start(db).await;
    let db = app.state.db.clone();
    let queued = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM atlas_queue")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap()
    };
    // A burst: write transactions back to back, far above the job's line
    // of 20 a second.
    let bursting = Arc::new(AtomicBool::new(true));
    let burst = tokio::spawn({
        let bursting = bursting.clone();
        async move {
            while bursting.load(Ordering::Relaxed) {
                db.begin_write().await.unwrap().commit().await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    tokio::time::sleep(rollup::FLUSH_INTERVAL + Duration::from_millis(500)).await;
    let sent = app
        .client
        .post(app.url("/api/v1/sightings"))
        .json(&json!({
            "id": uuid::Uuid::now_v7().to_string(), "lat": TEHRAN.0, "lng": TEHRAN.1,
            "children_count": 1, "age_bands": ["6-11"], "activity": "street_vending",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    tokio::time::sleep(rollup::FLUSH_INTERVAL + Duration::from_millis(500)).await;
    assert!(
        queued().await > 0,
        "the report waits in the queue while writes are busy"
    );
    bursting.store(false, Ordering::Relaxed);
    burst.await.unwrap();
    // Quiet again: the next round applies it.
    let mut left = queued().await;
    for _ in 0..40 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        left = queued().await;
    }
    assert_eq!(left, 0, "the queue is applied once the burst is over");
}
