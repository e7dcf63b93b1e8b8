//! Public intake of sightings: a citizen without an account reports (JSON
//! or a form with a photo) and asks by receipt; replays create nothing;
//! floods meet a proof-of-work demand and then 429; every bad input is a
//! clear error that stores nothing.

use serde_json::{Value, json};

use crate::common::{TestApp, TestDb, problem};
use crate::photos::{contains, phone_jpeg};

on_both_backends!(
    a_citizen_reports_with_a_photo_and_follows_it_by_receipt,
    a_replay_creates_nothing_and_another_body_is_a_conflict,
    concurrent_copies_of_one_report_store_it_once,
    reports_of_one_junction_arriving_together_are_one_incident,
    bad_input_names_the_field_and_stores_nothing,
    flooding_meets_a_proof_of_work_and_then_429,
    receipt_lookups_are_limited_alike_for_known_and_unknown_codes,
    one_device_in_far_apart_places_is_flagged_not_dropped,
    a_phone_is_kept_only_with_consent_and_purged_after_retention,
    hotline_operators_reach_the_reports_and_not_the_registry,
    a_burst_past_the_limit_stores_exactly_the_limit,
    reports_from_many_addresses_and_counties_at_once_are_all_taken,
    reports_with_and_without_a_gps_accuracy_are_all_stored,
);

/// Tehran, near Enghelab Square.
const LAT: f64 = 35.7009;
const LNG: f64 = 51.3912;

fn report(id: &str) -> Value {
    json!({
        "id": id, "lat": LAT, "lng": LNG, "accuracy_m": 12.0,
        "children_count": 2, "age_bands": ["6-11", "12-14"], "sex": "male",
        "activity": "selling_flowers_or_poems",
        "description": "دو پسر بچه سر چهارراه گل می‌فروشند",
    })
}

fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A citizen's app: no `Authorization` header at all.
async fn post_report(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/sightings"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_report_form(
    app: &TestApp,
    body: &Value,
    photo: Option<Vec<u8>>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("report", body.to_string());
    if let Some(photo) = photo {
        let part = reqwest::multipart::Part::bytes(photo)
            .file_name("photo.jpg")
            .mime_str("image/jpeg")
            .unwrap();
        form = form.part("photo", part);
    }
    app.client
        .post(app.url("/api/v1/sightings"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn receipt_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

/// A centre in Tehran's county 2301, so reports there are placed in it.
async fn tehran_centre(app: &TestApp) {
    let admin = app.admin_token().await;
    let response = app
        .post(
            &admin,
            "/api/v1/centres",
            &json!({"name": "مرکز مولوی", "lat": 35.67, "lng": 51.42,
                    "province": "IR-23", "county": "2301"}),
        )
        .await;
    assert_eq!(response.status(), 201);
}

/// Limits high enough for tests that are not about them.
fn roomy(config: &mut kudakyar::config::Config) {
    config.sighting_max_per_hour = 1000;
    config.sighting_soft_limit_per_hour = 1000;
}

async fn a_citizen_reports_with_a_photo_and_follows_it_by_receipt(db: TestDb) {
    let app = TestApp::start(db).await;
    tehran_centre(&app).await;
    let id = uuid();
    let original = phone_jpeg();
    assert!(contains(&original, b"GPS") || contains(&original, b"\x88\x25"));
    let receipt = receipt_of(
        post_report_form(&app, &report(&id), Some(original)).await,
        201,
    )
    .await;
    assert_eq!(receipt["id"], id.as_str());
    assert_eq!(receipt["state"], "received");
    let code = receipt["receipt_code"].as_str().unwrap();
    assert_eq!(code.len(), 11, "{code}");

    // The receipt tells the state and nothing else, whatever the case typed.
    let typed = code.to_lowercase().replace('-', " ");
    let response = app
        .client
        .get(app.url(&format!("/api/v1/sightings/receipt/{typed}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status, json!({"state": "received"}));

    // Stored where the nearest centre is, with its facts, history, event and audit.
    let row: (Option<String>, Option<String>, String, Option<String>) =
        sqlx::query_as("SELECT province, county, state, photo_key FROM sightings WHERE id = $1")
            .bind(&id)
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(row.0.as_deref(), Some("IR-23"));
    assert_eq!(row.1.as_deref(), Some("2301"));
    assert_eq!(row.2, "new");
    let key = row.3.expect("the photo is stored");
    let stored = app.state.media.get(&key).await.unwrap().unwrap();
    assert!(!contains(&stored, b"Exif"), "EXIF, GPS included, is gone");
    assert!(!contains(&stored, b"MM\0\x2a"), "no TIFF block left");
    assert!(image::load_from_memory(&stored).is_ok());
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM sighting_events WHERE state = 'new'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'sighting_received' AND county = '2301'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'sighting.create' AND username = 'citizen'").await,
        1
    );

    // Staff of the county see the photo; the public does not.
    let (_, password) = app
        .add_user("sup2301", "supervisor", Some("IR-23"), Some("2301"))
        .await;
    let supervisor = app.login("sup2301", &password).await;
    let response = app
        .get(&supervisor, &format!("/api/v1/sightings/{id}/photo"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), stored);
    let (_, password) = app
        .add_user("sup0801", "supervisor", Some("IR-08"), None)
        .await;
    let elsewhere = app.login("sup0801", &password).await;
    problem(
        app.get(&elsewhere, &format!("/api/v1/sightings/{id}/photo"))
            .await,
        404,
    )
    .await;
    let anonymous = app
        .client
        .get(app.url(&format!("/api/v1/sightings/{id}/photo")))
        .send()
        .await
        .unwrap();
    problem(anonymous, 401).await;
}

async fn a_replay_creates_nothing_and_another_body_is_a_conflict(db: TestDb) {
    let app = TestApp::start(db).await;
    let id = uuid();
    let first = receipt_of(post_report(&app, &report(&id)).await, 201).await;
    let again = receipt_of(post_report(&app, &report(&id)).await, 200).await;
    assert_eq!(first, again, "a retry answers like the first time");
    let mut other = report(&id);
    other["children_count"] = json!(3);
    let body = problem(post_report(&app, &other).await, 409).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("different report")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sightings").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sighting_events").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM domain_events").await, 1);
}

async fn concurrent_copies_of_one_report_store_it_once(db: TestDb) {
    let app = TestApp::start_with(db, roomy).await;
    let id = uuid();
    let body = report(&id);
    let answers = futures::future::join_all((0..20).map(|_| post_report(&app, &body))).await;
    let mut codes = std::collections::BTreeSet::new();
    let mut created = 0;
    for response in answers {
        let status = response.status().as_u16();
        assert!(status == 201 || status == 200, "status {status}");
        created += usize::from(status == 201);
        let receipt: Value = response.json().await.unwrap();
        codes.insert(receipt["receipt_code"].as_str().unwrap().to_string());
    }
    assert_eq!(created, 1, "one copy creates, the others answer as retries");
    assert_eq!(codes.len(), 1, "every copy gets the same receipt");
    // Copies written in the same batch as the first go as far as its insert
    // before they find it: what they counted and grouped is rolled back.
    for (table, rows) in [
        ("sightings", 1),
        ("sighting_events", 1),
        ("incidents", 1),
        ("domain_events", 1),
        ("audit_log WHERE action = 'sighting.create'", 1),
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        assert_eq!(count(&app, &sql).await, rows, "{table}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT CAST(SUM(count) AS BIGINT) FROM intake_counters"
        )
        .await,
        1,
        "the copies count once against the address"
    );
}

async fn reports_of_one_junction_arriving_together_are_one_incident(db: TestDb) {
    let app = TestApp::start_with(db, roomy).await;
    tehran_centre(&app).await;
    // Ten reports within ~100 m of the junction, sent at once.
    let bodies: Vec<Value> = (0..10)
        .map(|i| {
            let mut b = report(&uuid());
            b["lat"] = json!(LAT + 0.0001 * f64::from(i % 5));
            b["lng"] = json!(LNG + 0.0001 * f64::from(i / 5));
            b
        })
        .collect();
    let answers = futures::future::join_all(bodies.iter().map(|b| post_report(&app, b))).await;
    for response in answers {
        assert_eq!(response.status(), 201);
    }
    // One far away (2 km) and one of the same place a day earlier: their own.
    let mut far = report(&uuid());
    far["lat"] = json!(LAT + 0.02);
    assert_eq!(post_report(&app, &far).await.status(), 201);
    let mut earlier = report(&uuid());
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    earlier["seen_at"] = json!(
        yesterday
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    assert_eq!(post_report(&app, &earlier).await.status(), 201);

    assert_eq!(count(&app, "SELECT COUNT(*) FROM sightings").await, 12);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM incidents").await, 3);
    assert_eq!(
        count(
            &app,
            "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM sightings GROUP BY incident_id) t"
        )
        .await,
        10
    );
}

async fn bad_input_names_the_field_and_stores_nothing(db: TestDb) {
    let app = TestApp::start_with(db, roomy).await;
    let week_ago = time::OffsetDateTime::now_utc() - time::Duration::days(8);
    let rfc = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let with = |key: &str, value: Value| {
        let mut b = report(&uuid());
        b[key] = value;
        b
    };
    let without = |key: &str| {
        let mut b = report(&uuid());
        b.as_object_mut().unwrap().remove(key);
        b
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("no coordinates", without("lat"), "lat"),
        ("impossible latitude", with("lat", json!(91.0)), "lat"),
        ("impossible longitude", with("lng", json!(-181.0)), "lng"),
        (
            "a point outside Iran (Istanbul)",
            {
                let mut b = with("lat", json!(41.01));
                b["lng"] = json!(28.97);
                b
            },
            "lat",
        ),
        (
            "a time in the future",
            with("seen_at", json!(rfc(tomorrow))),
            "seen_at",
        ),
        (
            "a time 8 days ago",
            with("seen_at", json!(rfc(week_ago))),
            "seen_at",
        ),
        (
            "not a time",
            with("seen_at", json!("yesterday evening")),
            "seen_at",
        ),
        (
            "an over-long description",
            with("description", json!("ک".repeat(1001))),
            "description",
        ),
        (
            "an unknown activity",
            with("activity", json!("juggling")),
            "activity",
        ),
        (
            "an unknown age band",
            with("age_bands", json!(["3-4"])),
            "age_bands[0]",
        ),
        (
            "no children",
            with("children_count", json!(0)),
            "children_count",
        ),
        (
            "a phone without consent",
            with("reporter_phone", json!("0912 345 6789")),
            "phone_consent",
        ),
        (
            "not a phone",
            with("reporter_phone", json!("call me")),
            "reporter_phone",
        ),
        (
            "the honeypot filled in",
            with("website", json!("http://spam.example")),
            "website",
        ),
        ("an id that is not a UUID", with("id", json!("42")), "id"),
        (
            "a short device token",
            with("device_token", json!("abc")),
            "device_token",
        ),
        ("an unknown field", with("colour", json!("red")), "colour"),
        (
            "a negative accuracy",
            with("accuracy_m", json!(-3.0)),
            "accuracy_m",
        ),
    ];
    for (what, body, field) in cases {
        let body = problem(post_report(&app, &body).await, 422).await;
        assert!(
            body["errors"][field].is_array(),
            "{what}: expected an error on `{field}`, got {body}"
        );
    }
    // A staff source without a login is 401, not a citizen report.
    problem(
        post_report(&app, &with("source", json!("hotline"))).await,
        401,
    )
    .await;
    // Photos: not an image (415), too large (413), and an empty part (422).
    let body = problem(
        post_report_form(
            &app,
            &report(&uuid()),
            Some(b"plain text, not an image".to_vec()),
        )
        .await,
        415,
    )
    .await;
    assert!(body["detail"].is_string());
    problem(
        post_report_form(
            &app,
            &report(&uuid()),
            Some(vec![0xFF; 15 * 1024 * 1024 + 1]),
        )
        .await,
        413,
    )
    .await;
    let body = problem(
        post_report_form(&app, &report(&uuid()), Some(Vec::new())).await,
        422,
    )
    .await;
    assert!(body["errors"]["photo"].is_array(), "{body}");
    // A form without the report, and a body that is neither JSON nor a form.
    let response = app
        .client
        .post(app.url("/api/v1/sightings"))
        .multipart(reqwest::multipart::Form::new().text("note", "hi"))
        .send()
        .await
        .unwrap();
    let body = problem(response, 422).await;
    assert!(body["errors"]["note"].is_array(), "{body}");
    let response = app
        .client
        .post(app.url("/api/v1/sightings"))
        .header("content-type", "text/plain")
        .body("a child at the junction")
        .send()
        .await
        .unwrap();
    problem(response, 415).await;

    assert_eq!(count(&app, "SELECT COUNT(*) FROM sightings").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM incidents").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM domain_events").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM intake_counters WHERE count > 0").await,
        0,
        "refused reports are not counted against the reporter"
    );
}

/// Solves a challenge the way the PWA does.
fn solve(challenge: &Value) -> Value {
    use sha2::{Digest, Sha256};
    let c = challenge["challenge"].as_str().unwrap();
    let difficulty = challenge["difficulty"].as_u64().unwrap() as u32;
    for nonce in 0u64.. {
        let hash = Sha256::digest(format!("{c}:{nonce}").as_bytes());
        let zeros = hash
            .iter()
            .try_fold(0u32, |acc, b| {
                if *b == 0 {
                    Ok(acc + 8)
                } else {
                    Err(acc + b.leading_zeros())
                }
            })
            .unwrap_or_else(|z| z);
        if zeros >= difficulty {
            return json!({"challenge": c, "nonce": nonce.to_string()});
        }
    }
    unreachable!()
}

async fn challenge(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/sightings/challenge"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn flooding_meets_a_proof_of_work_and_then_429(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        c.sighting_soft_limit_per_hour = 2;
        c.sighting_max_per_hour = 4;
        c.sighting_pow_difficulty = 8;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(post_report(&app, &report(&uuid())).await.status(), 201);
    }
    // Past the soft limit: a stamp is asked for, and nothing is stored or counted.
    let third = report(&uuid());
    let body = problem(post_report(&app, &third).await, 422).await;
    assert!(
        body["errors"]["proof"][0]
            .as_str()
            .unwrap()
            .contains("/api/v1/sightings/challenge")
    );
    // A wrong stamp, a stamp for a challenge never issued, then a good one.
    let c = challenge(&app).await;
    assert_eq!(c["difficulty"], 8);
    let mut wrong = solve(&c);
    wrong["nonce"] = json!("not-the-solution-0");
    let mut with_wrong = third.clone();
    with_wrong["proof"] = wrong;
    // (a random nonce may solve 8 bits by chance: 1 in 256; this one does not)
    let sha = {
        use sha2::{Digest, Sha256};
        Sha256::digest(
            format!("{}:not-the-solution-0", c["challenge"].as_str().unwrap()).as_bytes(),
        )
    };
    if sha[0] != 0 {
        let body = problem(post_report(&app, &with_wrong).await, 422).await;
        assert!(
            body["errors"]["proof"][0]
                .as_str()
                .unwrap()
                .contains("does not solve"),
            "{body}"
        );
    }
    let mut forged = third.clone();
    forged["proof"] = json!({"challenge": "00000000000000000000000000000000", "nonce": "1"});
    let body = problem(post_report(&app, &forged).await, 422).await;
    assert!(
        body["errors"]["proof"][0]
            .as_str()
            .unwrap()
            .contains("not a challenge"),
        "{body}"
    );
    let proof = solve(&c);
    let mut solved = third.clone();
    solved["proof"] = proof.clone();
    assert_eq!(post_report(&app, &solved).await.status(), 201);
    // A stamp is spent once.
    let mut reused = report(&uuid());
    reused["proof"] = proof;
    let body = problem(post_report(&app, &reused).await, 422).await;
    assert!(
        body["errors"]["proof"][0]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{body}"
    );
    let mut fourth = report(&uuid());
    fourth["proof"] = solve(&challenge(&app).await);
    assert_eq!(post_report(&app, &fourth).await.status(), 201);
    // Past the hard limit: 429 with Retry-After, stamp or not.
    let mut fifth = report(&uuid());
    fifth["proof"] = solve(&challenge(&app).await);
    let response = post_report(&app, &fifth).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    problem(response, 429).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sightings").await, 4);
    // A retry of a stored report is still answered: it costs nothing.
    assert_eq!(post_report(&app, &solved).await.status(), 200);
}

async fn receipt_lookups_are_limited_alike_for_known_and_unknown_codes(db: TestDb) {
    let app = TestApp::start_with(db, |c| c.receipt_lookups_per_hour = 3).await;
    let receipt = receipt_of(post_report(&app, &report(&uuid())).await, 201).await;
    let code = receipt["receipt_code"].as_str().unwrap();
    let lookup = |code: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&format!("/api/v1/sightings/receipt/{code}")))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(lookup(code.to_string()).await.status(), 200);
    problem(lookup("ZZZZZ-ZZZZZ".into()).await, 404).await;
    problem(lookup("not-a-code".into()).await, 404).await;
    // The guesses counted: even the right code now waits.
    let response = lookup(code.to_string()).await;
    assert!(response.headers().contains_key("retry-after"));
    problem(response, 429).await;
}

async fn one_device_in_far_apart_places_is_flagged_not_dropped(db: TestDb) {
    let app = TestApp::start_with(db, roomy).await;
    let device = "device-token-of-one-phone";
    let mut tehran = report(&uuid());
    tehran["device_token"] = json!(device);
    assert_eq!(post_report(&app, &tehran).await.status(), 201);
    // Mashhad, 740 km away, a minute later from the same phone.
    let mut mashhad = report(&uuid());
    mashhad["device_token"] = json!(device);
    mashhad["lat"] = json!(36.2972);
    mashhad["lng"] = json!(59.6067);
    let id = mashhad["id"].as_str().unwrap().to_string();
    assert_eq!(post_report(&app, &mashhad).await.status(), 201);
    // A second junction in Tehran 1 km away from another phone: not flagged.
    let mut nearby = report(&uuid());
    nearby["device_token"] = json!("another-phone-token");
    nearby["lat"] = json!(LAT + 0.009);
    assert_eq!(post_report(&app, &nearby).await.status(), 201);

    let flags: Vec<(String, Option<String>)> = sqlx::query_as("SELECT id, flag FROM sightings")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(flags.len(), 3, "nothing dropped");
    for (sid, flag) in flags {
        let expected = (sid == id).then_some("far_apart");
        assert_eq!(flag.as_deref(), expected, "report {sid}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'sighting_flagged'"
        )
        .await,
        1
    );
    // The device is kept as a hash only.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM sightings WHERE device_hash = 'device-token-of-one-phone'"
        )
        .await,
        0
    );
}

async fn a_phone_is_kept_only_with_consent_and_purged_after_retention(db: TestDb) {
    let app = TestApp::start_with(db, roomy).await;
    let mut with_phone = report(&uuid());
    with_phone["reporter_phone"] = json!("+98 912 345 6789");
    with_phone["phone_consent"] = json!(true);
    assert_eq!(post_report(&app, &with_phone).await.status(), 201);
    assert_eq!(post_report(&app, &report(&uuid())).await.status(), 201);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM sightings WHERE reporter_phone IS NOT NULL"
        )
        .await,
        1
    );
    let day = 86_400_000;
    let now = kudakyar::now_ms();
    let purged = kudakyar::sightings::retention::purge_phones(&app.state.db, now + 89 * day)
        .await
        .unwrap();
    assert_eq!(purged, 0, "kept within the 90 days");
    let purged = kudakyar::sightings::retention::purge_phones(&app.state.db, now + 91 * day)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM sightings WHERE reporter_phone IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM sightings").await,
        2,
        "the reports stay"
    );
}

async fn hotline_operators_reach_the_reports_and_not_the_registry(db: TestDb) {
    let app = TestApp::start(db).await;
    let (_, password) = app
        .add_user("op123", "hotline_operator", Some("IR-23"), None)
        .await;
    let operator = app.login("op123", &password).await;
    let mut call = report(&uuid());
    call["source"] = json!("hotline");
    call["reporter_phone"] = json!("02112345678");
    call["phone_consent"] = json!(true);
    let response = app.post(&operator, "/api/v1/sightings", &call).await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.get(&operator, "/api/v1/sightings").await.status(), 200);
    assert_eq!(app.get(&operator, "/api/v1/incidents").await.status(), 200);
    assert_eq!(app.get(&operator, "/api/v1/auth/me").await.status(), 200);
    for path in [
        "/api/v1/children",
        "/api/v1/centres",
        "/api/v1/iris/reviews",
        "/api/v1/exports/children.csv",
    ] {
        let body = problem(app.get(&operator, path).await, 403).await;
        assert!(
            body["detail"].as_str().unwrap().contains("hotline"),
            "{path}: {body}"
        );
    }
    // A field sighting is for people in the street, not the operator.
    let mut field = report(&uuid());
    field["source"] = json!("worker");
    problem(app.post(&operator, "/api/v1/sightings", &field).await, 403).await;
}

/// Thirty reports at once from one address with a limit of ten: they are
/// written in shared transactions (group commit), and the twenty refused
/// roll back alone — exactly ten stored, each with its history and event.
async fn a_burst_past_the_limit_stores_exactly_the_limit(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        c.sighting_max_per_hour = 10;
        c.sighting_soft_limit_per_hour = 1000;
    })
    .await;
    let bodies: Vec<Value> = (0..30).map(|_| report(&uuid())).collect();
    let answers = futures::future::join_all(bodies.iter().map(|b| post_report(&app, b))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [vec![201; 10], vec![429; 20]].concat());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sightings").await, 10);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM sighting_events").await,
        10
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM domain_events").await, 10);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sighting.create'"
        )
        .await,
        10
    );
}

/// A phone without a GPS fix sends no accuracy. Reports with and without one,
/// one after another, must all be stored: a NULL float bound the wrong way
/// once made every later accuracy on that PostgreSQL connection a 500.
async fn reports_with_and_without_a_gps_accuracy_are_all_stored(db: TestDb) {
    let app = TestApp::start_with(db, roomy).await;
    for i in 0..24 {
        let mut body = report(&uuid());
        if i % 2 == 0 {
            body.as_object_mut().unwrap().remove("accuracy_m");
        } else {
            body["accuracy_m"] = json!(8.5 + f64::from(i));
        }
        let response = post_report(&app, &body).await;
        assert_eq!(
            response.status(),
            201,
            "report {i}: {}",
            response.text().await.unwrap()
        );
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sightings").await, 24);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM sightings WHERE accuracy_m IS NULL"
        )
        .await,
        12
    );
}

/// Sixty reports at once from six addresses, spread over three counties in
/// an order that differs per address: on PostgreSQL, batches written side
/// by side lock counters and counties in opposite orders and can deadlock;
/// a deadlocked batch is written again, so every report is taken once.
async fn reports_from_many_addresses_and_counties_at_once_are_all_taken(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        roomy(c);
        c.trust_forwarded_for = true;
    })
    .await;
    let admin = app.admin_token().await;
    let places = [
        (35.70, 51.39, "IR-23", "2301"),
        (36.30, 59.60, "IR-09", "0901"),
        (32.65, 51.67, "IR-10", "1001"),
    ];
    for (i, (lat, lng, province, county)) in places.iter().enumerate() {
        let centre = json!({"name": format!("مرکز {i}"), "lat": lat, "lng": lng,
                            "province": province, "county": county});
        assert_eq!(
            app.post(&admin, "/api/v1/centres", &centre).await.status(),
            201
        );
    }
    let sends = (0..60).map(|i| {
        let (lat, lng, ..) = places[(i + i / 6) % 3];
        let mut body = report(&uuid());
        body["lat"] = json!(lat + 0.001 * (i % 7) as f64);
        body["lng"] = json!(lng);
        let request = app
            .client
            .post(app.url("/api/v1/sightings"))
            .header("x-forwarded-for", format!("198.51.100.{}", i % 6))
            .json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(sends).await;
    assert_eq!(statuses, vec![201; 60]);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sightings").await, 60);
    assert_eq!(
        count(&app, "SELECT COUNT(DISTINCT county) FROM sightings").await,
        3
    );
    // Batches take their counters and counties in one order: none had to
    // be written again (PostgreSQL's writers run side by side).
    assert_eq!(app.state.sightings.deadlocks(), 0, "deadlocked batches");
}
