//! Every write operation of the OpenAPI document under 50 concurrent
//! clients, on SQLite and PostgreSQL: once with 50 distinct bodies (50 phones
//! each sending their own) and once with 50 identical ones (one outbox
//! re-sending a request whose answer it never saw, the copies arriving
//! together). No answer may be a 5xx; each effect happens exactly once,
//! counted in the database afterwards; a copy answers like the first where
//! the API has a client id or key to recognise it by.
//!
//! [`CASES`] names, per write operation, the test that storms it: one of
//! this module, or the older one in [`crate::concurrency`] (child records,
//! encounters, referrals, merges, review decisions, photos, iris) or
//! elsewhere. A new write operation without a case fails
//! [`every_write_operation_has_a_case`] naming it.
//!
//! Requests go through the tests' client, which asks for gzip and br as a
//! browser does. Users are made straight in the database with one password
//! hash and a session each ([`crew`]): hashing 50 passwords through the API
//! would be most of the run.

use serde_json::{Value, json};

use crate::common::scene::JUNCTION;
use crate::common::{TestApp, TestDb};
use crate::concurrency::{N, count, fire, only};

on_both_backends!(
    reports,
    triage_steps,
    incident_splits_and_joins,
    inbox,
    push_subscriptions,
    fcm_tokens,
    sessions,
    user_administration,
    centres,
    dead_delivery_retries,
    photo_retries_and_iris_removals,
    review_decision_retries,
);

/// Which test storms each write operation, as (METHOD, path, test). The test
/// is named by a path the compiler checks.
macro_rules! cases {
    ($(($method:literal, $path:literal, $($test:ident)::+)),* $(,)?) => {
        /// Every write operation and the test that storms it.
        fn cases() -> Vec<(&'static str, &'static str, &'static str)> {
            vec![$({
                let _ = $($test)::+;
                ($method, $path, stringify!($($test)::+))
            }),*]
        }
    };
}

cases!(
    ("POST", "/api/v1/auth/login", sessions),
    ("POST", "/api/v1/auth/logout", sessions),
    ("POST", "/api/v1/users", user_administration),
    ("POST", "/api/v1/users/{id}/disable", user_administration),
    ("PUT", "/api/v1/users/{id}/phone", user_administration),
    (
        "POST",
        "/api/v1/children",
        crate::concurrency::child_creates_and_updates
    ),
    (
        "PATCH",
        "/api/v1/children/{id}",
        crate::concurrency::child_creates_and_updates
    ),
    (
        "POST",
        "/api/v1/children/{id}/encounters",
        crate::concurrency::encounter_creates
    ),
    // Distinct uploads: `concurrency::photo_uploads`; identical ones here.
    (
        "POST",
        "/api/v1/children/{id}/photos",
        photo_retries_and_iris_removals
    ),
    // Each capture is analysed for seconds in a debug build: 12 enrolments
    // at once, not 50 (`biometrics::capture` analyses two at a time).
    (
        "POST",
        "/api/v1/children/{id}/iris",
        crate::concurrency::iris_enrolments
    ),
    (
        "POST",
        "/api/v1/iris/identify",
        crate::concurrency::iris_enrolments
    ),
    (
        "POST",
        "/api/v1/registrations",
        crate::concurrency::iris_enrolments
    ),
    (
        "DELETE",
        "/api/v1/children/{id}/iris/{template_id}",
        photo_retries_and_iris_removals
    ),
    // Distinct and opposite decisions: `concurrency`; identical ones here.
    (
        "POST",
        "/api/v1/iris/reviews/{id}/decision",
        review_decision_retries
    ),
    (
        "POST",
        "/api/v1/children/{id}/merge",
        crate::concurrency::merges_and_undos
    ),
    (
        "POST",
        "/api/v1/merges/{id}/undo",
        crate::concurrency::merges_and_undos
    ),
    ("POST", "/api/v1/centres", centres),
    (
        "POST",
        "/api/v1/referrals",
        crate::concurrency::referral_creates_and_state_changes
    ),
    (
        "POST",
        "/api/v1/referrals/{id}/state",
        crate::concurrency::referral_creates_and_state_changes
    ),
    ("POST", "/api/v1/sightings", reports),
    ("POST", "/api/v1/sightings/{id}/assign", triage_steps),
    ("POST", "/api/v1/sightings/{id}/visit", triage_steps),
    ("POST", "/api/v1/sightings/{id}/link", triage_steps),
    ("POST", "/api/v1/sightings/{id}/close", triage_steps),
    (
        "POST",
        "/api/v1/incidents/{id}/split",
        incident_splits_and_joins
    ),
    (
        "POST",
        "/api/v1/incidents/{id}/join",
        incident_splits_and_joins
    ),
    ("POST", "/api/v1/notifications/{id}/read", inbox),
    ("POST", "/api/v1/notifications/read-all", inbox),
    ("PUT", "/api/v1/notifications/preferences", inbox),
    ("POST", "/api/v1/push/subscriptions", push_subscriptions),
    ("DELETE", "/api/v1/push/subscriptions", push_subscriptions),
    ("POST", "/api/v1/push/fcm-tokens", fcm_tokens),
    ("DELETE", "/api/v1/push/fcm-tokens", fcm_tokens),
    (
        "POST",
        "/api/v1/admin/notifications/dead/{id}/retry",
        dead_delivery_retries
    ),
    // Freezes need a year of figures on real boundaries; the atlas test
    // freezes concurrently with them.
    (
        "POST",
        "/api/v1/atlas/zones/freeze",
        crate::atlas::figures_equal_direct_counts_within_scope_and_privacy
    ),
);

#[test]
fn every_write_operation_has_a_case() {
    let cases = cases();
    let spec = crate::openapi::spec();
    let mut writes = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["post", "put", "patch", "delete"].contains(&method.as_str()) {
                writes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let missing: Vec<String> = writes
        .iter()
        .filter(|(m, p)| !cases.iter().any(|(cm, cp, _)| cm == m && cp == p))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "write operations no test storms with 50 concurrent clients \
         (add one to write_concurrency and name it in its CASES): {missing:#?}"
    );
    let stale: Vec<String> = cases
        .iter()
        .filter(|(m, p, _)| !writes.iter().any(|(wm, wp)| wm == m && wp == p))
        .map(|(m, p, t)| format!("{m} {p} ({t})"))
        .collect();
    assert!(
        stale.is_empty(),
        "cases of operations not documented: {stale:#?}"
    );
}

/// The app with the per-address report limits lifted (every client here is
/// 127.0.0.1), uploads uncapped, no delivery worker, and a centre in
/// Tehran's county 2301 to place reports by.
async fn app(db: TestDb) -> TestApp {
    app_with(db, |_| {}).await
}

/// [`app`] with more configuration.
async fn app_with(db: TestDb, configure: impl FnOnce(&mut kudakyar::config::Config)) -> TestApp {
    let app = TestApp::start_with(db, |c| {
        c.sighting_max_per_hour = 100_000;
        c.sighting_soft_limit_per_hour = 100_000;
        c.max_concurrent_uploads = N;
        c.notify_workers = 0;
        c.notify_scheduler = false;
        c.push_allow_local_http = true;
        configure(c);
    })
    .await;
    let admin = app.admin_token().await;
    let centre = json!({"name": "مرکز مولوی", "lat": JUNCTION.0, "lng": JUNCTION.1,
                        "province": "IR-23", "county": "2301"});
    assert_eq!(
        app.post(&admin, "/api/v1/centres", &centre).await.status(),
        201
    );
    app
}

/// The password of every [`crew`] member.
const CREW_PASSWORD: &str = "crew member password";

/// `n` users of `role` in Tehran's county 2301, stored with one password
/// hash between them, each with a session: (id, token).
async fn crew(app: &TestApp, name: &str, n: usize, role: &str) -> Vec<(String, String)> {
    let hash = kudakyar::auth::password::hash(CREW_PASSWORD).unwrap();
    let role = kudakyar_api::users::Role::parse(role).unwrap();
    let county = matches!(
        role,
        kudakyar_api::users::Role::OutreachWorker | kudakyar_api::users::Role::Supervisor
    )
    .then(|| "2301".to_string());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let new = kudakyar_api::users::NewUser {
            username: format!("{name}{i}"),
            password: String::new(),
            display_name: None,
            role,
            province: Some("IR-23".into()),
            county: county.clone(),
        };
        let user = kudakyar::users::store::insert(app.state.db.pool(), &new, &hash, None)
            .await
            .unwrap();
        let (token, _) = kudakyar::auth::session::create(&app.state.db, &user.id, 3_600_000, None)
            .await
            .unwrap();
        out.push((user.id, token));
    }
    out
}

/// A JSON request as the holder of `token` (`""`: without a login).
fn request(
    app: &TestApp,
    method: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let request = app.client.request(method, app.url(path)).json(body);
    if token.is_empty() {
        request
    } else {
        request.bearer_auth(token)
    }
}

/// The same request `N` times.
fn copies(
    app: &TestApp,
    method: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> Vec<reqwest::RequestBuilder> {
    (0..N)
        .map(|_| request(app, method, token, path, body))
        .collect()
}

/// A number from the database (a `COUNT(*)`), `bind` bound to `$1` if the
/// query has it.
async fn scalar(app: &TestApp, sql: &str, bind: &str) -> i64 {
    let query = sqlx::query_scalar(sql);
    let query = if sql.contains("$1") {
        query.bind(bind)
    } else {
        query
    };
    query.fetch_one(app.state.db.pool()).await.unwrap()
}

/// Every answer carries the same value at `field`.
fn all_alike(answers: &[(u16, Value)], field: &str, what: &str) {
    let first = &answers[0].1[field];
    assert!(!first.is_null(), "{what}: no {field} in {:#}", answers[0].1);
    for (_, body) in answers {
        assert_eq!(&body[field], first, "{what}: the copies answer alike");
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A citizen's report `step` × 10 m north of Tehran's junction.
fn report(id: &str, step: usize) -> Value {
    json!({"id": id, "lat": JUNCTION.0 + 0.0001 * step as f64, "lng": JUNCTION.1,
           "children_count": 1, "activity": "selling_flowers_or_poems"})
}

/// `n` citizens' reports sent at once (a crowd reporting); their ids.
async fn reports_at_once(app: &TestApp, n: usize, spread: f64) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|_| new_id()).collect();
    let answers = fire(
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                let mut body = report(id, 0);
                body["lat"] = (JUNCTION.0 + spread * i as f64).into();
                request(app, "POST", "", "/api/v1/sightings", &body)
            })
            .collect(),
    )
    .await;
    only(&answers, &[201], "reports made for a test");
    ids
}

async fn reports(db: TestDb) {
    let app = app(db).await;
    let distinct = fire(
        (0..N)
            .map(|i| request(&app, "POST", "", "/api/v1/sightings", &report(&new_id(), i)))
            .collect(),
    )
    .await;
    only(&distinct, &[201], "distinct citizens' reports");
    let same = report(&new_id(), 0);
    let identical = fire(copies(&app, "POST", "", "/api/v1/sightings", &same)).await;
    only(
        &identical,
        &[200, 201],
        "one citizen's report sent many times",
    );
    assert_eq!(count(&identical, 201), 1, "stored once");
    all_alike(&identical, "receipt_code", "one report");
    // A worker's report re-sent by the outbox.
    let worker = crew(&app, "worker", 1, "outreach_worker").await.remove(0).1;
    let mut field = report(&new_id(), 1);
    field["source"] = "worker".into();
    let resent = fire(copies(&app, "POST", &worker, "/api/v1/sightings", &field)).await;
    only(&resent, &[200, 201], "one worker's report sent many times");
    assert_eq!(count(&resent, 201), 1);
    all_alike(&resent, "receipt_code", "one worker's report");
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM sightings", "").await,
        N as i64 + 2
    );
}

/// One triage step storm: `N` reports each stepped once, then one report
/// stepped by `N` copies; every answer 200 and each step recorded once.
async fn step_storm(
    app: &TestApp,
    token: &str,
    step: &str,
    body: &Value,
    reports: &[String],
    state: &str,
) {
    let path = |id: &str| format!("/api/v1/sightings/{id}/{step}");
    let distinct = fire(
        reports[..N]
            .iter()
            .map(|id| request(app, "POST", token, &path(id), body))
            .collect(),
    )
    .await;
    only(&distinct, &[200], &format!("{step} of distinct reports"));
    let once = &reports[N];
    let identical = fire(copies(app, "POST", token, &path(once), body)).await;
    only(&identical, &[200], &format!("one {step} sent many times"));
    all_alike(&identical, "state", step);
    all_alike(&identical, "history", step);
    assert_eq!(identical[0].1["state"], state);
    for id in reports {
        let sql = "SELECT COUNT(*) FROM sighting_events WHERE sighting_id = $1 AND state = ";
        let steps = scalar(app, &format!("{sql}'{state}'"), id).await;
        assert_eq!(steps, 1, "{step} of {id} recorded once");
    }
}

async fn triage_steps(db: TestDb) {
    let app = app(db).await;
    let admin = app.admin_token().await;
    let (worker_id, worker) = crew(&app, "worker", 1, "outreach_worker").await.remove(0);
    let child = new_id();
    let body = json!({"id": child, "given_name": "رضا", "sex": "male", "nationality": "iranian",
                      "home_province": "IR-23", "home_county": "2301"});
    assert_eq!(
        app.post(&admin, "/api/v1/children", &body).await.status(),
        201
    );
    let assign = json!({"worker_id": worker_id});

    let fresh = reports_at_once(&app, N + 1, 0.0001).await;
    step_storm(&app, &admin, "assign", &assign, &fresh, "assigned").await;
    let fresh = reports_at_once(&app, N + 1, 0.0001).await;
    step_storm(
        &app,
        &admin,
        "close",
        &json!({"reason": "false_report"}),
        &fresh,
        "false_report",
    )
    .await;
    // Visits and links are the assignee's.
    for (step, body, state) in [
        ("visit", json!({"outcome": "found"}), "visited"),
        ("link", json!({"child_ids": [child]}), "linked"),
    ] {
        let fresh = reports_at_once(&app, N + 1, 0.0001).await;
        let assigned = fire(
            fresh
                .iter()
                .map(|id| {
                    request(
                        &app,
                        "POST",
                        &admin,
                        &format!("/api/v1/sightings/{id}/assign"),
                        &assign,
                    )
                })
                .collect(),
        )
        .await;
        only(&assigned, &[200], "assignments made for a test");
        step_storm(&app, &worker, step, &body, &fresh, state).await;
    }
}

async fn incident_splits_and_joins(db: TestDb) {
    let app = app(db).await;
    let admin = app.admin_token().await;
    // Pairs of reports 10 m apart, the pairs 5 km apart: an incident each.
    let mut pairs = Vec::new();
    for i in 0..=N {
        let mut two = Vec::new();
        for step in 0..2 {
            let id = new_id();
            let mut body = report(&id, step);
            body["lat"] = (JUNCTION.0 + 0.05 * (i % 10) as f64 + 0.0001 * step as f64).into();
            body["lng"] = (JUNCTION.1 + 0.05 * (i / 10) as f64).into();
            let r = request(&app, "POST", "", "/api/v1/sightings", &body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            two.push(id);
        }
        let stored = app
            .get_json(&admin, &format!("/api/v1/sightings/{}", two[0]))
            .await;
        let incident = stored["incident_id"].as_str().unwrap().to_string();
        let other = app
            .get_json(&admin, &format!("/api/v1/sightings/{}", two[1]))
            .await;
        assert_eq!(
            other["incident_id"],
            incident.as_str(),
            "a pair is one incident"
        );
        pairs.push((incident, two[1].clone()));
    }
    let incidents = "SELECT COUNT(DISTINCT incident_id) FROM sightings";
    assert_eq!(scalar(&app, incidents, "").await, N as i64 + 1);
    let split = |(incident, moving): &(String, String)| {
        request(
            &app,
            "POST",
            &admin,
            &format!("/api/v1/incidents/{incident}/split"),
            &json!({"sighting_ids": [moving]}),
        )
    };
    let distinct = fire(pairs[..N].iter().map(&split).collect()).await;
    only(&distinct, &[200], "splits of distinct incidents");
    let identical = fire((0..N).map(|_| split(&pairs[N])).collect()).await;
    only(&identical, &[200], "one split sent many times");
    all_alike(&identical, "id", "one split");
    assert_eq!(
        scalar(&app, incidents, "").await,
        2 * (N as i64 + 1),
        "one new incident per split"
    );

    let join = |i: usize, answers: &[(u16, Value)]| {
        let (incident, _) = &pairs[i];
        request(
            &app,
            "POST",
            &admin,
            &format!("/api/v1/incidents/{incident}/join"),
            &json!({"incident_ids": [answers[i.min(answers.len() - 1)].1["id"]]}),
        )
    };
    let distinct = fire((0..N).map(|i| join(i, &distinct)).collect()).await;
    only(&distinct, &[200], "joins of distinct incidents");
    let identical = fire((0..N).map(|_| join(N, &identical[..1])).collect()).await;
    // Joined once; a copy finds the incident it names already joined (409),
    // or gone (422 naming `incident_ids`).
    only(&identical, &[200, 409, 422], "one join sent many times");
    assert_eq!(count(&identical, 200), 1, "{identical:?}");
    assert_eq!(
        scalar(&app, incidents, "").await,
        N as i64 + 1,
        "every split joined back"
    );
}

/// A notification of `user` in their inbox, stored straight (what the
/// domain events would make); its id.
async fn notification(app: &TestApp, user: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO notifications (user_id, kind, critical, subject_type, subject_id,
            domain_event_id, created_at)
         VALUES ($1, 'sighting_assigned', 0, 'sighting', 'x', $2, $3)
         RETURNING id",
    )
    .bind(user)
    .bind(event(app).await)
    .bind(kudakyar::now_ms())
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
}

/// A domain event for notifications to point at.
async fn event(app: &TestApp) -> i64 {
    let existing: Option<i64> = sqlx::query_scalar("SELECT MIN(id) FROM domain_events")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    if let Some(id) = existing {
        return id;
    }
    let r = request(app, "POST", "", "/api/v1/sightings", &report(&new_id(), 0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    Box::pin(event(app)).await
}

async fn inbox(db: TestDb) {
    let app = app(db).await;
    let team = crew(&app, "worker", N, "outreach_worker").await;
    let (me, token) = &team[0];
    let mut mine = Vec::new();
    for _ in 0..=N {
        mine.push(notification(&app, me).await);
    }
    let read = |id: &i64| {
        request(
            &app,
            "POST",
            token,
            &format!("/api/v1/notifications/{id}/read"),
            &json!({}),
        )
    };
    let distinct = fire(mine[..N].iter().map(&read).collect()).await;
    only(&distinct, &[200], "distinct notifications read");
    let identical = fire((0..N).map(|_| read(&mine[N])).collect()).await;
    only(&identical, &[200], "one notification read many times");
    all_alike(&identical, "read_at", "one notification");
    let unread = "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL";
    assert_eq!(scalar(&app, unread, me).await, 0);

    // Read-all: every user's at once, then one user's many times.
    for (user, _) in &team {
        notification(&app, user).await;
    }
    let all = |token: &String| {
        request(
            &app,
            "POST",
            token,
            "/api/v1/notifications/read-all",
            &json!({}),
        )
    };
    let distinct = fire(team.iter().map(|(_, t)| all(t)).collect()).await;
    only(&distinct, &[200], "every user's read-all");
    for (_, body) in &distinct {
        assert_eq!(body["marked"], 1, "{body}");
    }
    for _ in 0..3 {
        notification(&app, me).await;
    }
    let identical = fire((0..N).map(|_| all(token)).collect()).await;
    only(&identical, &[200], "one read-all sent many times");
    let marked: i64 = identical
        .iter()
        .map(|(_, b)| b["marked"].as_i64().unwrap())
        .sum();
    assert_eq!(marked, 3, "each notification marked once: {identical:?}");
    let unread_all = "SELECT COUNT(*) FROM notifications WHERE read_at IS NULL";
    assert_eq!(scalar(&app, unread_all, "").await, 0);

    // Preferences: every user's own, then one user's many times.
    let prefs = |i: usize| json!({"muted_kinds": [], "quiet_hours": null, "quiet_friday": i.is_multiple_of(2), "digest": false});
    let path = "/api/v1/notifications/preferences";
    let distinct = fire(
        team.iter()
            .enumerate()
            .map(|(i, (_, t))| request(&app, "PUT", t, path, &prefs(i)))
            .collect(),
    )
    .await;
    only(&distinct, &[200], "every user's preferences");
    let identical = fire(copies(&app, "PUT", token, path, &prefs(1))).await;
    only(&identical, &[200], "one user's preferences sent many times");
    for (i, (_, t)) in team.iter().enumerate() {
        let want = if i == 0 { prefs(1) } else { prefs(i) };
        assert_eq!(app.get_json(t, path).await, want, "user {i}'s preferences");
    }
    let rows = "SELECT COUNT(*) FROM notification_preferences";
    assert_eq!(scalar(&app, rows, "").await, N as i64, "a row per user");
}

fn subscription(n: usize) -> Value {
    json!({"endpoint": format!("http://127.0.0.1:9/push/{n}"),
           "keys": {"p256dh": crate::notify_delivery::browser().p256dh, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}})
}

/// Adds `N` distinct devices and one device `N` times, removes them the
/// same way; `rows` counts the caller's devices.
async fn device_storm(
    app: &TestApp,
    token: &str,
    path: &str,
    bodies: &[Value],
    removal: &[Value],
    rows: &str,
    user: &str,
) {
    let distinct = fire(
        bodies[..N]
            .iter()
            .map(|b| request(app, "POST", token, path, b))
            .collect(),
    )
    .await;
    only(&distinct, &[201], "distinct devices added");
    let identical = fire(copies(app, "POST", token, path, &bodies[N])).await;
    only(&identical, &[200, 201], "one device added many times");
    assert_eq!(count(&identical, 201), 1);
    all_alike(&identical, "id", "one device");
    assert_eq!(scalar(app, rows, user).await, N as i64 + 1);
    let distinct = fire(
        removal[..N]
            .iter()
            .map(|b| request(app, "DELETE", token, path, b))
            .collect(),
    )
    .await;
    only(&distinct, &[204], "distinct devices removed");
    // Removing one device many times: removed once; the copies find it gone.
    let identical = fire(copies(app, "DELETE", token, path, &removal[N])).await;
    only(&identical, &[204, 404], "one device removed many times");
    assert_eq!(count(&identical, 204), 1);
    assert_eq!(scalar(app, rows, user).await, 0);
}

async fn push_subscriptions(db: TestDb) {
    let app = app(db).await;
    let (me, token) = crew(&app, "worker", 1, "outreach_worker").await.remove(0);
    let bodies: Vec<Value> = (0..=N).map(subscription).collect();
    let removal: Vec<Value> = bodies
        .iter()
        .map(|b| json!({"endpoint": b["endpoint"]}))
        .collect();
    let rows = "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1";
    device_storm(
        &app,
        &token,
        "/api/v1/push/subscriptions",
        &bodies,
        &removal,
        rows,
        &me,
    )
    .await;
}

async fn fcm_tokens(db: TestDb) {
    let f = crate::notify_fcm::fcm_scene(db, 3600).await;
    let s = &f.s;
    let bodies: Vec<Value> = (0..=N as u32)
        .map(|n| json!({"token": crate::notify_fcm::device(n)}))
        .collect();
    let rows = "SELECT COUNT(*) FROM fcm_tokens WHERE user_id = $1";
    device_storm(
        &s.app,
        &s.worker,
        "/api/v1/push/fcm-tokens",
        &bodies,
        &bodies,
        rows,
        &s.worker_id,
    )
    .await;
}

async fn sessions(db: TestDb) {
    // Each phone from its own address, as behind the deployment's proxy.
    let app = app_with(db, |c| c.trust_forwarded_for = true).await;
    let team = crew(&app, "worker", N, "outreach_worker").await;
    let login = |user: usize, phone: usize| {
        request(
            &app,
            "POST",
            "",
            "/api/v1/auth/login",
            &json!({"username": format!("worker{user}"), "password": CREW_PASSWORD}),
        )
        .header("x-forwarded-for", format!("198.51.100.{}", phone + 1))
    };
    let distinct = fire((0..N).map(|i| login(i, i)).collect()).await;
    // 503 "busy" is the one 5xx let through, and only here: a login waits at
    // most 2 s for a turn at the argon2 checks (`auth::routes`), which 50 at
    // once on two loaded cores may exceed. It stores nothing.
    only(&distinct, &[200, 503], "distinct users logging in");
    assert!(count(&distinct, 200) > 0, "{distinct:?}");
    let token = distinct_token(&distinct);
    // One phone logging in many times at once: each login let through is a
    // session of its own (a login has no client id); the throttle may hold
    // back the rest of the burst.
    let identical = fire((0..N).map(|_| login(0, 0)).collect()).await;
    only(
        &identical,
        &[200, 429, 503],
        "one user logging in many times",
    );
    let sessions = "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL";
    let live = scalar(&app, sessions, "").await;
    // The crew's own sessions, the admin's, and one per login answered.
    let answered = count(&distinct, 200) + count(&identical, 200);
    assert_eq!(live, N as i64 + 1 + answered as i64);
    let logout = |token: &String| request(&app, "POST", token, "/api/v1/auth/logout", &json!({}));
    let distinct = fire(team.iter().map(|(_, t)| logout(t)).collect()).await;
    only(&distinct, &[204], "distinct sessions ended");
    let identical = fire((0..N).map(|_| logout(&token)).collect()).await;
    // The copies after the first find the session ended.
    only(&identical, &[204, 401], "one session ended many times");
    assert!(count(&identical, 204) >= 1, "{identical:?}");
    assert_eq!(scalar(&app, sessions, "").await, live - N as i64 - 1);
}

/// The token of the first login answered.
fn distinct_token(answers: &[(u16, Value)]) -> String {
    let (_, body) = answers.iter().find(|(s, _)| *s == 200).unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn user_administration(db: TestDb) {
    let app = app(db).await;
    let admin = app.admin_token().await;
    let new = |i: usize| {
        json!({"username": format!("new{i}"), "password": CREW_PASSWORD,
                                "role": "outreach_worker", "province": "IR-23", "county": "2301"})
    };
    let distinct = fire(
        (0..N)
            .map(|i| request(&app, "POST", &admin, "/api/v1/users", &new(i)))
            .collect(),
    )
    .await;
    only(&distinct, &[201], "distinct users created");
    // A user has no client id: copies of one create are told the username is taken.
    let identical = fire(copies(&app, "POST", &admin, "/api/v1/users", &new(N))).await;
    only(&identical, &[201, 409, 422], "one user created many times");
    assert_eq!(count(&identical, 201), 1, "{identical:?}");
    let users = "SELECT COUNT(*) FROM users WHERE username LIKE 'new%'";
    assert_eq!(scalar(&app, users, "").await, N as i64 + 1);

    let ids: Vec<String> = distinct
        .iter()
        .map(|(_, u)| u["id"].as_str().unwrap().to_string())
        .collect();
    let phone = |id: &String, i: usize| {
        request(
            &app,
            "PUT",
            &admin,
            &format!("/api/v1/users/{id}/phone"),
            &json!({"phone": format!("0912{i:07}")}),
        )
    };
    let distinct = fire(ids.iter().enumerate().map(|(i, id)| phone(id, i)).collect()).await;
    only(&distinct, &[200], "distinct phones set");
    let identical = fire((0..N).map(|_| phone(&ids[0], 7)).collect()).await;
    only(&identical, &[200], "one phone set many times");
    all_alike(&identical, "phone", "one phone");

    let disable = |id: &String| {
        request(
            &app,
            "POST",
            &admin,
            &format!("/api/v1/users/{id}/disable"),
            &json!({}),
        )
    };
    let distinct = fire(ids.iter().map(&disable).collect()).await;
    only(&distinct, &[204], "distinct users disabled");
    let last = identical_user(&app, N).await;
    let identical = fire((0..N).map(|_| disable(&last)).collect()).await;
    only(&identical, &[204], "one user disabled many times");
    let disabled = "SELECT COUNT(*) FROM users WHERE disabled_at IS NOT NULL";
    assert_eq!(scalar(&app, disabled, "").await, N as i64 + 1);
    let audited =
        "SELECT COUNT(*) FROM audit_log WHERE action = 'user.disable' AND resource_id = $1";
    assert_eq!(scalar(&app, audited, &last).await, 1, "disabled once");
}

async fn identical_user(app: &TestApp, i: usize) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(format!("new{i}"))
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn centres(db: TestDb) {
    let app = app(db).await;
    let admin = app.admin_token().await;
    let centre = |i: usize| json!({"name": format!("مرکز {i}"), "lat": 35.7, "lng": 51.4, "province": "IR-23"});
    let distinct = fire(
        (0..N)
            .map(|i| request(&app, "POST", &admin, "/api/v1/centres", &centre(i)))
            .collect(),
    )
    .await;
    only(&distinct, &[201], "distinct centres");
    // A centre has no client id: each answered create is a centre.
    let identical = fire(copies(&app, "POST", &admin, "/api/v1/centres", &centre(N))).await;
    only(&identical, &[201], "one centre sent many times");
    let rows = scalar(&app, "SELECT COUNT(*) FROM centres", "").await;
    assert_eq!(rows, 1 + N as i64 + count(&identical, 201) as i64);
}

async fn dead_delivery_retries(db: TestDb) {
    let app = app(db).await;
    let admin = app.admin_token().await;
    let (me, _) = crew(&app, "worker", 1, "outreach_worker").await.remove(0);
    let mut dead = Vec::new();
    for _ in 0..=N {
        let notification = notification(&app, &me).await;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO deliveries (notification_id, channel, target, state, attempts,
                next_attempt_at, idempotency_key, last_error, created_at)
             VALUES ($1, 'sms', $2, 'dead', 8, $3, $4, 'gone', $3)
             RETURNING id",
        )
        .bind(notification)
        .bind(&me)
        .bind(kudakyar::now_ms())
        .bind(new_id())
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        dead.push(id);
    }
    let retry = |id: &i64| {
        request(
            &app,
            "POST",
            &admin,
            &format!("/api/v1/admin/notifications/dead/{id}/retry"),
            &json!({}),
        )
    };
    let distinct = fire(dead[..N].iter().map(&retry).collect()).await;
    only(&distinct, &[200], "distinct retries");
    // Queued again once; the copies find it no longer dead.
    let identical = fire((0..N).map(|_| retry(&dead[N])).collect()).await;
    only(&identical, &[200, 404], "one retry sent many times");
    assert_eq!(count(&identical, 200), 1, "{identical:?}");
    let queued = "SELECT COUNT(*) FROM deliveries WHERE state = 'queued' AND attempts = 0";
    assert_eq!(scalar(&app, queued, "").await, N as i64 + 1);
}

async fn photo_retries_and_iris_removals(db: TestDb) {
    let app = app(db).await;
    let admin = app.admin_token().await;
    let (admin_id, _) = crew(&app, "supervisor", 1, "supervisor").await.remove(0);
    let child = new_id();
    let body = json!({"id": child, "given_name": "رضا", "sex": "male", "nationality": "iranian",
                      "home_province": "IR-23", "home_county": "2301"});
    assert_eq!(
        app.post(&admin, "/api/v1/children", &body).await.status(),
        201
    );
    let file = crate::photos::jpeg(40, 30);
    let photo = new_id();
    let upload = || {
        let form = reqwest::multipart::Form::new()
            .text("id", photo.clone())
            .part(
                "photo",
                reqwest::multipart::Part::bytes(file.clone())
                    .file_name("p.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        app.client
            .post(app.url(&format!("/api/v1/children/{child}/photos")))
            .bearer_auth(&admin)
            .multipart(form)
    };
    let identical = fire((0..N).map(|_| upload()).collect()).await;
    only(&identical, &[200, 201], "one photo sent many times");
    assert_eq!(count(&identical, 201), 1);
    all_alike(&identical, "id", "one photo");
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM child_photos", "").await,
        1
    );

    // Iris templates, stored straight (an enrolment analyses for seconds).
    let mut templates = Vec::new();
    for _ in 0..=N {
        let id = new_id();
        sqlx::query(
            "INSERT INTO iris_templates (id, child_id, eye, sealed_template, key_id,
                capture_sha256, quality, engine_version, created_by, created_at)
             VALUES ($1, $2, 'left', $3, 'test', $1, '{}', 'test', $4, $5)",
        )
        .bind(&id)
        .bind(&child)
        .bind(vec![0_u8; 16])
        .bind(&admin_id)
        .bind(kudakyar::now_ms())
        .execute(app.state.db.pool())
        .await
        .unwrap();
        templates.push(id);
    }
    let remove = |id: &String| {
        app.client
            .delete(app.url(&format!("/api/v1/children/{child}/iris/{id}")))
            .bearer_auth(&admin)
    };
    let distinct = fire(templates[..N].iter().map(&remove).collect()).await;
    only(&distinct, &[204], "distinct templates removed");
    let identical = fire((0..N).map(|_| remove(&templates[N])).collect()).await;
    only(&identical, &[204, 404], "one template removed many times");
    assert_eq!(count(&identical, 204), 1, "{identical:?}");
    let left = "SELECT COUNT(*) FROM iris_templates WHERE removed_at IS NULL";
    assert_eq!(scalar(&app, left, "").await, 0);
}

async fn review_decision_retries(db: TestDb) {
    let app = app(db).await;
    let (worker_id, worker) = crew(&app, "worker", 1, "outreach_worker").await.remove(0);
    let (_, supervisor) = crew(&app, "supervisor", 1, "supervisor").await.remove(0);
    let mut kids = Vec::new();
    for i in 0..2 {
        let id = new_id();
        let body = json!({"id": id, "given_name": format!("کودک {i}"), "sex": "male",
                          "nationality": "afghan", "home_province": "IR-23", "home_county": "2301"});
        assert_eq!(
            app.post(&worker, "/api/v1/children", &body).await.status(),
            201
        );
        kids.push(id);
    }
    let review = new_id();
    crate::concurrency::open_review(&app, &review, &kids[1], &kids[0], &worker_id).await;
    let path = format!("/api/v1/iris/reviews/{review}/decision");
    let identical = fire(copies(
        &app,
        "POST",
        &supervisor,
        &path,
        &json!({"decision": "same_child"}),
    ))
    .await;
    only(&identical, &[200, 409], "one decision sent many times");
    assert_eq!(count(&identical, 200), 1, "decided once: {identical:?}");
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM child_merges", "").await,
        1,
        "merged once"
    );
}
