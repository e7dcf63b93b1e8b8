//! The registry over HTTP, on SQLite and PostgreSQL: idempotent creates,
//! Persian-aware search, merged updates and conflicts, scopes, audited reads,
//! encounters and field-level errors.

use crate::common::{TestApp, TestDb, problem, texts, with_action, worker};
use serde_json::{Value, json};

on_both_backends!(
    create_is_idempotent_by_client_id,
    finds_a_misspelt_alias_typed_with_arabic_letters,
    offline_updates_merge_or_conflict,
    status_changes_follow_the_lifecycle,
    scope_confines_every_read_and_write,
    reads_are_audited,
    encounters_are_idempotent_and_move_last_seen,
    bad_input_names_the_field,
    filters_and_cursor_listing,
    scoped_search_finds_its_own_beyond_the_candidate_cut,
    assigned_worker_must_be_a_user,
);

fn child(id: &str, province: &str) -> Value {
    json!({
        "id": id,
        "given_name": "علی",
        "family_name": "رضایی",
        "aliases": ["علی کوچولو"],
        "sex": "male",
        "birth": {"precision": "estimated", "estimated_age": 11},
        "nationality": "afghan",
        "languages": ["dari", "persian"],
        "work_types": ["street_vending", "car_window_washing"],
        "home_province": province,
        "home_county": "2301"
    })
}

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.patch(token, &format!("/api/v1/children/{id}"), &body)
        .await
}

const ID: &str = "0b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f50";

async fn create_is_idempotent_by_client_id(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker(&app, "worker1", "IR-23").await;
    let first = app.post(&w, "/api/v1/children", &child(ID, "IR-23")).await;
    assert_eq!(first.status(), 201);
    let created: Value = first.json().await.unwrap();
    let code = created["registry_code"].as_str().unwrap();
    assert!(code.starts_with("23-14"), "{code}");
    assert_eq!(created["version"], 1);
    assert_eq!(created["status"], "active");

    let retry = app.post(&w, "/api/v1/children", &child(ID, "IR-23")).await;
    assert_eq!(
        retry.status(),
        200,
        "an identical retry is not a new record"
    );
    let again: Value = retry.json().await.unwrap();
    assert_eq!(again["registry_code"], created["registry_code"]);

    let mut different = child(ID, "IR-23");
    different["given_name"] = json!("حسن");
    let p = problem(app.post(&w, "/api/v1/children", &different).await, 409).await;
    assert_eq!(
        p["stored"]["given_name"], "علی",
        "the conflict carries the stored version"
    );

    let admin = app.admin_token().await;
    let all: Value = app.get_json(&admin, "/api/v1/children").await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        1,
        "exactly one record"
    );
    let second: Value = app
        .post(
            &w,
            "/api/v1/children",
            &child("1b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f51", "IR-23"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        second["registry_code"], created["registry_code"],
        "codes are unique"
    );
}

async fn finds_a_misspelt_alias_typed_with_arabic_letters(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker(&app, "worker1", "IR-23").await;
    app.post(&w, "/api/v1/children", &child(ID, "IR-23")).await;
    let mut other = child("2b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f52", "IR-23");
    other["given_name"] = json!("مریم");
    other["family_name"] = json!("احمدی");
    other["aliases"] = json!([]);
    other["sex"] = json!("female");
    app.post(&w, "/api/v1/children", &other).await;
    // Arabic yeh and kaf, a missing vowel letter, a ZWNJ: still the same alias.
    let query = "علي\u{200C}كوچلو";
    let url = format!("/api/v1/children?q={}", urlencode(query));
    let found: Value = app.get_json(&w, &url).await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["id"], ID);
    let by_family: Value = app
        .get_json(&w, &format!("/api/v1/children?q={}", urlencode("احمدي")))
        .await;
    assert_eq!(by_family["items"][0]["given_name"], "مریم");
    let code = items[0]["registry_code"].as_str().unwrap();
    let by_code: Value = app
        .get_json(&w, &format!("/api/v1/children?code={code}"))
        .await;
    assert_eq!(by_code["items"][0]["id"], ID);
    let nothing: Value = app
        .get_json(&w, &format!("/api/v1/children?q={}", urlencode("زهرا")))
        .await;
    assert!(nothing["items"].as_array().unwrap().is_empty());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn offline_updates_merge_or_conflict(db: TestDb) {
    let app = TestApp::start(db).await;
    let a = worker(&app, "worker.a", "IR-23").await;
    let b = worker(&app, "worker.b", "IR-23").await;
    app.post(&a, "/api/v1/children", &child(ID, "IR-23")).await;
    // Both edited version 1 offline.
    let r = patch(
        &app,
        &a,
        ID,
        json!({"base_version": 1, "changes": {"given_name": "علیار"}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = patch(
        &app,
        &b,
        ID,
        json!({"base_version": 1, "changes": {"school_status": "dropped"}}),
    )
    .await;
    assert_eq!(r.status(), 200, "different fields merge");
    let merged: Value = r.json().await.unwrap();
    assert_eq!(merged["version"], 3);
    assert_eq!(merged["given_name"], "علیار");
    assert_eq!(merged["school_status"], "dropped");
    let r = patch(
        &app,
        &b,
        ID,
        json!({"base_version": 1, "changes": {"given_name": "علیرضا"}}),
    )
    .await;
    let p = problem(r, 409).await;
    let conflict = &p["conflicts"][0];
    assert_eq!(conflict["field"], "given_name");
    assert_eq!(conflict["stored"], "علیار");
    assert_eq!(conflict["yours"], "علیرضا");
    assert_eq!(p["stored"]["version"], 3);
    // Re-sending an update already applied changes nothing.
    let r = patch(
        &app,
        &a,
        ID,
        json!({"base_version": 1, "changes": {"given_name": "علیار"}}),
    )
    .await;
    let same: Value = r.json().await.unwrap();
    assert_eq!(same["version"], 3);
}

async fn status_changes_follow_the_lifecycle(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker(&app, "worker1", "IR-23").await;
    app.post(&w, "/api/v1/children", &child(ID, "IR-23")).await;
    let p = problem(
        patch(
            &app,
            &w,
            ID,
            json!({"base_version": 1, "changes": {"status": "in_service"}, "reason": "x"}),
        )
        .await,
        422,
    )
    .await;
    assert!(p["errors"]["status"].is_array(), "{p}");
    let p = problem(
        patch(
            &app,
            &w,
            ID,
            json!({"base_version": 1, "changes": {"status": "referred"}}),
        )
        .await,
        422,
    )
    .await;
    assert!(p["errors"]["reason"].is_array(), "{p}");
    let r = patch(&app, &w, ID, json!({"base_version": 1, "changes": {"status": "referred"}, "reason": "به مرکز مثبت زندگی"})).await;
    assert_eq!(r.status(), 200);
    let admin = app.admin_token().await;
    let audit: Value = app
        .get_json(
            &admin,
            &format!("/api/v1/audit?resource_type=child&resource_id={ID}"),
        )
        .await;
    let update = *with_action(&audit["items"], "child.update")
        .first()
        .expect("the transition is audited");
    assert_eq!(update["username"], "worker1");
}

async fn scope_confines_every_read_and_write(db: TestDb) {
    let app = TestApp::start(db).await;
    let tehran = worker(&app, "tehran", "IR-23").await;
    let fars = worker(&app, "fars", "IR-07").await;
    app.post(&tehran, "/api/v1/children", &child(ID, "IR-23"))
        .await;
    problem(app.get(&fars, &format!("/api/v1/children/{ID}")).await, 404).await;
    problem(
        app.get(&fars, &format!("/api/v1/children/{ID}/encounters"))
            .await,
        404,
    )
    .await;
    problem(
        patch(
            &app,
            &fars,
            ID,
            json!({"base_version": 1, "changes": {"given_name": "x"}}),
        )
        .await,
        404,
    )
    .await;
    problem(
        app.post(
            &fars,
            "/api/v1/children",
            &child("3b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f53", "IR-23"),
        )
        .await,
        403,
    )
    .await;
    let search: Value = app
        .get_json(&fars, &format!("/api/v1/children?q={}", urlencode("علی")))
        .await;
    assert!(
        search["items"].as_array().unwrap().is_empty(),
        "search stays in scope"
    );
    // Re-using another province's client id reveals nothing about that child.
    let p = problem(
        app.post(&fars, "/api/v1/children", &child(ID, "IR-07"))
            .await,
        409,
    )
    .await;
    assert!(p.get("stored").is_none(), "{p}");
    let own = app.get(&tehran, &format!("/api/v1/children/{ID}")).await;
    assert_eq!(own.status(), 200);
    let r = patch(
        &app,
        &tehran,
        ID,
        json!({"base_version": 1, "changes": {"home_province": "IR-07"}}),
    )
    .await;
    problem(r, 403).await;
}

async fn reads_are_audited(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker(&app, "reader", "IR-23").await;
    app.post(&w, "/api/v1/children", &child(ID, "IR-23")).await;
    app.get(&w, &format!("/api/v1/children/{ID}")).await;
    app.get(&w, "/api/v1/children?status=active").await;
    let admin = app.admin_token().await;
    let audit: Value = app
        .get_json(&admin, "/api/v1/audit?resource_type=child")
        .await;
    let actions: Vec<&str> = texts(&audit["items"], "action");
    assert_eq!(actions, ["child.search", "child.read", "child.create"]);
    assert_eq!(audit["items"][0]["detail"]["returned"][0], ID);
}

async fn encounters_are_idempotent_and_move_last_seen(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker(&app, "worker1", "IR-23").await;
    app.post(&w, "/api/v1/children", &child(ID, "IR-23")).await;
    let encounter = json!({
        "id": "4b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f54",
        "at": "2026-11-20T10:30:00Z", "lat": 35.6892, "lng": 51.389, "accuracy_m": 12.5,
        "activity": "street_vending", "accompanied_by_adult": false,
        "services": ["food", "counselling"], "notes": "سر چهارراه ولیعصر", "next_follow_up": "2026-12-01"
    });
    let path = format!("/api/v1/children/{ID}/encounters");
    assert_eq!(app.post(&w, &path, &encounter).await.status(), 201);
    assert_eq!(
        app.post(&w, &path, &encounter).await.status(),
        200,
        "a retry"
    );
    let mut later = encounter.clone();
    later["id"] = json!("5b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f55");
    later["at"] = json!("2026-11-22T08:00:00Z");
    assert_eq!(app.post(&w, &path, &later).await.status(), 201);
    let text = app.get(&w, &path).await.text().await.unwrap();
    // Read back as the API type too: each encounter names its `id` once
    // (serde refuses an object with the field twice).
    let typed: Vec<kudakyar_api::children::Encounter> = serde_json::from_str(&text).unwrap();
    assert_eq!(typed[1].id, "4b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f54");
    let list: Value = serde_json::from_str(&text).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "no duplicate from the retry");
    assert_eq!(list[0]["at"], "2026-11-22T08:00:00Z", "newest first");
    assert_eq!(list[0]["services"], json!(["food", "counselling"]));
    let c: Value = app.get_json(&w, &format!("/api/v1/children/{ID}")).await;
    assert_eq!(c["last_seen_at"], "2026-11-22T08:00:00Z");
    let recent: Value = app
        .get_json(&w, "/api/v1/children?seen_since=2026-11-21T00:00:00Z")
        .await;
    assert_eq!(recent["items"].as_array().unwrap().len(), 1);
}

async fn bad_input_names_the_field(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker(&app, "worker1", "IR-23").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("national_code", json!("0499370898"), "national_code"),
        ("sex", json!("boy"), "sex"),
        ("nationality", json!("martian"), "nationality"),
        ("given_name", json!("ن".repeat(101)), "given_name"),
        ("home_province", json!("IR-77"), "home_province"),
        (
            "birth",
            json!({"precision": "exact", "date": "2099-01-01"}),
            "birth.date",
        ),
        ("birth", json!({"precision": "year"}), "birth.year"),
        ("work_types", json!(["juggling"]), "work_types[0]"),
        ("id", json!("not-a-uuid"), "id"),
        ("favourite_colour", json!("blue"), "favourite_colour"),
    ];
    for (field, value, expected) in cases {
        let mut body = child("6b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f56", "IR-23");
        body[field] = value;
        let p = problem(app.post(&w, "/api/v1/children", &body).await, 422).await;
        assert!(p["errors"][expected].is_array(), "{field}: {p}");
    }
    app.post(&w, "/api/v1/children", &child(ID, "IR-23")).await;
    let path = format!("/api/v1/children/{ID}/encounters");
    let bad_encounters: Vec<(Value, &str)> = vec![
        (
            json!({"at": "2026-11-20T10:30:00Z", "lat": 91.0, "lng": 51.0}),
            "lat",
        ),
        (
            json!({"at": "2026-11-20T10:30:00Z", "lat": 35.0, "lng": -181.0}),
            "lng",
        ),
        (
            json!({"at": "2099-11-20T10:30:00Z", "lat": 35.0, "lng": 51.0}),
            "at",
        ),
        (json!({"at": "yesterday", "lat": 35.0, "lng": 51.0}), "at"),
        (
            json!({"at": "2026-11-20T10:30:00Z", "lat": 35.0, "lng": 51.0, "services": ["magic"]}),
            "services[0]",
        ),
    ];
    for (body, expected) in bad_encounters {
        let p = problem(app.post(&w, &path, &body).await, 422).await;
        assert!(p["errors"][expected].is_array(), "{expected}: {p}");
    }
    for (query, expected) in [
        ("code=23-1405-000123-0", "code"),
        ("status=lost", "status"),
        ("age_band=7-9", "age_band"),
        ("seen_since=last-week", "seen_since"),
    ] {
        let p = problem(app.get(&w, &format!("/api/v1/children?{query}")).await, 422).await;
        assert!(p["errors"][expected].is_array(), "{query}: {p}");
    }
    let p = problem(
        patch(
            &app,
            &w,
            ID,
            json!({"base_version": 1, "changes": {"registry_code": "x"}}),
        )
        .await,
        422,
    )
    .await;
    assert!(p["errors"]["registry_code"].is_array(), "{p}");
    let p = problem(
        patch(
            &app,
            &w,
            ID,
            json!({"base_version": 9, "changes": {"given_name": "x"}}),
        )
        .await,
        422,
    )
    .await;
    assert!(p["errors"]["base_version"].is_array(), "{p}");
    let p = problem(
        patch(
            &app,
            &w,
            ID,
            json!({"base_version": 1, "changes": {"sex": "boy"}}),
        )
        .await,
        422,
    )
    .await;
    assert!(p["errors"].is_object(), "{p}");
}

async fn filters_and_cursor_listing(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker(&app, "worker1", "IR-23").await;
    for i in 0..5 {
        let mut c = child(&format!("7b7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f6{i}"), "IR-23");
        c["sex"] = json!(if i % 2 == 0 { "female" } else { "male" });
        c["birth"] = json!({"precision": "estimated", "estimated_age": 3 + i * 3});
        app.post(&w, "/api/v1/children", &c).await;
    }
    let female: Value = app.get_json(&w, "/api/v1/children?sex=female").await;
    assert_eq!(female["items"].as_array().unwrap().len(), 3);
    let young: Value = app.get_json(&w, "/api/v1/children?age_band=0-5").await;
    assert_eq!(
        young["items"].as_array().unwrap().len(),
        1,
        "only the 3-year-old"
    );
    let vending: Value = app
        .get_json(&w, "/api/v1/children?work_type=street_vending")
        .await;
    assert_eq!(vending["items"].as_array().unwrap().len(), 5);
    let begging: Value = app.get_json(&w, "/api/v1/children?work_type=begging").await;
    assert!(begging["items"].as_array().unwrap().is_empty());
    let mut seen = Vec::new();
    let mut path = "/api/v1/children?limit=2".to_string();
    loop {
        let page: Value = app.get_json(&w, &path).await;
        seen.extend(texts(&page["items"], "id").into_iter().map(String::from));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/children?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "every record exactly once across pages");
}

async fn scoped_search_finds_its_own_beyond_the_candidate_cut(db: TestDb) {
    use futures::StreamExt;

    let app = TestApp::start(db).await;
    let admin = app.admin_token().await;
    // More children in another province share the name than a name search
    // ranks precisely; they all tie, and ours (the greatest id) sorts last.
    let elsewhere = kudakyar::registry::search::CANDIDATES as usize + 10;
    futures::stream::iter(0..elsewhere)
        .map(|_| {
            let mut c = child("", "IR-07");
            c.as_object_mut().unwrap().remove("id");
            c["home_county"] = json!("0701");
            let (app, admin) = (&app, &admin);
            async move { app.post(admin, "/api/v1/children", &c).await.status() }
        })
        .buffer_unordered(4)
        .for_each(|status| async move { assert_eq!(status, 201) })
        .await;
    const OURS: &str = "ffffffff-2a41-4d8e-9f3a-5c1b2d3e4f5f";
    let w = worker(&app, "tehran", "IR-23").await;
    let created = app
        .post(&w, "/api/v1/children", &child(OURS, "IR-23"))
        .await;
    assert_eq!(created.status(), 201);
    let search = |token: String| {
        let app = &app;
        async move {
            let url = format!("/api/v1/children?q={}", urlencode("علي رضايي"));
            let found: Value = app.get_json(&token, &url).await;
            texts(&found["items"], "id")
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(w.clone()).await,
        [OURS],
        "the province's own child, not cut by the others"
    );
    let everyone = search(admin.clone()).await;
    assert!(!everyone.is_empty() && !everyone.iter().any(|id| id == OURS));

    // A county scope narrows further.
    let (_, password) = app
        .add_user("county", "outreach_worker", Some("IR-23"), Some("2302"))
        .await;
    let county = app.login("county", &password).await;
    assert!(search(county).await.is_empty(), "another county's child");

    // A child that moves is found in its new province only.
    let moved = patch(
        &app,
        &admin,
        OURS,
        json!({"base_version": 1, "changes": {"home_province": "IR-11", "home_county": "1101"}}),
    )
    .await;
    assert_eq!(moved.status(), 200);
    assert!(search(w).await.is_empty(), "moved out of the province");
    let there = worker(&app, "isfahan", "IR-11").await;
    assert_eq!(search(there).await, [OURS], "found where it moved");
}

/// An `assigned_worker` that names no user is the client's mistake, said as
/// such: a 422 naming the field (a 500 made the outbox retry it for ever).
async fn assigned_worker_must_be_a_user(db: TestDb) {
    let app = TestApp::start(db).await;
    let (worker_id, w) = app
        .user_with_token("worker1", "outreach_worker", "IR-23")
        .await;
    let nobody = "9e000000-0000-4000-8000-000000000009";
    let mut body = child(ID, "IR-23");
    body["assigned_worker"] = json!(nobody);
    let p = problem(app.post(&w, "/api/v1/children", &body).await, 422).await;
    assert!(p["errors"]["assigned_worker"].is_array(), "{p}");
    body["assigned_worker"] = json!(worker_id);
    assert_eq!(app.post(&w, "/api/v1/children", &body).await.status(), 201);
    let p = problem(
        patch(
            &app,
            &w,
            ID,
            json!({"base_version": 1, "changes": {"assigned_worker": nobody}}),
        )
        .await,
        422,
    )
    .await;
    assert!(p["errors"]["assigned_worker"].is_array(), "{p}");
    let stored: Value = app.get_json(&w, &format!("/api/v1/children/{ID}")).await;
    assert_eq!(stored["assigned_worker"], json!(worker_id));
    assert_eq!(stored["version"], 1);
}
