//! Exports over HTTP, on SQLite and PostgreSQL: scope, CSV for spreadsheets,
//! JSON Lines, encounters, audit.

use crate::common::{TestApp, TestDb, problem};
use serde_json::{Value, json};

on_both_backends!(exports_stay_in_scope_and_open_in_spreadsheets);

async fn exports_stay_in_scope_and_open_in_spreadsheets(db: TestDb) {
    let app = TestApp::start(db).await;
    let (_, password) = app
        .add_user("tehran1", "outreach_worker", Some("IR-23"), None)
        .await;
    let tehran = app.login("tehran1", &password).await;
    let (_, password) = app
        .add_user("fars1", "outreach_worker", Some("IR-07"), None)
        .await;
    let fars = app.login("fars1", &password).await;
    let body = |id: &str, name: &str, province: &str| {
        json!({"id": id, "given_name": name, "aliases": ["کوچولو, گل‌فروش"], "sex": "female",
               "nationality": "iranian", "home_province": province, "work_types": ["begging"]})
    };
    let a = "c0000000-0000-4000-8000-000000000001";
    app.post(&tehran, "/api/v1/children", &body(a, "مریم", "IR-23"))
        .await;
    app.post(
        &fars,
        "/api/v1/children",
        &body("c0000000-0000-4000-8000-000000000002", "زهرا", "IR-07"),
    )
    .await;
    let encounter = json!({"at": "2026-11-20T10:30:00Z", "lat": 35.7, "lng": 51.4, "notes": "line one\nline \"two\""});
    let r = app
        .post(
            &tehran,
            &format!("/api/v1/children/{a}/encounters"),
            &encounter,
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let csv = app.get(&tehran, "/api/v1/exports/children.csv").await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with('\u{FEFF}'),
        "UTF-8 byte-order mark for Excel"
    );
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "header and the one child in scope: {text}");
    assert!(lines[0].contains("registry_code") && lines[0].contains("given_name"));
    assert!(lines[1].contains("مریم") && !text.contains("زهرا"));
    assert!(
        lines[1].contains("\"کوچولو, گل‌فروش\""),
        "a comma inside a field is quoted"
    );
    assert!(lines[1].contains(",begging,"));

    let jsonl = app
        .get(&app.admin_token().await, "/api/v1/exports/children.jsonl")
        .await
        .text()
        .await
        .unwrap();
    let rows: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "the admin exports the whole country");

    let enc = app
        .get(&tehran, "/api/v1/exports/encounters.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(enc.contains("\"line one\nline \"\"two\"\"\""), "{enc}");
    let enc_fars = app
        .get(&fars, "/api/v1/exports/encounters.jsonl")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        enc_fars.is_empty(),
        "another province's encounters stay out"
    );

    problem(app.get(&tehran, "/api/v1/exports/children.xlsx").await, 404).await;
    problem(
        app.client
            .get(app.url("/api/v1/exports/children.csv"))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    let audit: Value = app
        .get(
            &app.admin_token().await,
            "/api/v1/audit?resource_type=child",
        )
        .await
        .json()
        .await
        .unwrap();
    let exports = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "export")
        .count();
    assert_eq!(exports, 4);
}
