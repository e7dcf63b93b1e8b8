//! Exports over HTTP, on SQLite and PostgreSQL: scope, CSV for spreadsheets,
//! JSON Lines, encounters, audit; compressed as browsers ask; who may export;
//! slow clients and the cap on concurrent exports.

use crate::common::{TestApp, TestDb, problem, with_action};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

on_both_backends!(
    exports_stay_in_scope_and_open_in_spreadsheets,
    compressed_exports_arrive_whole,
    only_supervisors_and_above_export_and_the_audit_counts_rows,
    exports_that_nobody_reads_leave_the_pool_free,
    concurrent_exports_are_capped,
);

async fn exports_stay_in_scope_and_open_in_spreadsheets(db: TestDb) {
    let app = TestApp::start(db).await;
    let tehran = app.token_for("tehran1", "supervisor", "IR-23").await;
    let fars = app.token_for("fars1", "supervisor", "IR-07").await;
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
    problem(app.get_anonymous("/api/v1/exports/children.csv").await, 401).await;
    let audit: Value = app
        .get_json(
            &app.admin_token().await,
            "/api/v1/audit?resource_type=child",
        )
        .await;
    let exports = with_action(&audit["items"], "export").len();
    assert_eq!(exports, 4);
}

const FILES: [&str; 4] = [
    "children.csv",
    "children.jsonl",
    "encounters.csv",
    "encounters.jsonl",
];

/// One child and one encounter made through the API, then `copies` more of
/// each made by SQL (three to a millisecond, so batch boundaries fall between
/// rows with equal timestamps). The API-made pair sorts last. Returns the
/// last child's and the last encounter's id.
async fn seed(app: &TestApp, token: &str, copies: i64) -> (String, String) {
    let id = "c0000000-0000-4000-8000-00000000a11a";
    // A heavy row (about 1 kB) so a few thousand overflow every buffer on the way.
    let aliases: Vec<String> = (0..20)
        .map(|i| format!("نام مستعار شماره {i} در محله"))
        .collect();
    let r = app
        .post(
            token,
            "/api/v1/children",
            &json!({"id": id, "given_name": "مریم", "aliases": aliases, "sex": "female",
                    "nationality": "iranian", "home_province": "IR-23", "work_types": ["begging"]}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = app
        .post(
            token,
            &format!("/api/v1/children/{id}/encounters"),
            &json!({"at": "2026-11-20T10:30:00Z", "lat": 35.7, "lng": 51.4, "notes": "آخر"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let encounter: Value = r.json().await.unwrap();
    let pool = app.state.db.pool();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         INSERT INTO children (id, registry_code, status, version, facts, create_digest,
             home_province, home_county, sex, nationality, birth_year, work_types,
             assigned_worker, created_by, created_at, updated_at, last_seen_at)
         SELECT 'seed-' || n.i, c.registry_code || '-' || n.i, c.status, c.version, c.facts,
             c.create_digest, c.home_province, c.home_county, c.sex, c.nationality,
             c.birth_year, c.work_types, c.assigned_worker, c.created_by,
             c.created_at - 1000000 + n.i / 3, c.updated_at, c.last_seen_at
         FROM n, children c WHERE c.id = $1",
    )
    .bind(id)
    .bind(copies)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         INSERT INTO encounters (id, child_id, worker_id, at, lat, lng, accuracy_m,
             province, county, details, create_digest, created_at)
         SELECT 'seed-' || n.i, 'seed-' || n.i, e.worker_id, e.at - 1000000 + n.i / 3,
             e.lat, e.lng, e.accuracy_m, e.province, e.county, e.details, e.create_digest,
             e.created_at
         FROM n, encounters e WHERE e.id = $1",
    )
    .bind(encounter["id"].as_str().unwrap())
    .bind(copies)
    .execute(pool)
    .await
    .unwrap();
    (
        id.to_string(),
        encounter["id"].as_str().unwrap().to_string(),
    )
}

/// The body of an export that arrived whole: every row, the last one last,
/// ending with its line break.
fn assert_whole(file: &str, body: &str, rows: usize, last_id: &str) {
    let csv = file.ends_with(".csv");
    let end = if csv { "\r\n" } else { "\n" };
    assert!(
        body.ends_with(end),
        "{file} ends with a whole line: {body:?}"
    );
    let lines: Vec<&str> = body.trim_end().split(end).collect();
    let header = usize::from(csv);
    assert_eq!(lines.len(), rows + header, "{file}: header and every row");
    if rows == 0 {
        return;
    }
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(&format!("{last_id},")) || last.contains(&format!("\"id\":\"{last_id}\"")),
        "{file}: the last row is the last one: {last}"
    );
    let ids: std::collections::HashSet<&str> = lines[header..]
        .iter()
        .map(|l| {
            if csv {
                l.split(',').next().unwrap()
            } else {
                l.split("\"id\":\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
            }
        })
        .collect();
    assert_eq!(ids.len(), rows, "{file}: no row twice");
}

async fn compressed_exports_arrive_whole(db: TestDb) {
    // Small batches: the rows cross many batch boundaries, some between rows
    // created in the same millisecond.
    let app = TestApp::start_with(db, |c| c.export_batch_rows = 100).await;
    let admin = app.admin_token().await;
    let copies = 1000;
    let (child, encounter) = seed(&app, &admin, copies).await;
    let rows = copies as usize + 1;
    for encoding in ["gzip", "br"] {
        // A client that asks only for this encoding and decodes it.
        let decoding = reqwest::Client::builder()
            .gzip(encoding == "gzip")
            .brotli(encoding == "br")
            .build()
            .unwrap();
        // And one that shows what the server sent.
        let raw = reqwest::Client::builder()
            .no_gzip()
            .no_brotli()
            .build()
            .unwrap();
        for file in FILES {
            let url = app.url(&format!("/api/v1/exports/{file}"));
            let r = raw
                .get(&url)
                .bearer_auth(&admin)
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{file} {encoding}");
            assert_eq!(r.headers()["content-encoding"], encoding, "{file}");
            drop(r);
            let r = decoding.get(&url).bearer_auth(&admin).send().await.unwrap();
            assert_eq!(r.status(), 200, "{file} {encoding}");
            let body = r
                .text()
                .await
                .unwrap_or_else(|e| panic!("{file} over {encoding} is cut off: {e:?}"));
            let last = if file.starts_with("children") {
                &child
            } else {
                &encounter
            };
            assert_whole(file, &body, rows, last);
        }
    }
}

async fn only_supervisors_and_above_export_and_the_audit_counts_rows(db: TestDb) {
    let app = TestApp::start(db).await;
    let admin = app.admin_token().await;
    let (child, _) = seed(&app, &admin, 4).await;
    let worker = app.token_for("worker1", "outreach_worker", "IR-23").await;
    let (supervisor_id, supervisor) = app
        .user_with_token("supervisor1", "supervisor", "IR-23")
        .await;
    let fars = app.token_for("fars1", "supervisor", "IR-07").await;

    for file in FILES {
        let body = problem(
            app.get(&worker, &format!("/api/v1/exports/{file}")).await,
            403,
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains("supervisor"),
            "{body}"
        );
    }
    let csv = app.get(&supervisor, "/api/v1/exports/children.csv").await;
    assert_eq!(csv.status(), 200);
    assert_whole("children.csv", &csv.text().await.unwrap(), 5, &child);
    let other = app.get(&fars, "/api/v1/exports/children.csv").await;
    assert_eq!(other.status(), 200);
    assert_whole("children.csv", &other.text().await.unwrap(), 0, "");

    let audit: Value = app
        .get_json(&admin, &format!("/api/v1/audit?user={supervisor_id}"))
        .await;
    let exports: Vec<&Value> = with_action(&audit["items"], "export");
    assert_eq!(exports.len(), 1, "{audit}");
    assert_eq!(exports[0]["detail"]["file"], "children.csv");
    assert_eq!(exports[0]["detail"]["rows"], 5, "{audit}");
    assert_eq!(exports[0]["detail"]["complete"], true, "{audit}");
}

/// Sends an export request from a client that then stops reading: a small
/// receive buffer, the status line and headers read, nothing more.
async fn stalled_export(app: &TestApp, token: &str, file: &str) -> (u16, TcpStream) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(app.addr).await.unwrap();
    let request = format!(
        "GET /api/v1/exports/{file} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\r\n",
        app.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "connection closed"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, stream)
}

async fn exports_that_nobody_reads_leave_the_pool_free(db: TestDb) {
    // More stalled exports than either backend's pool has connections (8 on
    // SQLite, 16 on PostgreSQL), all allowed by the caps.
    let stalled = 20;
    let app = TestApp::start_with(db, |c| {
        c.export_max_per_user = stalled;
        c.export_max_concurrent = stalled;
    })
    .await;
    let admin = app.admin_token().await;
    seed(&app, &admin, 3000).await;
    let mut clients = Vec::new();
    for i in 0..stalled {
        // The children's files: their rows are the heavy ones.
        let (status, stream) = stalled_export(&app, &admin, FILES[i % 2]).await;
        assert_eq!(status, 200, "export {i} starts");
        clients.push(stream);
    }
    // Let every export run until its client's buffers are full.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let ready = app.get_anonymous("/api/v1/ready").await;
    assert_eq!(
        ready.status(),
        200,
        "ready while {stalled} exports are stalled"
    );
    let login = app
        .login_response("admin", crate::common::ADMIN_PASSWORD)
        .await;
    assert_eq!(
        login.status(),
        200,
        "login while {stalled} exports are stalled"
    );
    drop(clients);
}

async fn concurrent_exports_are_capped(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        c.export_max_per_user = 1;
        c.export_max_concurrent = 2;
    })
    .await;
    let admin = app.admin_token().await;
    seed(&app, &admin, 3000).await;
    let supervisor = app.token_for("supervisor1", "supervisor", "IR-23").await;
    let other = app.token_for("supervisor2", "supervisor", "IR-23").await;

    let (status, first) = stalled_export(&app, &supervisor, "children.csv").await;
    assert_eq!(status, 200);
    let over = app.get(&supervisor, "/api/v1/exports/encounters.csv").await;
    assert_eq!(over.headers()["retry-after"], "30");
    let body = problem(over, 429).await;
    assert!(
        body["detail"].as_str().unwrap().contains("export"),
        "{body}"
    );

    let (status, _second) = stalled_export(&app, &admin, "children.jsonl").await;
    assert_eq!(status, 200, "another user has a slot of their own");
    let over = app.get(&other, "/api/v1/exports/children.csv").await;
    assert_eq!(over.headers()["retry-after"], "30");
    problem(over, 429).await;

    // A client that goes away gives its slot back.
    drop(first);
    let mut tries = 0;
    let again = loop {
        let r = app.get(&other, "/api/v1/exports/children.csv").await;
        if r.status() != 429 || tries == 200 {
            break r;
        }
        tries += 1;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(again.status(), 200, "the slot came back");
    assert_whole(
        "children.csv",
        &again.text().await.unwrap(),
        3001,
        "c0000000-0000-4000-8000-00000000a11a",
    );
}
