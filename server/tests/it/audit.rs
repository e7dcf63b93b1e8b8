//! Every response that carries a child's facts is audited as a read of that
//! child, on SQLite and PostgreSQL: one test per route that used to answer
//! without an entry naming the child (the iris routes are in `iris.rs`).

use crate::common::{TestApp, TestDb, audit_entries, problem};
use serde_json::{Value, json};

on_both_backends!(
    a_no_op_update_is_a_read,
    an_update_conflict_shows_the_record_and_is_a_read,
    a_create_retry_or_conflict_is_a_read,
    a_referral_list_is_a_read,
    centre_suggestions_are_a_read,
);

const ID: &str = "0c7f6c5e-2a41-4d8e-9f3a-5c1b2d3e4f50";

/// A worker of IR-23 with one child, `ID`; returns the worker's token.
async fn worker_with_child(app: &TestApp, name: &str) -> String {
    let (_, password) = app
        .add_user(name, "outreach_worker", Some("IR-23"), None)
        .await;
    let token = app.login(name, &password).await;
    let created = app.post(&token, "/api/v1/children", &record("علی")).await;
    assert_eq!(created.status(), 201);
    token
}

fn record(given_name: &str) -> Value {
    json!({
        "id": ID, "given_name": given_name, "sex": "male", "nationality": "afghan",
        "home_province": "IR-23", "birth": {"precision": "estimated", "estimated_age": 11},
    })
}

async fn patch(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.patch(token, &format!("/api/v1/children/{ID}"), &body)
        .await
}

async fn a_no_op_update_is_a_read(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app, "worker1").await;
    let before = audit_entries(&app, "child.read", ID).await;
    let r = patch(
        &app,
        &w,
        json!({"base_version": 1, "changes": {"given_name": "علی"}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let shown: Value = r.json().await.unwrap();
    assert_eq!(shown["given_name"], "علی");
    assert_eq!(
        audit_entries(&app, "child.update", ID).await,
        0,
        "nothing changed"
    );
    assert_eq!(audit_entries(&app, "child.read", ID).await, before + 1);
}

async fn an_update_conflict_shows_the_record_and_is_a_read(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app, "worker1").await;
    let changed = patch(
        &app,
        &w,
        json!({"base_version": 1, "changes": {"given_name": "علیار"}}),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let r = patch(
        &app,
        &w,
        json!({"base_version": 1, "changes": {"given_name": "علیرضا"}}),
    )
    .await;
    let p = problem(r, 409).await;
    assert_eq!(p["stored"]["given_name"], "علیار", "{p:#}");
    assert_eq!(audit_entries(&app, "child.read_conflict", ID).await, 1);
}

async fn a_create_retry_or_conflict_is_a_read(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app, "worker1").await;
    let before = audit_entries(&app, "child.read", ID).await;
    let retry = app.post(&w, "/api/v1/children", &record("علی")).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(audit_entries(&app, "child.read", ID).await, before + 1);
    let p = problem(app.post(&w, "/api/v1/children", &record("حسن")).await, 409).await;
    assert_eq!(p["stored"]["given_name"], "علی");
    assert_eq!(audit_entries(&app, "child.read_conflict", ID).await, 1);
}

async fn a_referral_list_is_a_read(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app, "worker1").await;
    let r = app
        .get(&w, &format!("/api/v1/referrals?child_id={ID}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(audit_entries(&app, "referral.list", ID).await, 1);
}

async fn centre_suggestions_are_a_read(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app, "worker1").await;
    let r = app
        .get(&w, &format!("/api/v1/children/{ID}/centre-suggestions"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(audit_entries(&app, "centre.suggest", ID).await, 1);
}
