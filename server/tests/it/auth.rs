//! Login, sessions and throttling over HTTP, on SQLite and PostgreSQL.

use crate::common::{TestApp, TestDb, problem, texts, with_action};
use serde_json::{Value, json};

on_both_backends!(
    admin_logs_in_and_sees_itself,
    wrong_password_is_401_then_429,
    unknown_user_is_throttled_too,
    logout_revokes_the_token,
    disabled_user_cannot_log_in_and_loses_sessions,
    login_is_audited,
    audit_filters_and_pages,
    concurrent_wrong_logins_from_one_address_are_capped,
    concurrent_guesses_at_one_user_are_capped,
    a_stranger_cannot_lock_a_user_out,
    password_checks_are_bounded,
    forged_forwarded_for_entries_are_ignored,
);

/// Sends `n` logins at once; `each(i)` gives the i-th request's username and
/// `X-Forwarded-For` (if any). Returns the statuses.
async fn concurrent_logins(
    app: &TestApp,
    n: usize,
    each: impl Fn(usize) -> (String, Option<String>),
) -> Vec<u16> {
    let requests = (0..n).map(|i| {
        let (username, forwarded) = each(i);
        let mut request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": "a wrong password"}));
        if let Some(f) = forwarded {
            request = request.header("x-forwarded-for", f);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    });
    futures::future::join_all(requests).await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

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
    let me: Value = app.get_json(token, "/api/v1/auth/me").await;
    assert_eq!(me["username"], "admin");
    assert!(me.get("password_hash").is_none());

    let no_token = app.get_anonymous("/api/v1/auth/me").await;
    problem(no_token, 401).await;
    problem(app.get("forged-token", "/api/v1/auth/me").await, 401).await;
}

async fn wrong_password_is_401_then_429(db: TestDb) {
    let app = TestApp::start_with(db, |c| c.login_max_failures_per_user_and_ip = 3).await;
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
        .get_json(&token, "/api/v1/audit?resource_type=session")
        .await;
    let actions: Vec<&str> = texts(&page["items"], "action");
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
        let page: Value = app.get_json(&admin, &path).await;
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
        .get_json(&admin, "/api/v1/audit?from=2999-01-01T00:00:00Z")
        .await;
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

async fn concurrent_wrong_logins_from_one_address_are_capped(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        c.login_max_failures_per_ip = 4;
        // Enough turns that no request waits: every refusal here is the throttle's.
        c.login_max_concurrent_checks = 32;
    })
    .await;
    let statuses = concurrent_logins(&app, 24, |i| (format!("nobody{i}"), None)).await;
    assert!(
        count(&statuses, 401) <= 4,
        "at most the limit are checked: {statuses:?}"
    );
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 429),
        24,
        "{statuses:?}"
    );
}

async fn concurrent_guesses_at_one_user_are_capped(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        c.trust_forwarded_for = true;
        c.login_max_failures_per_user = 4;
        c.login_max_concurrent_checks = 32;
    })
    .await;
    // Each guess from its own address: only the per-user limit applies.
    let statuses = concurrent_logins(&app, 24, |i| {
        ("admin".into(), Some(format!("198.51.100.{}", i + 1)))
    })
    .await;
    assert!(
        count(&statuses, 401) <= 4,
        "at most the limit are checked: {statuses:?}"
    );
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 429),
        24,
        "{statuses:?}"
    );
}

async fn a_stranger_cannot_lock_a_user_out(db: TestDb) {
    let app = TestApp::start(db).await;
    // The attacker (127.0.0.1) exhausts the default limit for its own address…
    for _ in 0..5 {
        problem(app.login_response("admin", "a wrong password").await, 401).await;
    }
    problem(
        app.login_response("admin", crate::common::ADMIN_PASSWORD)
            .await,
        429,
    )
    .await;
    // …while the user, from another address, still logs in.
    let victim = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let response = victim
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": crate::common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn password_checks_are_bounded(db: TestDb) {
    let app = TestApp::start_with(db, |c| c.login_max_concurrent_checks = 2).await;
    let permits = app.state.password_checks.permits.clone();
    let held = permits.acquire_many(2).await.unwrap();
    let busy = app
        .login_response("admin", crate::common::ADMIN_PASSWORD)
        .await;
    assert!(busy.headers().contains_key("retry-after"));
    let p = problem(busy, 503).await;
    assert_eq!(p["type"], "/problems/busy");
    drop(held);
    // The refused attempt was not counted: the limit of five is all there.
    for _ in 0..5 {
        problem(app.login_response("admin", "a wrong password").await, 401).await;
    }
    problem(app.login_response("admin", "a wrong password").await, 429).await;
}

async fn forged_forwarded_for_entries_are_ignored(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        c.trust_forwarded_for = true;
        c.login_max_failures_per_ip = 5;
    })
    .await;
    // The client writes the leftmost entries; the proxy appends what it saw.
    let login = |i: usize| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("10.9.{i}.1, 203.0.113.7"))
            .json(&json!({"username": format!("nobody{i}"), "password": "a wrong password"}))
            .send()
    };
    for i in 0..5 {
        problem(login(i).await.unwrap(), 401).await;
    }
    problem(login(5).await.unwrap(), 429).await;
    let admin = app.admin_token().await;
    let page: Value = app
        .get_json(&admin, "/api/v1/audit?resource_type=session")
        .await;
    let failed: Vec<&Value> = with_action(&page["items"], "auth.login_failed");
    assert_eq!(failed.len(), 5);
    assert!(
        failed.iter().all(|e| e["client_ip"] == "203.0.113.7"),
        "{failed:?}"
    );
}
