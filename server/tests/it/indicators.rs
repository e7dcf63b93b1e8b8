//! Programme monitoring over HTTP and storage, on SQLite and PostgreSQL:
//! each encounter's verification level (and each bad input of it), the
//! materialised indicators against a direct recomputation on a random
//! workload, one run per day across instances, the API's scope,
//! suppression and bad queries, the supervisors' per-worker view, re-entry
//! found by iris, registration cohorts and the quarterly report (and its
//! download, scoped, each bad parameter named); and issue
//! 19's "done means" on the demo data (`kudakyar demo seed`, smaller): a
//! supervisor's per-worker caseload and verified share, a province's cohort
//! table and re-entry rate for it only. (A child reunified and found by iris
//! in the street three months later is a re-entry:
//! [`a_reunified_child_identified_by_iris_later_is_a_reentry`].)

use std::collections::BTreeMap;

use kudakyar::indicators::{job, period, report};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::common::{TestApp, TestDb, json_of, problem};
use crate::iris::eye;

on_both_backends!(
    encounters_get_a_verification_level,
    verification_bad_input_names_the_field,
    materialised_figures_equal_a_direct_recomputation,
    the_api_is_scoped_and_suppresses_small_counts,
    bad_queries_name_the_field,
    supervisors_see_their_workers_caseload_verified_share_and_overdue_follow_ups,
    a_reunified_child_identified_by_iris_later_is_a_reentry,
    cohorts_show_outcomes_by_registration_quarter,
    the_quarterly_report_is_self_contained,
    the_quarterly_report_downloads_within_scope,
    a_report_asked_for_by_many_at_once_computes_its_day_once_for_each,
    on_the_demo_data_each_role_sees_the_programme,
);

const DAY_MS: i64 = 86_400_000;

/// The app without its nightly job, so each test decides what is run.
async fn app(db: TestDb) -> TestApp {
    TestApp::start_with(db, |c| c.indicators_job = false).await
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn iso(ms: i64) -> String {
    kudakyar::ms_to_rfc3339(ms)
}

fn child_body(id: &str, province: &str, worker: Option<&str>) -> Value {
    json!({
        "id": id, "sex": "male", "nationality": "afghan", "home_province": province,
        "birth": {"precision": "estimated", "estimated_age": 11},
        "assigned_worker": worker,
    })
}

async fn new_child(app: &TestApp, token: &str, province: &str, worker: Option<&str>) -> String {
    let id = uuid();
    json_of(
        app.post(
            token,
            "/api/v1/children",
            &child_body(&id, province, worker),
        )
        .await,
        201,
    )
    .await;
    id
}

async fn encounter(app: &TestApp, token: &str, child: &str, body: Value) -> reqwest::Response {
    app.post(
        token,
        &format!("/api/v1/children/{child}/encounters"),
        &body,
    )
    .await
}

/// A GPS fix of `accuracy` metres, `ago` ms before now.
fn visit(ago: i64, accuracy: Option<f64>) -> Value {
    json!({"at": iso(kudakyar::now_ms() - ago), "lat": 38.07, "lng": 46.29, "accuracy_m": accuracy})
}

/// [`visit`] as the outbox sends it: queued when it was recorded.
fn queued(ago: i64, accuracy: Option<f64>) -> Value {
    let mut body = visit(ago, accuracy);
    body["queued_at"] = body["at"].clone();
    body
}

async fn set_status(app: &TestApp, token: &str, child: &str, status: &str) {
    let c = json_of(
        app.get(token, &format!("/api/v1/children/{child}")).await,
        200,
    )
    .await;
    json_of(
        app.patch(
            token,
            &format!("/api/v1/children/{child}"),
            &json!({"base_version": c["version"], "changes": {"status": status}, "reason": "پایش"}),
        )
        .await,
        200,
    )
    .await;
}

/// Identifies by iris as `token`: the identification's id.
async fn identify(app: &TestApp, token: &str, probe: &[u8]) -> Value {
    json_of(
        app.post_form(token, "/api/v1/iris/identify", &[("right", "r.png", probe)])
            .await,
        200,
    )
    .await
}

/// Registers a child with its right eye (identity `eye_id`): its id.
async fn register_with_eye(app: &TestApp, token: &str, province: &str, eye_id: u64) -> String {
    let id = uuid();
    let record = child_body(&id, province, None).to_string();
    json_of(
        app.post_form(
            token,
            "/api/v1/registrations",
            &[
                ("child", "", record.as_bytes()),
                ("right", "r.png", &eye(eye_id, 0)),
            ],
        )
        .await,
        201,
    )
    .await;
    id
}

fn today() -> time::Date {
    period::today()
}

async fn materialise(app: &TestApp) {
    job::rebuild(&app.state.db, today(), today(), |_| {})
        .await
        .unwrap();
}

/// The figures of an indicator for an area today, as `token` reads them.
async fn figures(
    app: &TestApp,
    token: &str,
    indicator: &str,
    area: &str,
) -> BTreeMap<String, Value> {
    let d = period::day_string(today());
    let s = json_of(
        app.get(
            token,
            &format!("/api/v1/indicators?indicator={indicator}&area={area}&from={d}&to={d}"),
        )
        .await,
        200,
    )
    .await;
    s["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["figure"].as_str().unwrap().to_string(),
                i["value"].clone(),
            )
        })
        .collect()
}

async fn encounters_get_a_verification_level(db: TestDb) {
    let app = app(db).await;
    let w = crate::common::worker(&app, "worker1", "IR-23").await;
    let child = new_child(&app, &w, "IR-23", None).await;
    let level = |r: Value| r["verification"].as_str().unwrap().to_string();

    let fix = json_of(
        encounter(&app, &w, &child, visit(60_000, Some(10.0))).await,
        201,
    )
    .await;
    assert_eq!(level(fix), "location_verified");
    let poor = json_of(
        encounter(&app, &w, &child, visit(60_000, Some(300.0))).await,
        201,
    )
    .await;
    assert_eq!(level(poor), "unverified", "a poor fix");
    let mut typed = visit(60_000, Some(10.0));
    typed["position_source"] = json!("typed");
    assert_eq!(
        level(json_of(encounter(&app, &w, &child, typed).await, 201).await),
        "unverified"
    );
    // Recorded offline three hours ago, sent now.
    let mut late = visit(3 * 3_600_000, Some(10.0));
    let id = uuid();
    late["id"] = json!(id);
    assert_eq!(
        level(json_of(encounter(&app, &w, &child, late.clone()).await, 201).await),
        "unverified",
        "an old time with nothing to vouch for it"
    );
    late["id"] = json!(uuid());
    late["queued_at"] = late["at"].clone();
    let queued = json_of(encounter(&app, &w, &child, late.clone()).await, 201).await;
    assert_eq!(
        level(queued.clone()),
        "location_verified",
        "the outbox's timestamp"
    );
    let retry = json_of(encounter(&app, &w, &child, late).await, 200).await;
    assert_eq!(retry, queued, "a retry answers like the first");

    // Iris: the child registered with an eye, identified again in the street.
    let known = register_with_eye(&app, &w, "IR-23", 11).await;
    let found = identify(&app, &w, &eye(11, 3)).await;
    assert_eq!(found["candidates"][0]["child_id"], known.as_str());
    let mut seen = visit(60_000, None);
    seen["iris_identification"] = found["identification_id"].clone();
    let verified = json_of(encounter(&app, &w, &known, seen).await, 201).await;
    assert_eq!(level(verified), "iris_verified");
    let listed = json_of(
        app.get(&w, &format!("/api/v1/children/{known}/encounters"))
            .await,
        200,
    )
    .await;
    assert_eq!(listed[0]["verification"], "iris_verified");
    assert_eq!(listed[0]["iris_identification"], found["identification_id"]);
}

async fn verification_bad_input_names_the_field(db: TestDb) {
    let app = app(db).await;
    let w = crate::common::worker(&app, "worker1", "IR-23").await;
    let other = crate::common::worker(&app, "worker2", "IR-23").await;
    let known = register_with_eye(&app, &w, "IR-23", 12).await;
    let stranger = new_child(&app, &w, "IR-23", None).await;
    let found = identify(&app, &w, &eye(12, 3)).await;
    let identification = found["identification_id"].as_str().unwrap().to_string();
    let with = |field: &str, value: Value| {
        let mut body = visit(60_000, Some(10.0));
        body[field] = value;
        body
    };
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            w.as_str(),
            known.as_str(),
            with("queued_at", json!("yesterday")),
            "queued_at",
        ),
        (
            &w,
            &known,
            with("position_source", json!("satellite")),
            "position_source",
        ),
        (
            &w,
            &known,
            with("iris_identification", json!("not-a-uuid")),
            "iris_identification",
        ),
        (
            &w,
            &known,
            with("iris_identification", json!(uuid())),
            "iris_identification",
        ),
        // Another worker's identification, and one of another child.
        (
            &other,
            &known,
            with("iris_identification", json!(identification)),
            "iris_identification",
        ),
        (
            &w,
            &stranger,
            with("iris_identification", json!(identification)),
            "iris_identification",
        ),
    ];
    for (token, child, body, field) in cases {
        let p = problem(encounter(&app, token, child, body.clone()).await, 422).await;
        assert!(p["errors"][field].is_array(), "{field}: {body} → {p}");
    }
    // Too old: an hour before the encounter, with a 30-minute window.
    sqlx::query("UPDATE iris_identifications SET at = at - 3600000 WHERE id = $1")
        .bind(&identification)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let p = problem(
        encounter(
            &app,
            &w,
            &known,
            with("iris_identification", json!(identification)),
        )
        .await,
        422,
    )
    .await;
    assert!(
        p["errors"]["iris_identification"][0]
            .as_str()
            .unwrap()
            .contains("older"),
        "{p}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM encounters")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing refused was stored");
}

/// What the test itself counts from what it wrote.
#[derive(Default)]
struct Expected {
    open: BTreeMap<String, i64>,
    registrations: BTreeMap<String, i64>,
    /// (province, level) → encounters in the 30 days.
    levels: BTreeMap<(String, String), i64>,
    /// (province, service) → times given in the 30 days.
    services: BTreeMap<(String, String), i64>,
    /// worker id → (visits, verified) in the 30 days.
    workers: BTreeMap<String, (i64, i64)>,
    /// worker id → open assigned cases.
    assigned: BTreeMap<String, i64>,
}

async fn materialised_figures_equal_a_direct_recomputation(db: TestDb) {
    let app = app(db).await;
    let mut rng = StdRng::seed_from_u64(19);
    let mut expected = Expected::default();
    let mut workers = Vec::new();
    for (k, province) in ["IR-23", "IR-23", "IR-07", "IR-07"].iter().enumerate() {
        let (id, token) = app
            .user_with_token(&format!("worker{k}"), "outreach_worker", province)
            .await;
        workers.push((id, token, province.to_string()));
    }
    let services = ["food", "clothing", "counselling", "legal_aid"];
    for _ in 0..40 {
        let (worker_id, token, province) = &workers[rng.gen_range(0..workers.len())];
        let assigned = rng.gen_bool(0.7).then_some(worker_id.as_str());
        let child = new_child(&app, token, province, assigned).await;
        *expected.registrations.entry(province.clone()).or_default() += 1;
        let status = ["active", "active", "reunified", "closed"][rng.gen_range(0..4)];
        if status != "active" {
            set_status(&app, token, &child, status).await;
        } else {
            *expected.open.entry(province.clone()).or_default() += 1;
            if let Some(w) = assigned {
                *expected.assigned.entry(w.to_string()).or_default() += 1;
            }
        }
        for _ in 0..rng.gen_range(0..4) {
            // Inside the 30-day window, or well outside it.
            let days = if rng.gen_bool(0.8) {
                rng.gen_range(1..20)
            } else {
                rng.gen_range(45..60)
            };
            let accuracy = [Some(8.0), Some(500.0), None][rng.gen_range(0..3)];
            let mut body = visit(days * DAY_MS, accuracy);
            // Some sent from the outbox, some from a phone whose clock was right.
            if rng.gen_bool(0.5) {
                body["queued_at"] = body["at"].clone();
            }
            let given: Vec<&str> = services
                .iter()
                .copied()
                .filter(|_| rng.gen_bool(0.4))
                .collect();
            body["services"] = json!(given);
            let stored = json_of(encounter(&app, token, &child, body).await, 201).await;
            if days < 30 {
                let level = stored["verification"].as_str().unwrap().to_string();
                *expected
                    .levels
                    .entry((province.clone(), level.clone()))
                    .or_default() += 1;
                for s in given {
                    *expected
                        .services
                        .entry((province.clone(), s.to_string()))
                        .or_default() += 1;
                }
                let w = expected.workers.entry(worker_id.clone()).or_default();
                w.0 += 1;
                w.1 += i64::from(level != "unverified");
            }
        }
    }

    // One run per day, however many instances try at once.
    let db = app.state.db.clone();
    let day = today();
    let runs = futures::future::join_all((0..3).map(|k| {
        let db = db.clone();
        async move {
            job::run_day(&db, day, &format!("instance{k}"))
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(runs.iter().filter(|r| **r).count(), 1, "{runs:?}");
    assert!(
        !job::run_day(&db, day, "later").await.unwrap(),
        "a restart does not run it again"
    );

    let admin = app.admin_token().await;
    for province in ["IR-23", "IR-07"] {
        let caseload = figures(&app, &admin, "caseload", province).await;
        assert_eq!(
            caseload["open_cases"],
            json!(expected.open[province] as f64),
            "{province}"
        );
        let identity = figures(&app, &admin, "identity", province).await;
        assert_eq!(
            identity["registrations"],
            json!(expected.registrations[province] as f64)
        );
        let levels = figures(&app, &admin, "verification", province).await;
        for level in ["iris_verified", "location_verified", "unverified"] {
            let want = expected
                .levels
                .get(&(province.into(), level.into()))
                .copied()
                .unwrap_or(0);
            assert_eq!(levels[level], json!(want as f64), "{province} {level}");
        }
        let given = figures(&app, &admin, "services", province).await;
        for s in services {
            let want = expected
                .services
                .get(&(province.into(), s.into()))
                .copied()
                .unwrap_or(0);
            assert_eq!(given[s], json!(want as f64), "{province} {s}");
        }
    }
    let national = figures(&app, &admin, "caseload", "IR").await;
    assert_eq!(
        national["open_cases"],
        json!(expected.open.values().sum::<i64>() as f64)
    );
    let table = json_of(app.get(&admin, "/api/v1/indicators/workers").await, 200).await;
    for row in table["items"].as_array().unwrap() {
        let id = row["worker_id"].as_str().unwrap();
        let (visits, verified) = expected.workers.get(id).copied().unwrap_or((0, 0));
        assert_eq!(row["visits"], visits, "{id}");
        assert_eq!(row["verified_visits"], verified, "{id}");
        assert_eq!(
            row["open_cases"],
            json!(expected.assigned.get(id).copied().unwrap_or(0) as f64)
        );
    }
    assert_eq!(table["items"].as_array().unwrap().len(), 4);

    // A rebuild of the same day stores the same figures.
    let snapshot = || async {
        let rows: Vec<(String, String, String, f64)> = sqlx::query_as(
            "SELECT indicator, area, figure, value FROM indicator_values ORDER BY 1, 2, 3",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        rows
    };
    let before = snapshot().await;
    assert!(before.len() > 100, "{}", before.len());
    job::rebuild(&db, day, day, |_| {}).await.unwrap();
    assert_eq!(snapshot().await, before);
}

async fn the_api_is_scoped_and_suppresses_small_counts(db: TestDb) {
    let app = app(db).await;
    let w = crate::common::worker(&app, "worker1", "IR-23").await;
    let tehran = crate::common::worker(&app, "worker2", "IR-07").await;
    for _ in 0..3 {
        new_child(&app, &w, "IR-23", None).await;
    }
    for _ in 0..6 {
        new_child(&app, &tehran, "IR-07", None).await;
    }
    materialise(&app).await;
    let staff = app.token_for("staff23", "provincial_staff", "IR-23").await;
    let admin = app.admin_token().await;
    let mine = figures(&app, &staff, "caseload", "IR-23").await;
    assert_eq!(
        mine["open_cases"], "suppressed",
        "3 children, below national_admin"
    );
    assert_eq!(
        figures(&app, &admin, "caseload", "IR-23").await["open_cases"],
        json!(3.0)
    );
    assert_eq!(
        figures(&app, &admin, "caseload", "IR-07").await["open_cases"],
        json!(6.0)
    );
    // Staff figures count no child: never suppressed.
    assert_eq!(mine["workers"], json!(1.0));
    for area in ["IR-07", "IR", "IR-07/0701"] {
        problem(
            app.get(
                &staff,
                &format!("/api/v1/indicators?indicator=caseload&area={area}"),
            )
            .await,
            404,
        )
        .await;
    }
    // Their own province by default; the country's provinces for an admin.
    let own = json_of(
        app.get(&staff, "/api/v1/indicators?indicator=caseload")
            .await,
        200,
    )
    .await;
    assert_eq!(own["area"], "IR-23");
    let by_province = json_of(
        app.get(
            &admin,
            "/api/v1/indicators?indicator=caseload&area=IR&breakdown=province",
        )
        .await,
        200,
    )
    .await;
    let areas: std::collections::BTreeSet<&str> = by_province["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["area"].as_str().unwrap())
        .collect();
    assert_eq!(areas, ["IR-07", "IR-23"].into_iter().collect());
    // CSV with a byte-order mark, the marker in place of small counts.
    let csv = app
        .get(&staff, "/api/v1/indicators?indicator=caseload&format=csv")
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{FEFF}'));
    assert!(text.contains(",IR-23,open_cases,suppressed\r\n"), "{text}");
    let defs = json_of(app.get(&staff, "/api/v1/indicators/definitions").await, 200).await;
    assert!(
        defs.as_array()
            .unwrap()
            .iter()
            .any(|d| d["indicator"] == "reentry"
                && d["formula"].as_str().unwrap().contains("closed"))
    );
}

async fn bad_queries_name_the_field(db: TestDb) {
    let app = app(db).await;
    let staff = app.token_for("staff23", "provincial_staff", "IR-23").await;
    let cases = [
        ("/api/v1/indicators", "indicator"),
        ("/api/v1/indicators?indicator=happiness", "indicator"),
        (
            "/api/v1/indicators?indicator=caseload&breakdown=street",
            "breakdown",
        ),
        (
            "/api/v1/indicators?indicator=caseload&breakdown=province",
            "breakdown",
        ),
        (
            "/api/v1/indicators?indicator=caseload&from=2026-06-01&to=2026-05-01",
            "to",
        ),
        (
            "/api/v1/indicators?indicator=caseload&from=2019-01-01&to=2026-05-01",
            "from",
        ),
        (
            "/api/v1/indicators?indicator=caseload&from=2026-02-30&to=2026-05-01",
            "from",
        ),
        (
            "/api/v1/indicators?indicator=caseload&quarter=1405-Q5",
            "quarter",
        ),
        (
            "/api/v1/indicators?indicator=caseload&quarter=1405-Q2&from=2026-06-01",
            "quarter",
        ),
        ("/api/v1/indicators?indicator=caseload&area=Tabriz", "area"),
        (
            "/api/v1/indicators?indicator=caseload&format=xlsx",
            "format",
        ),
        ("/api/v1/indicators?indicator=caseload&colour=red", "colour"),
        ("/api/v1/indicators/cohorts?quarter=1405-Q5", "quarter"),
        ("/api/v1/indicators/cohorts?quarter=1405-2", "quarter"),
        ("/api/v1/indicators/cohorts?breakdown=height", "breakdown"),
        ("/api/v1/indicators/cohorts?area=IR-23/2301", "area"),
        ("/api/v1/indicators/workers?day=yesterday", "day"),
    ];
    for (path, field) in cases {
        let p = problem(app.get(&staff, path).await, 422).await;
        assert!(p["errors"][field].is_array(), "{path}: {p}");
    }
    for path in [
        "/api/v1/indicators?indicator=caseload&area=IR-07",
        "/api/v1/indicators/cohorts?area=IR-07",
        "/api/v1/indicators/workers?area=IR-07",
    ] {
        problem(app.get(&staff, path).await, 404).await;
    }
}

async fn supervisors_see_their_workers_caseload_verified_share_and_overdue_follow_ups(db: TestDb) {
    let app = app(db).await;
    let (a_id, a) = app
        .user_with_token("worker_a", "outreach_worker", "IR-23")
        .await;
    let (b_id, b) = app
        .user_with_token("worker_b", "outreach_worker", "IR-23")
        .await;
    let (c_id, _) = app
        .user_with_token("worker_c", "outreach_worker", "IR-07")
        .await;
    // Five of worker a's six children are past the follow-up date the
    // visit set (yesterday); the sixth is due next week.
    for n in 0..6 {
        let child = new_child(&app, &a, "IR-23", Some(&a_id)).await;
        let mut body = queued(DAY_MS, Some(10.0));
        let due = today() + time::Duration::days(if n < 5 { -1 } else { 7 });
        body["next_follow_up"] = json!(period::day_string(due));
        json_of(encounter(&app, &a, &child, body).await, 201).await;
    }
    let child = new_child(&app, &b, "IR-23", Some(&b_id)).await;
    json_of(encounter(&app, &b, &child, queued(DAY_MS, None)).await, 201).await;
    json_of(
        encounter(&app, &b, &child, queued(2 * DAY_MS, Some(10.0))).await,
        201,
    )
    .await;
    materialise(&app).await;
    let boss = app.token_for("boss23", "supervisor", "IR-23").await;
    let table = json_of(app.get(&boss, "/api/v1/indicators/workers").await, 200).await;
    let rows: BTreeMap<&str, &Value> = table["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["worker_id"].as_str().unwrap(), r))
        .collect();
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>().len(),
        2,
        "{table:#}"
    );
    assert!(
        !rows.contains_key(c_id.as_str()),
        "another province's worker"
    );
    assert_eq!(rows[a_id.as_str()]["open_cases"], json!(6.0));
    assert_eq!(rows[a_id.as_str()]["caseload_bucket"], "0-9");
    assert_eq!(rows[a_id.as_str()]["verified_share"], json!(1.0));
    assert_eq!(rows[a_id.as_str()]["overdue_follow_ups"], json!(5.0));
    assert_eq!(rows[b_id.as_str()]["open_cases"], "suppressed", "one child");
    assert_eq!(
        rows[b_id.as_str()]["overdue_follow_ups"],
        "suppressed",
        "under 5, as every count below national admins"
    );
    assert_eq!(rows[b_id.as_str()]["verified_share"], json!(0.5));
    // A worker sees themself only.
    let own = json_of(app.get(&b, "/api/v1/indicators/workers").await, 200).await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    assert_eq!(own["items"][0]["worker_id"], b_id.as_str());
    // Provincial staff of another province see none of them.
    let far = app.token_for("staff07", "provincial_staff", "IR-07").await;
    let theirs = json_of(app.get(&far, "/api/v1/indicators/workers").await, 200).await;
    let ids: Vec<&str> = theirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["worker_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [c_id.as_str()]);
    let csv = app
        .get(&boss, "/api/v1/indicators/workers?format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with('\u{FEFF}') && csv.contains("worker_a"),
        "{csv}"
    );
}

async fn a_reunified_child_identified_by_iris_later_is_a_reentry(db: TestDb) {
    let app = app(db).await;
    let w = crate::common::worker(&app, "worker1", "IR-23").await;
    let child = register_with_eye(&app, &w, "IR-23", 21).await;
    let other = new_child(&app, &w, "IR-23", None).await;
    set_status(&app, &w, &child, "reunified").await;
    set_status(&app, &w, &other, "closed").await;
    // Reunified three months ago…
    sqlx::query(
        "UPDATE child_versions SET changed_at = changed_at - $1 WHERE status IN ('reunified', 'closed')",
    )
    .bind(90 * DAY_MS)
    .execute(app.state.db.pool())
    .await
    .unwrap();
    // …and met in the street today, under no name: found by iris.
    let found = identify(&app, &w, &eye(21, 5)).await;
    assert_eq!(found["candidates"][0]["child_id"], child.as_str());
    materialise(&app).await;
    let admin = app.admin_token().await;
    let r = figures(&app, &admin, "reentry", "IR-23").await;
    assert_eq!(r["closed"], json!(2.0));
    assert_eq!(r["reentered_6m"], json!(1.0));
    assert_eq!(r["reentered_6m_iris"], json!(1.0));
    assert_eq!(r["reentered_12m"], json!(1.0));
    assert_eq!(r["rate_6m"], json!(0.5));
    let staff = app.token_for("staff23", "provincial_staff", "IR-23").await;
    assert_eq!(
        figures(&app, &staff, "reentry", "IR-23").await["reentered_6m"],
        "suppressed"
    );
}

async fn cohorts_show_outcomes_by_registration_quarter(db: TestDb) {
    let app = app(db).await;
    let w = crate::common::worker(&app, "worker1", "IR-23").await;
    let mut children = Vec::new();
    for _ in 0..6 {
        children.push(new_child(&app, &w, "IR-23", None).await);
    }
    for c in &children[..2] {
        set_status(&app, &w, c, "reunified").await;
    }
    // Registered 200 days ago; the two reunified 50 days after registration.
    let pool = app.state.db.pool();
    sqlx::query("UPDATE children SET created_at = created_at - $1")
        .bind(200 * DAY_MS)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE child_versions SET changed_at = changed_at - $1 WHERE version = 1")
        .bind(200 * DAY_MS)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE child_versions SET changed_at = changed_at - $1 WHERE version > 1")
        .bind(150 * DAY_MS)
        .execute(pool)
        .await
        .unwrap();
    materialise(&app).await;
    let quarter = period::Quarter::of_ms(kudakyar::now_ms() - 200 * DAY_MS).to_string();
    let admin = app.admin_token().await;
    let t = json_of(
        app.get(
            &admin,
            &format!("/api/v1/indicators/cohorts?quarter={quarter}&area=IR-23"),
        )
        .await,
        200,
    )
    .await;
    let cell = |months: i64, outcome: &str| {
        t["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["months"] == months && c["outcome"] == outcome)
            .map(|c| (c["children"].clone(), c["share"].clone()))
    };
    assert_eq!(
        cell(3, "active"),
        Some((json!(4.0), json!(4.0 / 6.0))),
        "{t:#}"
    );
    assert_eq!(cell(3, "reunified"), Some((json!(2.0), json!(2.0 / 6.0))));
    assert_eq!(cell(6, "reunified"), Some((json!(2.0), json!(2.0 / 6.0))));
    assert_eq!(cell(12, "active"), None, "12 months have not passed");
    let staff = app.token_for("staff23", "provincial_staff", "IR-23").await;
    let seen = json_of(
        app.get(
            &staff,
            &format!("/api/v1/indicators/cohorts?quarter={quarter}&breakdown=sex"),
        )
        .await,
        200,
    )
    .await;
    let reunified = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["months"] == 3 && c["outcome"] == "reunified")
        .unwrap();
    assert_eq!(reunified["children"], "suppressed");
    assert_eq!(
        reunified["share"],
        Value::Null,
        "a share would give the count away"
    );
    assert_eq!(reunified["group"], "male");
}

async fn the_quarterly_report_is_self_contained(db: TestDb) {
    let app = app(db).await;
    let w = crate::common::worker(&app, "worker1", "IR-23").await;
    for _ in 0..7 {
        let c = new_child(&app, &w, "IR-23", None).await;
        json_of(
            encounter(&app, &w, &c, visit(DAY_MS, Some(10.0))).await,
            201,
        )
        .await;
    }
    // Registered in the last quarter, so that it is the report's.
    let pool = app.state.db.pool();
    for table in [
        "children SET created_at = created_at",
        "child_versions SET changed_at = changed_at",
    ] {
        sqlx::query(&format!("UPDATE {table} - $1"))
            .bind(95 * DAY_MS)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE encounters SET at = at - $1")
        .bind(95 * DAY_MS)
        .execute(pool)
        .await
        .unwrap();
    let quarter = period::Quarter::of_ms(kudakyar::now_ms() - 95 * DAY_MS);
    // The nightly job materialises every ended quarter's last day from the
    // first registration on, once, so the report reads them.
    let yesterday = today() - time::Duration::days(1);
    let ends = job::quarter_ends(&app.state.db, yesterday).await.unwrap();
    assert_eq!(ends.first(), Some(&quarter.last_day()), "{ends:?}");
    assert!(
        ends.windows(2).all(|w| w[0] < w[1]) && ends.iter().all(|d| *d <= yesterday),
        "{ends:?}"
    );
    assert_eq!(
        job::run_days(&app.state.db, &ends, "nightly")
            .await
            .unwrap(),
        ends.len()
    );
    assert_eq!(
        job::run_days(&app.state.db, &ends, "another")
            .await
            .unwrap(),
        0,
        "each day once"
    );
    let html = report::quarterly(&app.state.db, "IR-23", quarter)
        .await
        .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(r#"<html lang="fa" dir="rtl">"#));
    for external in ["http:", "https:", "//", "src=", "<link", "<script", "url("] {
        assert!(!html.contains(external), "{external} in the report");
    }
    assert!(html.contains("<svg"), "charts inline");
    assert!(
        html.contains(&period::jalali_text(quarter.first_day())),
        "Jalali dates"
    );
    // Seven open cases at the quarter's end, in Persian digits.
    assert!(html.contains("<th>پرونده‌های باز</th><td>۷</td>"), "{html}");
    // Kept for a look in a browser (tests/artifacts is not committed).
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/artifacts/indicators");
    std::fs::create_dir_all(&dir).unwrap();
    let backend = format!("{:?}", app.state.db.backend()).to_lowercase();
    std::fs::write(dir.join(format!("quarterly-report-{backend}.html")), &html).unwrap();
}

async fn the_quarterly_report_downloads_within_scope(db: TestDb) {
    let app = app(db).await;
    let w = crate::common::worker(&app, "worker1", "IR-23").await;
    for _ in 0..3 {
        new_child(&app, &w, "IR-23", None).await;
    }
    let quarter = period::Quarter::of_ms(kudakyar::now_ms() - 95 * DAY_MS).to_string();
    let staff = app.token_for("staff23", "provincial_staff", "IR-23").await;
    let path = format!("/api/v1/indicators/report?quarter={quarter}");
    let response = app.get(&staff, &path).await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"report-IR-23-{quarter}.html\"")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<html lang="fa" dir="rtl">"#), "{html}");
    // Three children: suppressed, as for provincial staff, whoever asks.
    assert!(html.contains("کمتر از ۵"), "{html}");
    let admin = app.admin_token().await;
    let by_admin = app
        .get(&admin, &format!("{path}&area=IR-23"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(by_admin, html, "the same page for the admin");

    // Another province is not theirs; an outreach worker has no report.
    problem(app.get(&staff, &format!("{path}&area=IR-07")).await, 404).await;
    problem(app.get(&w, &path).await, 403).await;
    // Each bad parameter named.
    for (query, field) in [
        ("", "quarter"),
        ("quarter=1405-Q9", "quarter"),
        ("quarter=1405-Q1&area=IR-23/2301", "area"),
        ("quarter=1405-Q1&area=IR", "area"),
        ("quarter=1405-Q1&province=IR-23", "province"),
    ] {
        let body = problem(
            app.get(&admin, &format!("/api/v1/indicators/report?{query}"))
                .await,
            422,
        )
        .await;
        assert!(body.to_string().contains(field), "{query}: {body}");
    }
    // A county's supervisor has no province's report to default to.
    let (_, password) = app
        .add_user("sup2301", "supervisor", Some("IR-23"), Some("2301"))
        .await;
    let sup = app.login("sup2301", &password).await;
    let body = problem(app.get(&sup, &path).await, 422).await;
    assert!(body.to_string().contains("area"), "{body}");
}

/// A number the API shows (not "suppressed").
fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

async fn on_the_demo_data_each_role_sees_the_programme(db: TestDb) {
    use kudakyar::demo::{self, DEMO_PASSWORD, Options};
    let app = app(db).await;
    let options = Options {
        children: 600,
        encounters: 4000,
        reports: 60,
        seed: 1404,
        until_ms: Some(demo::start_of_today_ms()),
        force: false,
    };
    demo::seed(
        &app.state.db,
        &app.state.config,
        &options,
        &mut |_: demo::Tick| {},
    )
    .await
    .unwrap();
    materialise(&app).await;
    let pool = app.state.db.pool();
    let end = period::end_ms(today());

    // A supervisor: each of their workers' caseload and share of verified
    // visits, equal to what the rows say.
    let boss = app.login("demo-ir-23-supervisor", DEMO_PASSWORD).await;
    let table = json_of(app.get(&boss, "/api/v1/indicators/workers").await, 200).await;
    let rows = table["items"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["demo-ir-23-worker-1", "demo-ir-23-worker-2"],
        "{table:#}"
    );
    for r in rows {
        let id = r["worker_id"].as_str().unwrap();
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM children WHERE assigned_worker = $1 AND merged_into IS NULL
             AND status IN ('active', 'referred', 'in_service')",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
        assert!(open >= 5, "{open} open cases of {id}");
        assert_eq!(number(&r["open_cases"]), open as f64, "{r:#}");
        let (visits, verified): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN verification = 'unverified' THEN 0 ELSE 1 END), 0)
             FROM encounters WHERE worker_id = $1 AND at >= $2 AND at < $3",
        )
        .bind(id)
        .bind(end - 30 * DAY_MS)
        .bind(end)
        .fetch_one(pool)
        .await
        .unwrap();
        assert!(
            visits > 0 && verified > 0 && verified < visits,
            "{visits} / {verified}"
        );
        assert_eq!(r["visits"], json!(visits));
        assert_eq!(r["verified_visits"], json!(verified));
        assert_eq!(
            number(&r["verified_share"]),
            verified as f64 / visits as f64
        );
    }

    // A province's staff: the cohort outcome table and the re-entry rate of
    // their province, shown (not suppressed), and no other province's.
    let staff = app.login("demo-ir-23-staff", DEMO_PASSWORD).await;
    let cohorts = json_of(app.get(&staff, "/api/v1/indicators/cohorts").await, 200).await;
    let items = cohorts["items"].as_array().unwrap();
    assert!(
        items.iter().all(|c| c["province"] == "IR-23"),
        "{cohorts:#}"
    );
    let shown: Vec<&Value> = items.iter().filter(|c| c["children"].is_number()).collect();
    let outcomes: std::collections::BTreeSet<&str> = shown
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    for some_of in [
        &["active"][..],
        &["referred", "in_service"],
        &["reunified", "closed"],
        &["in_school"],
    ] {
        assert!(
            some_of.iter().any(|o| outcomes.contains(o)),
            "{some_of:?} shown: {cohorts:#}"
        );
    }
    let quarters: std::collections::BTreeSet<&str> = shown
        .iter()
        .map(|c| c["cohort"].as_str().unwrap())
        .collect();
    assert!(
        quarters.len() >= 2,
        "cohorts of several quarters: {quarters:?}"
    );
    let quarter = quarters.iter().next().unwrap();
    let one = json_of(
        app.get(
            &staff,
            &format!("/api/v1/indicators/cohorts?quarter={quarter}"),
        )
        .await,
        200,
    )
    .await;
    assert!(
        one["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["cohort"] == *quarter),
        "{one:#}"
    );
    let reentry = figures(&app, &staff, "reentry", "IR-23").await;
    assert!(number(&reentry["closed"]) >= 5.0, "{reentry:?}");
    assert!(number(&reentry["reentered_12m"]) >= 5.0, "{reentry:?}");
    let rate = number(&reentry["rate_12m"]);
    assert!(rate > 0.0 && rate < 1.0, "{reentry:?}");
    let referrals = figures(&app, &staff, "referrals", "IR-23").await;
    assert!(number(&referrals["accepted"]) >= 5.0, "{referrals:?}");
    for indicator in ["caseload", "timeliness", "services", "verification"] {
        let f = figures(&app, &staff, indicator, "IR-23").await;
        assert!(
            f.values().filter(|v| v.is_number()).count() * 2 > f.len(),
            "{indicator} mostly shown: {f:?}"
        );
    }
    let mashhad = "IR-09";
    for path in [
        format!("/api/v1/indicators?indicator=reentry&area={mashhad}"),
        format!("/api/v1/indicators/cohorts?area={mashhad}"),
    ] {
        problem(app.get(&staff, &path).await, 404).await;
    }

    // The last quarter's report for the province's director, with figures
    // shown: kept for tests/browser/quarterly-report.test.mjs to open (one
    // backend writes it; both make the same page).
    let this_quarter = period::Quarter::of_ms(kudakyar::now_ms()).first_day();
    let last = period::Quarter::of_ms(period::start_ms(this_quarter) - DAY_MS);
    let html = report::quarterly(&app.state.db, "IR-23", last)
        .await
        .unwrap();
    let (bars, empty) = (
        html.matches("<rect").count(),
        html.matches(r#"width="0.0""#).count(),
    );
    // A province of demo data is small: figures under 5 children are
    // suppressed (an empty bar), but the report must show some.
    assert!(bars >= 10 && empty < bars, "{empty} of {bars} bars empty");
    // The demo accounts existed through the whole history: the province's
    // two workers carry last quarter's open cases.
    assert!(
        html.contains("<tr><th>مددکاران اجتماعی</th><td>۲</td></tr>"),
        "the caseload names two workers: {html}"
    );
    if app.state.db.backend() == kudakyar::db::Backend::Sqlite {
        let file = crate::atlas_svg::artifacts_dir().join("quarterly-report-IR-23.html");
        std::fs::write(file, &html).unwrap();
    }
}

/// Six people opening a quarter's report at once, before its day was
/// computed: each computes and stores the day (the stores take turns), and
/// each gets the same page, no 500 from two stores of one day.
async fn a_report_asked_for_by_many_at_once_computes_its_day_once_for_each(db: TestDb) {
    let app = app(db).await;
    let w = crate::common::worker(&app, "worker1", "IR-23").await;
    for _ in 0..6 {
        new_child(&app, &w, "IR-23", None).await;
    }
    let quarter = period::Quarter::of_ms(kudakyar::now_ms() - 95 * DAY_MS).to_string();
    let staff = app.token_for("staff23", "provincial_staff", "IR-23").await;
    let path = format!("/api/v1/indicators/report?quarter={quarter}");
    let pages = futures::future::join_all((0..6).map(|_| async {
        let response = app.get(&staff, &path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }))
    .await;
    for (status, page) in &pages {
        assert_eq!(*status, 200, "{page}");
        assert_eq!(page, &pages[0].1, "the same page for everyone");
    }
}
