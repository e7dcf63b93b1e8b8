//! Login, sessions and throttling over HTTP, on SQLite and PostgreSQL.

use crate::common::{TestApp, TestDb, problem};
use serde_json::{Value, json};

on_both_backends!(
    admin_logs_in_and_sees_itself,
    wrong_password_is_401_then_429,
    unknown_user_is_throttled_too,
    logout_revokes_the_token,
    disabled_user_cannot_log_in_and_loses_sessions,
    login_is_audited,
    audit_filters_and_pages,
);

async fn admin_logs_in_and_sees_itself(db: TestDb) {
    let app = TestApp::start(db).await;
    let response = app
        .login_response("Admin", crate::common::ADMIN_PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["user"]["username"], "admin",
        "usernames are case-insensitive"
    );
    assert_eq!(body["user"]["role"], "national_admin");
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 40, "token is long and random");
    let me: Value = app
        .get(token, "/api/v1/auth/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    assert!(me.get("password_hash").is_none());

    let no_token = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    problem(no_token, 401).await;
    problem(app.get("forged-token", "/api/v1/auth/me").await, 401).await;
}

async fn wrong_password_is_401_then_429(db: TestDb) {
    let app = TestApp::start_with(db, |c| c.login_max_failures_per_user = 3).await;
    for _ in 0..3 {
        let p = problem(app.login_response("admin", "wrong password").await, 401).await;
        assert_eq!(p["type"], "/problems/unauthorized");
    }
    let throttled = app.login_response("admin", "wrong password").await;
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry_after > 0 && retry_after <= 15 * 60,
        "Retry-After {retry_after}"
    );
    problem(throttled, 429).await;
    // While throttled even the right password is refused: guessing gains nothing.
    problem(
        app.login_response("admin", crate::common::ADMIN_PASSWORD)
            .await,
        429,
    )
    .await;
}

async fn unknown_user_is_throttled_too(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        c.login_max_failures_per_user = 100;
        c.login_max_failures_per_ip = 4;
    })
    .await;
    for i in 0..4 {
        problem(
            app.login_response(&format!("nobody{i}"), "whatever password")
                .await,
            401,
        )
        .await;
    }
    // The address is now throttled, whatever username it tries.
    problem(
        app.login_response("admin", crate::common::ADMIN_PASSWORD)
            .await,
        429,
    )
    .await;
}

async fn logout_revokes_the_token(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = app.admin_token().await;
    let other = app.admin_token().await;
    let response = app.post(&token, "/api/v1/auth/logout", &json!({})).await;
    assert_eq!(response.status(), 204);
    problem(app.get(&token, "/api/v1/auth/me").await, 401).await;
    assert_eq!(
        app.get(&other, "/api/v1/auth/me").await.status(),
        200,
        "other sessions live on"
    );
}

async fn disabled_user_cannot_log_in_and_loses_sessions(db: TestDb) {
    let app = TestApp::start(db).await;
    let (id, password) = app
        .add_user("worker1", "outreach_worker", Some("IR-23"), None)
        .await;
    let worker = app.login("worker1", &password).await;
    let admin = app.admin_token().await;
    let response = app
        .post(&admin, &format!("/api/v1/users/{id}/disable"), &json!({}))
        .await;
    assert_eq!(response.status(), 204);
    problem(app.get(&worker, "/api/v1/auth/me").await, 401).await;
    problem(app.login_response("worker1", &password).await, 401).await;
}

async fn login_is_audited(db: TestDb) {
    let app = TestApp::start(db).await;
    problem(app.login_response("admin", "not the password").await, 401).await;
    let token = app.admin_token().await;
    let page: Value = app
        .get(&token, "/api/v1/audit?resource_type=session")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["auth.login", "auth.login_failed"], "newest first");
    let first = &page["items"][0];
    assert_eq!(first["username"], "admin");
    assert_eq!(first["client_ip"], "127.0.0.1");
    assert!(first["request_id"].is_string());
}

async fn audit_filters_and_pages(db: TestDb) {
    let app = TestApp::start(db).await;
    let (worker_id, password) = app
        .add_user("pager1", "outreach_worker", Some("IR-01"), None)
        .await;
    for _ in 0..3 {
        app.login("pager1", &password).await;
    }
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    let mut path = format!("/api/v1/audit?user={worker_id}&limit=2");
    loop {
        let page: Value = app.get(&admin, &path).await.json().await.unwrap();
        for e in page["items"].as_array().unwrap() {
            assert_eq!(e["user_id"], worker_id.as_str());
            ids.push(e["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/audit?user={worker_id}&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), 3, "three logins, across two pages");
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
    let future: Value = app
        .get(&admin, "/api/v1/audit?from=2999-01-01T00:00:00Z")
        .await
        .json()
        .await
        .unwrap();
    assert!(future["items"].as_array().unwrap().is_empty());
    let p = problem(app.get(&admin, "/api/v1/audit?from=yesterday").await, 422).await;
    assert!(p["errors"]["from"].is_array(), "{p}");
    let p = problem(
        app.get(&admin, "/api/v1/audit?cursor=bm90LWEtbnVtYmVy")
            .await,
        422,
    )
    .await;
    assert!(p["errors"]["cursor"].is_array(), "{p}");
}
