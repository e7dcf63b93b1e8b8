//! Merges, centres and referrals over HTTP, on SQLite and PostgreSQL.

use crate::common::{TestApp, TestDb, json_of, problem, texts};
use serde_json::{Value, json};

on_both_backends!(
    supervisor_merges_and_undoes,
    a_merge_closes_the_duplicates_reviews_and_its_undo_reopens_them,
    one_review_per_pair_of_records,
    referrals_follow_a_merged_child,
    undo_needs_both_records_in_scope,
    migration_0008_settles_what_earlier_merges_left,
    referral_to_the_nearest_centre_with_room
);

fn child(id: &str, given: &str, alias: &str) -> Value {
    json!({
        "id": id, "given_name": given, "aliases": [alias], "sex": "male",
        "nationality": "afghan", "home_province": "IR-23"
    })
}

fn encounter(id: &str, at: &str, lat: f64, lng: f64) -> Value {
    json!({"id": id, "at": at, "lat": lat, "lng": lng})
}

async fn user(app: &TestApp, name: &str, role: &str) -> String {
    app.token_for(name, role, "IR-23").await
}

const A: &str = "a0000000-0000-4000-8000-000000000001";
const B: &str = "b0000000-0000-4000-8000-000000000002";
const C: &str = "c0000000-0000-4000-8000-000000000003";

async fn open_reviews(app: &TestApp, token: &str) -> Vec<Value> {
    let list = json_of(app.get(token, "/api/v1/iris/reviews").await, 200).await;
    list.as_array().unwrap().clone()
}

async fn identity(app: &TestApp, token: &str, id: &str) -> Value {
    json_of(app.get(token, &format!("/api/v1/children/{id}")).await, 200).await["identity"].clone()
}

/// B, registered offline, matched both A and C: two open reviews. Merging B
/// into A by hand settles both (B's irises are A's now); the undo brings
/// them back, with B pending review again.
async fn a_merge_closes_the_duplicates_reviews_and_its_undo_reopens_them(db: TestDb) {
    let app = TestApp::start(db).await;
    let (worker_id, _) = app
        .add_user("worker1", "outreach_worker", Some("IR-23"), None)
        .await;
    let worker = app.login("worker1", "worker1 secret password").await;
    let supervisor = user(&app, "supervisor1", "supervisor").await;
    for (id, name) in [(A, "علی"), (B, "رضا"), (C, "حسن")] {
        json_of(
            app.post(&worker, "/api/v1/children", &child(id, name, name))
                .await,
            201,
        )
        .await;
    }
    let ab = "ab000000-0000-4000-8000-000000000001";
    let bc = "bc000000-0000-4000-8000-000000000002";
    crate::concurrency::open_review(&app, ab, B, A, &worker_id).await;
    crate::concurrency::open_review(&app, bc, B, C, &worker_id).await;
    assert_eq!(identity(&app, &supervisor, B).await, "pending_review");
    let merge = json_of(
        app.post(
            &supervisor,
            &format!("/api/v1/children/{A}/merge"),
            &json!({"duplicate_id": B}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(open_reviews(&app, &supervisor).await, Vec::<Value>::new());
    let decided = json_of(
        app.get(&supervisor, "/api/v1/iris/reviews?state=decided")
            .await,
        200,
    )
    .await;
    let by_id = |id: &str| {
        decided
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not decided: {decided:#}"))
    };
    assert_eq!(by_id(ab)["decision"], "same_child");
    assert_eq!(by_id(ab)["merge_id"], merge["id"]);
    assert_eq!(by_id(bc)["decision"], Value::Null, "closed, not decided");
    assert_eq!(by_id(bc)["merge_id"], merge["id"]);
    let late = app
        .post(
            &supervisor,
            &format!("/api/v1/iris/reviews/{bc}/decision"),
            &json!({"decision": "different_children"}),
        )
        .await;
    problem(late, 409).await;

    json_of(
        app.post(
            &supervisor,
            &format!("/api/v1/merges/{}/undo", merge["id"].as_str().unwrap()),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let mut reopened: Vec<String> = open_reviews(&app, &supervisor)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    reopened.sort();
    assert_eq!(reopened, [ab, bc]);
    assert_eq!(identity(&app, &supervisor, B).await, "pending_review");
}

/// A review of (B, A) and one of (A, B) would be one task twice: after one
/// merge the other could never be decided.
async fn one_review_per_pair_of_records(db: TestDb) {
    let app = TestApp::start(db).await;
    let (worker_id, _) = app
        .add_user("worker1", "outreach_worker", Some("IR-23"), None)
        .await;
    let worker = app.login("worker1", "worker1 secret password").await;
    for (id, name) in [(A, "علی"), (B, "رضا")] {
        json_of(
            app.post(&worker, "/api/v1/children", &child(id, name, name))
                .await,
            201,
        )
        .await;
    }
    crate::concurrency::open_review(
        &app,
        "ab000000-0000-4000-8000-000000000001",
        B,
        A,
        &worker_id,
    )
    .await;
    // What an enrolment of A matching B writes (`biometrics::enrol::open_reviews`).
    let reverse = sqlx::query(
        "INSERT INTO identity_reviews (id, child_id, candidate_id, child_province,
            candidate_province, reason, distances, opened_by, opened_at)
         VALUES ('ba000000-0000-4000-8000-000000000002', $1, $2, 'IR-23', 'IR-23', 'enrolment',
                 '{}', $3, 1)
         ON CONFLICT DO NOTHING",
    )
    .bind(A)
    .bind(B)
    .bind(&worker_id)
    .execute(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(
        reverse.rows_affected(),
        0,
        "the pair has its review already"
    );
}

/// A child referred to a centre, merged into another record: the referral
/// moves to the survivor, where it can be closed, freeing the centre's place
/// (it counted for ever on the tombstone, where nobody could close it).
async fn referrals_follow_a_merged_child(db: TestDb) {
    let app = TestApp::start(db).await;
    let worker = user(&app, "worker1", "outreach_worker").await;
    let supervisor = user(&app, "supervisor1", "supervisor").await;
    let staff = user(&app, "staff1", "provincial_staff").await;
    for (id, name) in [(A, "علی"), (B, "رضا")] {
        json_of(
            app.post(&worker, "/api/v1/children", &child(id, name, name))
                .await,
            201,
        )
        .await;
    }
    let centre = json_of(
        app.post(
            &staff,
            "/api/v1/centres",
            &json!({"name": "مرکز", "lat": 35.7, "lng": 51.4, "province": "IR-23", "capacity": 1}),
        )
        .await,
        201,
    )
    .await;
    let centre_id = centre["id"].as_str().unwrap();
    let referral = json_of(
        app.post(
            &worker,
            "/api/v1/referrals",
            &json!({"child_id": B, "centre_id": centre_id}),
        )
        .await,
        201,
    )
    .await;
    let merge = json_of(
        app.post(
            &supervisor,
            &format!("/api/v1/children/{A}/merge"),
            &json!({"duplicate_id": B}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(merge["moved_referrals"], json!([referral["id"]]));
    let of_a = json_of(
        app.get(&worker, &format!("/api/v1/referrals?child_id={A}"))
            .await,
        200,
    )
    .await;
    assert_eq!(of_a[0]["id"], referral["id"], "{of_a:#}");
    json_of(
        app.post(
            &supervisor,
            &format!(
                "/api/v1/referrals/{}/state",
                referral["id"].as_str().unwrap()
            ),
            &json!({"state": "rejected"}),
        )
        .await,
        200,
    )
    .await;
    json_of(
        app.post(
            &worker,
            "/api/v1/referrals",
            &json!({"child_id": A, "centre_id": centre_id}),
        )
        .await,
        201,
    )
    .await;
}

/// An undo brings the duplicate back: a supervisor must see both records.
async fn undo_needs_both_records_in_scope(db: TestDb) {
    let app = TestApp::start(db).await;
    let worker = user(&app, "worker1", "outreach_worker").await;
    let province = user(&app, "supervisor1", "supervisor").await;
    let (_, password) = app
        .add_user("supervisor2", "supervisor", Some("IR-23"), Some("2301"))
        .await;
    let county = app.login("supervisor2", &password).await;
    for (id, name, home) in [(A, "علی", "2301"), (B, "رضا", "2302")] {
        let mut body = child(id, name, name);
        body["home_county"] = json!(home);
        json_of(app.post(&worker, "/api/v1/children", &body).await, 201).await;
    }
    let merge = json_of(
        app.post(
            &province,
            &format!("/api/v1/children/{A}/merge"),
            &json!({"duplicate_id": B}),
        )
        .await,
        201,
    )
    .await;
    let undo = format!("/api/v1/merges/{}/undo", merge["id"].as_str().unwrap());
    problem(app.post(&county, &undo, &json!({})).await, 404).await;
    json_of(app.post(&province, &undo, &json!({})).await, 200).await;
}

async fn supervisor_merges_and_undoes(db: TestDb) {
    let app = TestApp::start(db).await;
    let worker = user(&app, "worker1", "outreach_worker").await;
    let supervisor = user(&app, "supervisor1", "supervisor").await;
    app.post(&worker, "/api/v1/children", &child(A, "علی", "کوچولو"))
        .await;
    app.post(&worker, "/api/v1/children", &child(B, "رضا", "پسر گل‌فروش"))
        .await;
    for (child, id, at) in [
        (
            A,
            "e0000000-0000-4000-8000-000000000001",
            "2026-11-01T10:00:00Z",
        ),
        (
            B,
            "e0000000-0000-4000-8000-000000000002",
            "2026-11-10T10:00:00Z",
        ),
    ] {
        let r = app
            .post(
                &worker,
                &format!("/api/v1/children/{child}/encounters"),
                &encounter(id, at, 35.7, 51.4),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let denied = app
        .post(
            &worker,
            &format!("/api/v1/children/{A}/merge"),
            &json!({"duplicate_id": B}),
        )
        .await;
    problem(denied, 403).await;
    let r = app
        .post(
            &supervisor,
            &format!("/api/v1/children/{A}/merge"),
            &json!({"duplicate_id": B, "reason": "same iris"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let merge: Value = r.json().await.unwrap();

    let survivor: Value = app
        .get_json(&supervisor, &format!("/api/v1/children/{A}"))
        .await;
    let aliases = survivor["aliases"].as_array().unwrap();
    assert!(
        aliases.contains(&json!("رضا")) && aliases.contains(&json!("پسر گل‌فروش")),
        "{survivor}"
    );
    assert_eq!(survivor["last_seen_at"], "2026-11-10T10:00:00Z");
    let encounters: Value = app
        .get_json(&supervisor, &format!("/api/v1/children/{A}/encounters"))
        .await;
    assert_eq!(
        encounters.as_array().unwrap().len(),
        2,
        "the survivor has both encounters"
    );

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tomb = no_redirects
        .get(app.url(&format!("/api/v1/children/{B}")))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(tomb.status(), 308);
    assert_eq!(tomb.headers()["location"], format!("/api/v1/children/{A}"));
    let found: Value = app
        .get_json(&worker, "/api/v1/children?q=%D8%B1%D8%B6%D8%A7")
        .await;
    let ids: Vec<&str> = texts(&found["items"], "id");
    assert_eq!(ids, [A], "the duplicate's name finds the survivor only");

    let undo = app
        .post(
            &supervisor,
            &format!("/api/v1/merges/{}/undo", merge["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(undo.status(), 200);
    let back: Value = app
        .get_json(&supervisor, &format!("/api/v1/children/{B}"))
        .await;
    assert_eq!(back["given_name"], "رضا");
    let enc_b: Value = app
        .get_json(&supervisor, &format!("/api/v1/children/{B}/encounters"))
        .await;
    assert_eq!(enc_b.as_array().unwrap().len(), 1);
    let a: Value = app
        .get_json(&supervisor, &format!("/api/v1/children/{A}"))
        .await;
    assert_eq!(
        a["aliases"],
        json!(["کوچولو"]),
        "added aliases removed again"
    );
    let again = app
        .post(
            &supervisor,
            &format!("/api/v1/merges/{}/undo", merge["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    problem(again, 409).await;
    let self_merge = app
        .post(
            &supervisor,
            &format!("/api/v1/children/{A}/merge"),
            &json!({"duplicate_id": A}),
        )
        .await;
    assert!(problem(self_merge, 422).await["errors"]["duplicate_id"].is_array());
}

async fn referral_to_the_nearest_centre_with_room(db: TestDb) {
    let app = TestApp::start(db).await;
    let worker = user(&app, "worker1", "outreach_worker").await;
    let supervisor = user(&app, "supervisor1", "supervisor").await;
    let staff = user(&app, "staff1", "provincial_staff").await;
    let centre = |name: &str, lat: f64, lng: f64, capacity: i64| json!({"name": name, "lat": lat, "lng": lng, "province": "IR-23", "services": ["counselling"], "capacity": capacity});
    problem(
        app.post(&worker, "/api/v1/centres", &centre("x", 35.0, 51.0, 10))
            .await,
        403,
    )
    .await;
    let bad = app
        .post(
            &staff,
            "/api/v1/centres",
            &json!({"name": "", "lat": 95.0, "lng": 51.0, "province": "IR-23"}),
        )
        .await;
    let p = problem(bad, 422).await;
    assert!(
        p["errors"]["name"].is_array() && p["errors"]["lat"].is_array(),
        "{p}"
    );
    let mut ids = Vec::new();
    for (name, lat, lng, cap) in [
        ("مرکز دور", 35.80, 51.60, 450),
        ("مرکز نزدیک", 35.70, 51.41, 1),
        ("مرکز میانه", 35.72, 51.45, 450),
    ] {
        let r = app
            .post(&staff, "/api/v1/centres", &centre(name, lat, lng, cap))
            .await;
        assert_eq!(r.status(), 201);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let default_cap: Value = app
        .post(
            &staff,
            "/api/v1/centres",
            &json!({"name": "پیش‌فرض", "lat": 29.6, "lng": 52.5, "province": "IR-23"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(default_cap["capacity"], 450);

    app.post(&worker, "/api/v1/children", &child(A, "علی", "کوچولو"))
        .await;
    app.post(
        &worker,
        &format!("/api/v1/children/{A}/encounters"),
        &encounter(
            "e0000000-0000-4000-8000-000000000003",
            "2026-11-20T10:00:00Z",
            35.70,
            51.40,
        ),
    )
    .await;
    let suggestions: Value = app
        .get_json(&worker, &format!("/api/v1/children/{A}/centre-suggestions"))
        .await;
    assert_eq!(suggestions[0]["centre"]["name"], "مرکز نزدیک");
    assert_eq!(suggestions[1]["centre"]["name"], "مرکز میانه");

    let referral = json!({"id": "f0000000-0000-4000-8000-000000000001", "child_id": A, "centre_id": ids[1], "note": "نیاز به مشاوره"});
    let r = app.post(&supervisor, "/api/v1/referrals", &referral).await;
    assert_eq!(r.status(), 201);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["state"], "sent");
    assert_eq!(
        app.post(&supervisor, "/api/v1/referrals", &referral)
            .await
            .status(),
        200,
        "a retry"
    );
    // The one-place centre is now full: no longer suggested, and refused.
    let suggestions: Value = app
        .get_json(&worker, &format!("/api/v1/children/{A}/centre-suggestions"))
        .await;
    assert_eq!(suggestions[0]["centre"]["name"], "مرکز میانه");
    let full = json!({"child_id": A, "centre_id": ids[1]});
    assert!(problem(app.post(&supervisor, "/api/v1/referrals", &full).await, 422).await["errors"]["centre_id"].is_array());

    let rid = stored["id"].as_str().unwrap();
    let path = format!("/api/v1/referrals/{rid}/state");
    problem(
        app.post(&worker, &path, &json!({"state": "accepted"}))
            .await,
        403,
    )
    .await;
    let skip = app
        .post(&supervisor, &path, &json!({"state": "completed"}))
        .await;
    assert!(problem(skip, 422).await["errors"]["state"].is_array());
    assert_eq!(
        app.post(&supervisor, &path, &json!({"state": "accepted"}))
            .await
            .status(),
        200
    );
    let done: Value = app
        .post(
            &supervisor,
            &path,
            &json!({"state": "completed", "note": "پایان"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let states: Vec<&str> = texts(&done["history"], "state");
    assert_eq!(states, ["sent", "accepted", "completed"]);
    let list: Value = app
        .get_json(&worker, &format!("/api/v1/referrals?child_id={A}"))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// A registry that ran before migration 0008 holds reviews of one pair in
/// both orders, and open reviews of records merged away (with their
/// counterpart "pending review" for ever). The migration keeps the pair's
/// first review and closes the others with the merge.
async fn migration_0008_settles_what_earlier_merges_left(db: TestDb) {
    let app = TestApp::start(db).await;
    let (worker_id, _) = app
        .add_user("worker1", "outreach_worker", Some("IR-23"), None)
        .await;
    let worker = app.login("worker1", "worker1 secret password").await;
    let supervisor = user(&app, "supervisor1", "supervisor").await;
    let d = "d0000000-0000-4000-8000-000000000004";
    for (id, name) in [(A, "علی"), (B, "رضا"), (C, "حسن"), (d, "حسین")] {
        json_of(
            app.post(&worker, "/api/v1/children", &child(id, name, name))
                .await,
            201,
        )
        .await;
    }
    let merge = json_of(
        app.post(
            &supervisor,
            &format!("/api/v1/children/{C}/merge"),
            &json!({"duplicate_id": d}),
        )
        .await,
        201,
    )
    .await;
    let pool = app.state.db.pool();
    // Back to the schema before 0008, then the rows the old code left.
    for sql in [
        "DROP INDEX identity_reviews_pair",
        "ALTER TABLE child_merges DROP COLUMN moved_referrals",
        "DELETE FROM _sqlx_migrations WHERE version = 8",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    let first = "ba000000-0000-4000-8000-000000000001";
    let twin = "ab000000-0000-4000-8000-000000000002";
    let stale = "cd000000-0000-4000-8000-000000000003";
    for (id, child, candidate, at) in [(first, B, A, 1), (twin, A, B, 2), (stale, C, d, 3)] {
        sqlx::query(
            "INSERT INTO identity_reviews (id, child_id, candidate_id, child_province,
                candidate_province, reason, distances, opened_by, opened_at)
             VALUES ($1, $2, $3, 'IR-23', 'IR-23', 'offline_registration', '{}', $4, $5)",
        )
        .bind(id)
        .bind(child)
        .bind(candidate)
        .bind(&worker_id)
        .bind(at as i64)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE children SET identity_review_since = 1 WHERE id = $1")
        .bind(C)
        .execute(pool)
        .await
        .unwrap();

    app.state.db.migrate().await.unwrap();
    let left: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT r.id, r.merge_id, r.decided_by FROM identity_reviews r ORDER BY r.id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let merged_by: String = sqlx::query_scalar("SELECT merged_by FROM child_merges")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        left,
        [
            (first.to_string(), None, None),
            (
                stale.to_string(),
                merge["id"].as_str().map(str::to_string),
                Some(merged_by)
            ),
        ],
        "the twin of the first is gone, the stale one closed by the merge"
    );
    assert_eq!(identity(&app, &supervisor, C).await, "confirmed");
}
