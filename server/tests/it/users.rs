//! User administration and the access matrix: each endpoint × role × inside
//! or outside the caller's scope, on SQLite and PostgreSQL.

use crate::common::{TestApp, TestDb, problem, texts};
use serde_json::{Value, json};

on_both_backends!(
    access_matrix,
    provincial_staff_sees_only_their_province,
    supervisors_see_the_workers_of_their_area,
    usernames_are_unique,
    invalid_users_name_every_field,
    lists_paginate_with_cursors,
);

const ROLES: [&str; 4] = [
    "national_admin",
    "provincial_staff",
    "supervisor",
    "outreach_worker",
];

/// Logs in one user per role; all but the admin in IR-23 (Tehran).
async fn tokens(app: &TestApp) -> Vec<(&'static str, String)> {
    let mut out = vec![("national_admin", app.admin_token().await)];
    for role in &ROLES[1..] {
        let name = format!("{}_23", role.replace('_', ""));
        let (_, password) = app.add_user(&name, role, Some("IR-23"), None).await;
        out.push((role, app.login(&name, &password).await));
    }
    out
}

fn new_user(name: &str, role: &str, province: &str) -> Value {
    json!({"username": name, "password": "a long enough password", "role": role, "province": province})
}

async fn access_matrix(db: TestDb) {
    let app = TestApp::start(db).await;
    let callers = tokens(&app).await;
    // Expected status for [national_admin, provincial_staff, supervisor, outreach_worker].
    let reads: [(&str, [u16; 4]); 4] = [
        ("/api/v1/users", [200, 200, 200, 403]),
        ("/api/v1/users?province=IR-23", [200, 200, 200, 403]),
        ("/api/v1/users?province=IR-08", [200, 403, 403, 403]),
        ("/api/v1/audit", [200, 403, 403, 403]),
    ];
    for (path, expected) in reads {
        for ((role, token), want) in callers.iter().zip(expected) {
            let got = app.get(token, path).await.status().as_u16();
            assert_eq!(got, want, "GET {path} as {role}");
        }
    }
    let creates: [(&str, &str, [u16; 4]); 3] = [
        ("outreach_worker", "IR-23", [201, 201, 403, 403]),
        ("outreach_worker", "IR-08", [201, 403, 403, 403]),
        ("provincial_staff", "IR-23", [201, 403, 403, 403]),
    ];
    for (i, (role, province, expected)) in creates.into_iter().enumerate() {
        for (j, ((caller, token), want)) in callers.iter().zip(expected).enumerate() {
            let name = format!("new{i}{j}");
            let got = app
                .post(token, "/api/v1/users", &new_user(&name, role, province))
                .await
                .status()
                .as_u16();
            assert_eq!(got, want, "create {role} in {province} as {caller}");
        }
    }
    // Disabling: outside the scope looks like absence (404), not a hint.
    let disables: [(&str, [u16; 4]); 2] = [
        ("IR-23", [204, 204, 403, 403]),
        ("IR-08", [204, 404, 403, 403]),
    ];
    for (province, expected) in disables {
        for ((caller, token), want) in callers.iter().zip(expected) {
            let name = format!("target{}{}", &province[3..], caller.len());
            let (id, _) = app
                .add_user(&name, "outreach_worker", Some(province), None)
                .await;
            let got = app
                .post(token, &format!("/api/v1/users/{id}/disable"), &json!({}))
                .await
                .status()
                .as_u16();
            assert_eq!(got, want, "disable a worker of {province} as {caller}");
        }
    }
    // Every request without a token is 401, whatever the endpoint.
    for path in ["/api/v1/users", "/api/v1/audit", "/api/v1/auth/me"] {
        let response = app.get_anonymous(path).await;
        problem(response, 401).await;
    }
}

async fn provincial_staff_sees_only_their_province(db: TestDb) {
    let app = TestApp::start(db).await;
    app.add_user("w23", "outreach_worker", Some("IR-23"), Some("2301"))
        .await;
    app.add_user("s23", "supervisor", Some("IR-23"), None).await;
    app.add_user("w08", "outreach_worker", Some("IR-08"), None)
        .await;
    app.add_user("p23b", "provincial_staff", Some("IR-23"), None)
        .await;
    let staff = app.token_for("p23", "provincial_staff", "IR-23").await;
    let page: Value = app.get_json(&staff, "/api/v1/users").await;
    let names: Vec<&str> = texts(&page["items"], "username");
    assert_eq!(
        names,
        ["s23", "w23"],
        "own province's workers and supervisors only"
    );
    let denied = problem(app.get(&staff, "/api/v1/users?province=IR-08").await, 403).await;
    assert_eq!(denied["type"], "/problems/forbidden");
}

/// A county supervisor sees whom they can assign reports to: the outreach
/// workers and supervisors of their county and of their whole province,
/// nobody else.
async fn supervisors_see_the_workers_of_their_area(db: TestDb) {
    let app = TestApp::start(db).await;
    for (name, role, province, county) in [
        ("w2301", "outreach_worker", "IR-23", Some("2301")),
        ("s2301", "supervisor", "IR-23", Some("2301")),
        ("h2301", "hotline_operator", "IR-23", Some("2301")),
        ("p23", "provincial_staff", "IR-23", None),
        ("w2302", "outreach_worker", "IR-23", Some("2302")),
        ("w23", "outreach_worker", "IR-23", None),
        ("s23", "supervisor", "IR-23", None),
        ("w08", "outreach_worker", "IR-08", None),
        ("w0801", "outreach_worker", "IR-08", Some("0801")),
    ] {
        app.add_user(name, role, Some(province), county).await;
    }
    let (_, password) = app
        .add_user("me2301", "supervisor", Some("IR-23"), Some("2301"))
        .await;
    let me = app.login("me2301", &password).await;
    let page: Value = app.get_json(&me, "/api/v1/users").await;
    assert_eq!(
        texts(&page["items"], "username"),
        ["me2301", "s23", "s2301", "w23", "w2301"]
    );
    let denied = problem(app.get(&me, "/api/v1/users?province=IR-08").await, 403).await;
    assert_eq!(denied["type"], "/problems/forbidden");
    let worker = app
        .token_for("fieldworker", "outreach_worker", "IR-23")
        .await;
    problem(app.get(&worker, "/api/v1/users").await, 403).await;
}

async fn usernames_are_unique(db: TestDb) {
    let app = TestApp::start(db).await;
    let admin = app.admin_token().await;
    let first = app
        .post(
            &admin,
            "/api/v1/users",
            &new_user("sara", "supervisor", "IR-23"),
        )
        .await;
    assert_eq!(first.status(), 201);
    let again = app
        .post(
            &admin,
            "/api/v1/users",
            &new_user("Sara", "supervisor", "IR-23"),
        )
        .await;
    let p = problem(again, 422).await;
    assert!(p["errors"]["username"].is_array(), "{p}");
}

async fn invalid_users_name_every_field(db: TestDb) {
    let app = TestApp::start(db).await;
    let admin = app.admin_token().await;
    let body = json!({"username": "x", "password": "short", "role": "supervisor", "province": "IR-99", "county": "??"});
    let p = problem(app.post(&admin, "/api/v1/users", &body).await, 422).await;
    let mut fields: Vec<&str> = p["errors"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["county", "password", "province", "username"]);
    let bad_role = json!({"username": "abc", "password": "a long enough password", "role": "king", "province": "IR-01"});
    let p = problem(app.post(&admin, "/api/v1/users", &bad_role).await, 422).await;
    assert!(p["errors"]["role"].is_array(), "{p}");
    let p = problem(app.get(&admin, "/api/v1/users?limit=0").await, 422).await;
    assert!(p["errors"]["limit"].is_array(), "{p}");
    let p = problem(app.get(&admin, "/api/v1/users?cursor=%%%").await, 422).await;
    assert!(p["errors"].is_object(), "{p}");
    let p = problem(app.get(&admin, "/api/v1/users?provnce=IR-01").await, 422).await;
    assert!(p["errors"]["provnce"].is_array(), "{p}");
}

async fn lists_paginate_with_cursors(db: TestDb) {
    let app = TestApp::start(db).await;
    for i in 0..5 {
        app.add_user(&format!("user{i}"), "outreach_worker", Some("IR-05"), None)
            .await;
    }
    let admin = app.admin_token().await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?province=IR-05&limit=2".to_string();
    loop {
        let page: Value = app.get_json(&admin, &path).await;
        for u in page["items"].as_array().unwrap() {
            seen.push(u["username"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/users?province=IR-05&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["user0", "user1", "user2", "user3", "user4"]);
}
