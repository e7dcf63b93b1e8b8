//! The HTTP conventions every endpoint shares: problem+json errors, body
//! limits, request ids, security headers, CORS, metrics, health and the PWA host.

use std::time::Duration;

use crate::common::{TestApp, TestDb, problem};
use crate::photos::{jpeg, photos_path, worker_with_child};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

on_both_backends!(slow_uploads_are_not_cut_stalled_ones_are);

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_bodies_get_clear_problems() {
    let app = TestApp::start_with(TestDb::sqlite().await, |c| c.body_limit_bytes = 4096).await;
    let login = "/api/v1/auth/login";
    let p = problem(
        post_raw(&app, login, "application/json", b"{\"username\":".to_vec()).await,
        400,
    )
    .await;
    assert_eq!(p["type"], "/problems/bad-request");
    let unknown = br#"{"username":"a","password":"b","remember":true}"#.to_vec();
    let p = problem(
        post_raw(&app, login, "application/json", unknown).await,
        422,
    )
    .await;
    assert!(
        p["errors"]["remember"].is_array(),
        "names the unknown field: {p}"
    );
    let missing = br#"{"username":"a"}"#.to_vec();
    let p = problem(
        post_raw(&app, login, "application/json", missing).await,
        422,
    )
    .await;
    assert!(
        p["errors"]["password"].is_array(),
        "names the missing field: {p}"
    );
    let p = problem(
        post_raw(&app, login, "text/plain", b"{}".to_vec()).await,
        415,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("application/json"));
    // Error bodies must stay readable when the client accepts compression.
    let compressed = app
        .client
        .post(app.url(login))
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip")
        .body("{")
        .send()
        .await
        .unwrap();
    let encoding = compressed.headers().get("content-encoding").cloned();
    let bytes = compressed.bytes().await.unwrap();
    if encoding.is_none() {
        let p: Value = serde_json::from_slice(&bytes).expect("uncompressed body is JSON");
        assert_eq!(p["status"], 400);
    }
    let big = format!(r#"{{"username":"a","password":"{}"}}"#, "x".repeat(10_000)).into_bytes();
    problem(post_raw(&app, login, "application/json", big).await, 413).await;
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    let response = app.get_anonymous("/api/v1/no-such-thing").await;
    problem(response, 404).await;
    let response = app.get_anonymous("/api/v1/auth/login").await;
    problem(response, 405).await;
}

#[tokio::test]
async fn request_ids_are_echoed_and_generated() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    let response = app
        .client
        .get(app.url("/api/v1/health"))
        .header("x-request-id", "field-phone-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "field-phone-42");
    let response = app.get_anonymous("/api/v1/nope").await;
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID is generated");
    let p = problem(response, 404).await;
    assert_eq!(
        p["request_id"],
        id.as_str(),
        "the problem quotes the same id"
    );
}

#[tokio::test]
async fn malformed_request_ids_are_replaced() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    for forged in ["<script>alert(1)</script>", &"a".repeat(65), "two words"] {
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-request-id", forged)
            .json(&serde_json::json!({"username": "nobody", "password": "a wrong password"}))
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 36, "{forged:?} is replaced by a generated UUID");
        let p = problem(response, 401).await;
        assert_eq!(p["request_id"], id.as_str());
    }
    let admin = app.admin_token().await;
    let page: Value = app
        .get_json(&admin, "/api/v1/audit?resource_type=session")
        .await;
    for entry in page["items"].as_array().unwrap() {
        let id = entry["request_id"].as_str().unwrap();
        assert_eq!(
            id.len(),
            36,
            "the audit log keeps only well-formed ids: {id}"
        );
    }
}

#[tokio::test]
async fn security_headers_are_set() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    let response = app.get_anonymous("/api/v1/health").await;
    let h = response.headers();
    assert_eq!(
        h["cache-control"], "no-store",
        "API answers are never cached"
    );
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::start_with(TestDb::sqlite().await, |c| {
        c.cors_origins = vec!["https://partner.example".into()]
    })
    .await;
    let ask = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = ask("https://partner.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://partner.example"
    );
    let denied = ask("https://evil.example").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn health_ready_and_metrics() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    let health: Value = app
        .get_anonymous("/api/v1/health")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = app.get_anonymous("/api/v1/ready").await;
    assert_eq!(ready.status(), 200);
    let metrics = app.get_anonymous("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            r#"kudakyar_http_requests_total{method="GET",route="/api/v1/health",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("kudakyar_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("kudakyar_db_pool_connections"));
}

#[tokio::test]
async fn metrics_labels_are_bounded() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("RANDOM{i}").as_bytes()).unwrap();
        app.client
            .request(method, app.url("/api/v1/health"))
            .send()
            .await
            .unwrap();
    }
    app.get_anonymous("/no/such/page/12345").await;
    let metrics = app.get_anonymous("/metrics").await.text().await.unwrap();
    assert!(!metrics.contains("RANDOM"), "{metrics}");
    assert!(!metrics.contains("12345"), "{metrics}");
    assert!(
        metrics.contains(r#"method="other",route="/api/v1/health""#),
        "{metrics}"
    );
}

#[tokio::test]
async fn metrics_need_the_configured_token() {
    let app = TestApp::start_with(TestDb::sqlite().await, |c| {
        c.metrics_token = Some("scrape-secret".into())
    })
    .await;
    let scrape = |token: Option<&'static str>| {
        let request = app.client.get(app.url("/metrics"));
        match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
        .send()
    };
    problem(scrape(None).await.unwrap(), 401).await;
    problem(scrape(Some("wrong-secret")).await.unwrap(), 401).await;
    let allowed = scrape(Some("scrape-secret")).await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert!(
        allowed
            .text()
            .await
            .unwrap()
            .contains("kudakyar_http_requests")
    );
}

#[tokio::test]
async fn not_ready_when_the_database_is_gone() {
    let app = TestApp::start(TestDb::sqlite().await).await;
    app.state.db.close().await;
    let ready = app.get_anonymous("/api/v1/ready").await;
    problem(ready, 503).await;
}

#[tokio::test]
async fn serves_the_pwa_with_the_right_caching() {
    let db = TestDb::sqlite().await;
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>کودک‌یار</title>",
    )
    .unwrap();
    std::fs::write(web.path().join("app-0123456789abcdef.css"), "body{}").unwrap();
    let dir = web.path().to_path_buf();
    let app = TestApp::start_with(db, move |c| c.web_dir = Some(dir)).await;
    let index = app.get_anonymous("/").await;
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.text().await.unwrap().contains("کودک‌یار"));
    let css = app.get_anonymous("/app-0123456789abcdef.css").await;
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let gone = app.get_anonymous("/app-fedcba9876543210.css").await;
    problem(gone, 404).await;
    let deep = app.get_anonymous("/children/123").await;
    assert_eq!(
        deep.status(),
        200,
        "unknown app paths fall back to index.html"
    );
    assert!(deep.text().await.unwrap().contains("<title>"));
    let api = app.get_anonymous("/api/v2/children").await;
    problem(api, 404).await;
}

#[tokio::test]
async fn the_basemap_is_configuration_in_the_page_and_the_policy() {
    let page = r#"<!doctype html><meta name="kudakyar-tiles" content=""><meta name="kudakyar-tiles-attribution" content=""><title>کودک‌یار</title>"#;
    let web = tempfile::tempdir().unwrap();
    std::fs::write(web.path().join("index.html"), page).unwrap();
    // The citizens' page carries the same metas (its map picker); the map's
    // files live in a folder named like the atlas's route.
    std::fs::write(web.path().join("report.html"), page).unwrap();
    std::fs::create_dir(web.path().join("atlas")).unwrap();
    // `/atlas` gets its own page when the build wrote one (preloading the
    // map's files); the app's page otherwise.
    let preload = r#"<link rel="modulepreload" href="/atlas/map-0123456789abcdef.js">"#;
    let dir = web.path().to_path_buf();
    // Without a basemap (the default): the page as built, images from here only.
    let plain = TestApp::start_with(TestDb::sqlite().await, {
        let dir = dir.clone();
        move |c| c.web_dir = Some(dir)
    })
    .await;
    let index = plain.get_anonymous("/").await;
    let policy = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("img-src 'self' data: blob:;"), "{policy}");
    assert_eq!(index.text().await.unwrap(), page);
    let atlas = plain.get_anonymous("/atlas").await;
    assert_eq!(
        atlas.text().await.unwrap(),
        page,
        "no atlas.html: the app's page"
    );
    std::fs::write(web.path().join("atlas.html"), format!("{page}{preload}")).unwrap();
    let atlas = plain.get_anonymous("/atlas").await;
    assert_eq!(atlas.text().await.unwrap(), format!("{page}{preload}"));

    let tiles = "https://tiles.example.ir/{z}/{x}/{y}.png?key=a&style=b";
    let app = TestApp::start_with(TestDb::sqlite().await, move |c| {
        c.web_dir = Some(dir);
        c.map_tiles = Some(tiles.into());
        c.map_tiles_attribution = Some("© Example <maps>".into());
    })
    .await;
    for path in ["/", "/index.html", "/atlas", "/report", "/report/status"] {
        let index = app.get_anonymous(path).await;
        assert_eq!(index.status(), 200, "{path}");
        assert_eq!(index.url().path(), path, "served, not redirected");
        let policy = index.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            policy.contains("img-src 'self' data: blob: https://tiles.example.ir;"),
            "{path}: {policy}"
        );
        assert_eq!(index.headers()["cache-control"], "no-cache", "{path}");
        let body = index.text().await.unwrap();
        assert!(
            body.contains(r#"<meta name="kudakyar-tiles" content="https://tiles.example.ir/{z}/{x}/{y}.png?key=a&amp;style=b">"#),
            "{path}: {body}"
        );
        assert!(
            body.contains(
                r#"<meta name="kudakyar-tiles-attribution" content="© Example &lt;maps&gt;">"#
            ),
            "{path}: {body}"
        );
        assert_eq!(body.contains(preload), path == "/atlas", "{path}: {body}");
    }
    // The API's answers carry the same policy.
    let health = app.get_anonymous("/api/v1/health").await;
    assert!(
        health.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("https://tiles.example.ir")
    );
}

#[test]
fn a_basemap_that_is_not_a_tile_template_is_refused_at_startup() {
    for (value, says) in [
        ("tiles.example.ir/{z}/{x}/{y}.png", "http(s) URL template"),
        ("https://tiles.example.ir/{z}/{x}.png", "{z}, {x} and {y}"),
        (
            "https://tiles.example.ir/{z}/{x}/{y}.png\" onerror=\"x",
            "quotes",
        ),
    ] {
        let env = [("KUDAKYAR_MAP_TILES".to_owned(), value.to_owned())];
        let err =
            kudakyar::config::Config::load_from(None, &env, &Default::default()).expect_err(value);
        let text = format!("{err:#}");
        assert!(
            text.contains("map_tiles") && text.contains(says),
            "{value}: {text}"
        );
    }
    let env = [(
        "KUDAKYAR_MAP_TILES".to_owned(),
        "/tiles/{z}/{x}/{y}.png".to_owned(),
    )];
    let config = kudakyar::config::Config::load_from(None, &env, &Default::default()).unwrap();
    assert_eq!(config.map_tiles.as_deref(), Some("/tiles/{z}/{x}/{y}.png"));
}

/// A photo upload as a phone on a slow link sends it: the request head, then
/// the multipart body as a browser would frame it.
fn slow_upload_request(app: &TestApp, token: &str) -> (Vec<u8>, Vec<u8>) {
    let boundary = "----kudakyarslowupload";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\ncontent-disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\ncontent-type: image/jpeg\r\n\r\n").as_bytes());
    body.extend_from_slice(&jpeg(320, 240));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\naccept: application/json, application/problem+json\r\naccept-encoding: gzip, br\r\ncontent-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        photos_path(),
        app.addr,
        body.len(),
    );
    (head.into_bytes(), body)
}

/// The status line of the answer on `stream`.
async fn answer_status(stream: &mut TcpStream) -> u16 {
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed before an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&answer);
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

/// The request timeout counts idleness: an upload trickling in over three
/// times the timeout, never pausing as long as it, is taken; one that
/// stops half-way is answered 408 (and nothing is stored).
async fn slow_uploads_are_not_cut_stalled_ones_are(db: TestDb) {
    let app = TestApp::start_with(db, |c| c.request_timeout_secs = 1).await;
    let token = worker_with_child(&app).await;
    let (head, body) = slow_upload_request(&app, &token);

    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(&head).await.unwrap();
    let chunks = 12;
    for chunk in body.chunks(body.len().div_ceil(chunks)) {
        // 12 pauses of a quarter of the timeout: 3 s in all, idle 0.25 s at most.
        tokio::time::sleep(Duration::from_millis(250)).await;
        if slow.write_all(chunk).await.is_err() {
            break; // the server gave up: its answer says why
        }
    }
    assert_eq!(
        answer_status(&mut slow).await,
        201,
        "slow but steady upload"
    );

    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    stalled.write_all(&head).await.unwrap();
    stalled.write_all(&body[..body.len() / 2]).await.unwrap();
    // No more bytes: the server must give up on its own.
    assert_eq!(answer_status(&mut stalled).await, 408, "stalled upload");

    let photos: Value = app.get_json(&token, &photos_path()).await;
    assert_eq!(
        photos.as_array().unwrap().len(),
        1,
        "only the whole upload: {photos}"
    );
}
