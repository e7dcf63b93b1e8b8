//! The outbox across a crash: `kudakyar serve` killed with SIGKILL while a
//! push it claimed is in flight, then started again on the same data (and,
//! on PostgreSQL, the same database). The push goes once more after its
//! lease lapses and is delivered exactly once, as the push service counts
//! it by the delivery's idempotency key (the Web Push `Topic`, a digest of
//! `n<notification>:web_push:<subscription>`); the pushes recorded before
//! the crash are not sent again; the inbox row is as it was.
//!
//! The push service is a local HTTP sink started here: it decrypts each
//! message with the browser's keys, answers 201 — except the first push to
//! the "hanging" device, which it never answers, so that the server has
//! claimed it and is waiting on the send when it dies.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kudakyar::db::scratch::{self, ScratchDatabase};
use kudakyar::notify::outbox::{Channel, idempotency_key};
use kudakyar::notify::push::topic;
use kudakyar_e2e::Server;
use serde_json::{Value, json};
use web_push_native::jwt_simple::prelude::{ECDSAP256PublicKeyLike, ES256KeyPair};

/// The lease a claim holds: short, so the test waits little for it.
const LEASE: Duration = Duration::from_secs(3);
const ADMIN_PASSWORD: &str = "an admin password for the crash";
const SUPERVISOR_PASSWORD: &str = "a supervisor password for the crash";
/// A junction in Tehran county 2301, where the centre is.
const JUNCTION: (f64, f64) = (35.7009, 51.3912);
/// A guard against a hang, not a measure of speed.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_push_in_flight_at_a_crash_goes_once_after_its_lease_on_sqlite() {
    crash_and_restart(None).await;
}

#[tokio::test]
async fn a_push_in_flight_at_a_crash_goes_once_after_its_lease_on_postgres() {
    let Some(admin_url) = scratch::test_postgres_url("the outbox crash test") else {
        return;
    };
    let database = ScratchDatabase::create(&admin_url, "kudakyar_e2e")
        .await
        .unwrap();
    crash_and_restart(Some(&database.url())).await;
    database.drop().await.unwrap();
}

/// A browser's push keys: its secret key and auth secret, by which the
/// sink decrypts, and the public half it subscribes with.
struct Browser {
    secret: web_push_native::p256::SecretKey,
    auth: [u8; 16],
    p256dh: String,
}

fn browser(auth: [u8; 16]) -> Browser {
    let pair = ES256KeyPair::generate();
    Browser {
        secret: web_push_native::p256::SecretKey::from_slice(&pair.to_bytes()).unwrap(),
        auth,
        p256dh: URL_SAFE_NO_PAD.encode(pair.public_key().public_key().to_bytes_uncompressed()),
    }
}

/// One push as the sink saw it.
#[derive(Debug, Clone)]
struct Push {
    device: String,
    topic: String,
    payload: Value,
    at: Instant,
    /// Answered 201; false for the one left hanging.
    delivered: bool,
}

#[derive(Clone, Default)]
struct Sink {
    browsers: Arc<Mutex<HashMap<String, Browser>>>,
    /// Devices whose next push is left unanswered.
    hang_next: Arc<Mutex<HashSet<String>>>,
    pushes: Arc<Mutex<Vec<Push>>>,
}

impl Sink {
    fn pushes(&self) -> Vec<Push> {
        self.pushes.lock().unwrap().clone()
    }
}

async fn receive(
    State(sink): State<Sink>,
    UrlPath(device): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let plain = {
        let browsers = sink.browsers.lock().unwrap();
        let b = &browsers[&device];
        let auth = web_push_native::Auth::clone_from_slice(&b.auth);
        web_push_native::decrypt(body.to_vec(), &b.secret, &auth).unwrap()
    };
    let hang = sink.hang_next.lock().unwrap().remove(&device);
    sink.pushes.lock().unwrap().push(Push {
        device,
        topic: headers
            .get("topic")
            .map(|t| t.to_str().unwrap().to_string())
            .unwrap_or_default(),
        payload: serde_json::from_slice(&plain).unwrap(),
        at: Instant::now(),
        delivered: !hang,
    });
    if hang {
        // The server waits on this answer until it is killed.
        std::future::pending::<()>().await;
    }
    StatusCode::CREATED
}

async fn start_sink() -> (Sink, SocketAddr) {
    let sink = Sink::default();
    let app = axum::Router::new()
        .route("/push/{device}", axum::routing::post(receive))
        .with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sink, addr)
}

/// Waits (bounded) until `done` holds.
async fn eventually(what: &str, server: &Server, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < PATIENCE,
            "not within {PATIENCE:?}: {what}\n{}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// POSTs `body` (as `token`, when given), expecting `status`; the JSON.
async fn post(base: &str, token: Option<&str>, path: &str, body: Value, status: u16) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let got = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "POST {path}: {body:#}");
    body
}

async fn get(base: &str, token: &str, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn login(base: &str, username: &str, password: &str) -> String {
    let session = post(
        base,
        None,
        "/api/v1/auth/login",
        json!({"username": username, "password": password}),
        200,
    )
    .await;
    session["token"].as_str().unwrap().to_string()
}

/// A citizen's report `step` × 10 m north of the junction; its id.
async fn citizen_reports(base: &str, step: u32) -> String {
    let report = json!({
        "id": format!("5e000000-0000-4000-8000-{:012x}", step + 1),
        "lat": JUNCTION.0 + 0.0001 * f64::from(step), "lng": JUNCTION.1,
        "children_count": 1, "activity": "selling_flowers_or_poems",
        "description": "پسری سر چهارراه گل می‌فروشد",
    });
    let made = post(base, None, "/api/v1/sightings", report, 201).await;
    made["id"].as_str().unwrap().to_string()
}

/// The web_push outbox rows by state, from `/metrics` (all of them, read
/// from the database at each scrape).
async fn outbox_rows(base: &str) -> HashMap<String, i64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("kudakyar_notify_outbox_rows{") && l.contains("web_push"))
        .filter_map(|l| {
            let state = l.split("state=\"").nth(1)?.split('"').next()?;
            let value = l.rsplit(' ').next()?.parse().ok()?;
            Some((state.to_string(), value))
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn rows(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
    pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

/// The supervisor's inbox, oldest first.
async fn inbox(base: &str, token: &str) -> Vec<Value> {
    let mut items = get(base, token, "/api/v1/notifications").await["items"]
        .as_array()
        .unwrap()
        .clone();
    items.reverse();
    items
}

async fn crash_and_restart(database_url: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let lease_ms = LEASE.as_millis().to_string();
    let mut env = vec![
        ("KUDAKYAR_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KUDAKYAR_PUSH_ALLOW_LOCAL_HTTP", "true"),
        ("KUDAKYAR_NOTIFY_LEASE_MS", lease_ms.as_str()),
        ("KUDAKYAR_NOTIFY_POLL_MS", "50"),
        ("KUDAKYAR_NOTIFY_SCHEDULER", "false"),
    ];
    if let Some(url) = database_url {
        env.push(("KUDAKYAR_DATABASE_URL", url));
    }
    let mut server = Server::start(&data, &env).await;
    let base = server.base.clone();
    let (sink, addr) = start_sink().await;

    // A county supervisor with two devices, the phone's next push to hang.
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let centre = json!({"name": "مرکز مولوی", "lat": JUNCTION.0, "lng": JUNCTION.1,
                        "province": "IR-23", "county": "2301"});
    post(&base, Some(&admin), "/api/v1/centres", centre, 201).await;
    let supervisor = json!({"username": "sup2301", "password": SUPERVISOR_PASSWORD,
                            "role": "supervisor", "province": "IR-23", "county": "2301"});
    post(&base, Some(&admin), "/api/v1/users", supervisor, 201).await;
    let sup = login(&base, "sup2301", SUPERVISOR_PASSWORD).await;
    let mut subscription_of = HashMap::new();
    for (device, auth) in [("phone", [1u8; 16]), ("tablet", [2u8; 16])] {
        let b = browser(auth);
        let keys = json!({"p256dh": b.p256dh, "auth": URL_SAFE_NO_PAD.encode(b.auth)});
        sink.browsers.lock().unwrap().insert(device.into(), b);
        let endpoint = format!("http://{addr}/push/{device}");
        let made = post(
            &base,
            Some(&sup),
            "/api/v1/push/subscriptions",
            json!({"endpoint": endpoint, "keys": keys}),
            201,
        )
        .await;
        subscription_of.insert(device, made["id"].as_str().unwrap().to_string());
    }
    sink.hang_next.lock().unwrap().insert("phone".into());

    // A report: one notification, one push per device.
    let reported_at = Instant::now();
    let report = citizen_reports(&base, 0).await;
    eventually(
        "the tablet's push is recorded sent and the phone's in flight",
        &server,
        async || outbox_rows(&base).await == rows(&[("sent", 1), ("sending", 1)]),
    )
    .await;
    let before = inbox(&base, &sup).await;
    assert_eq!(before.len(), 1);
    let first = &before[0];
    assert_eq!(
        (&first["kind"], &first["subject_id"], &first["read_at"]),
        (&json!("sighting_received"), &json!(report), &Value::Null)
    );
    let notification = first["id"].as_i64().unwrap();
    let pushes = sink.pushes();
    assert_eq!(pushes.len(), 2, "{pushes:?}");
    assert!(pushes.iter().any(|p| p.device == "phone" && !p.delivered));

    // The crash, mid-send.
    let status = server.kill();
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status}");
    }
    // The phone's push service now answers.
    let mut server = Server::start(&data, &env).await;
    let base = server.base.clone();
    eventually(
        "the phone's push goes again and is delivered",
        &server,
        async || {
            sink.pushes()
                .iter()
                .any(|p| p.device == "phone" && p.delivered)
        },
    )
    .await;
    let resent = sink
        .pushes()
        .into_iter()
        .find(|p| p.device == "phone" && p.delivered)
        .unwrap();
    // Not before the claim the dead process held lapsed (the claim came
    // after the report; a small margin for the two clocks).
    assert!(
        resent.at.duration_since(reported_at) + Duration::from_millis(100) >= LEASE,
        "sent again {:?} after the report, within the {LEASE:?} lease",
        resent.at.duration_since(reported_at)
    );

    // A report after the restart reaches both devices, once each.
    let second = citizen_reports(&base, 1).await;
    eventually(
        "the second report's pushes are recorded",
        &server,
        async || outbox_rows(&base).await == rows(&[("sent", 4)]),
    )
    .await;
    // A lease and some polls more: nothing else goes.
    tokio::time::sleep(LEASE + Duration::from_millis(500)).await;
    assert_eq!(outbox_rows(&base).await, rows(&[("sent", 4)]));

    // The inbox: the first notification untouched by the crash, the second after it.
    let after = inbox(&base, &sup).await;
    assert_eq!(after.len(), 2, "{after:#?}");
    assert_eq!(&after[0], first);
    assert_eq!(after[1]["subject_id"], second.as_str());
    let second_notification = after[1]["id"].as_i64().unwrap();

    // Every push counted by its idempotency key (the Topic): each
    // notification delivered to each device exactly once; the phone's
    // first one also left once unanswered, by the killed process.
    let mut delivered: HashMap<&str, usize> = HashMap::new();
    let mut attempts: HashMap<&str, usize> = HashMap::new();
    let pushes = sink.pushes();
    for p in &pushes {
        *attempts.entry(p.topic.as_str()).or_default() += 1;
        if p.delivered {
            *delivered.entry(p.topic.as_str()).or_default() += 1;
        }
    }
    let key = |n: i64, device: &str| {
        topic(&idempotency_key(
            n,
            Channel::WebPush,
            &subscription_of[device],
        ))
    };
    let expected: Vec<(String, usize)> = vec![
        (key(notification, "phone"), 2),
        (key(notification, "tablet"), 1),
        (key(second_notification, "phone"), 1),
        (key(second_notification, "tablet"), 1),
    ];
    assert_eq!(delivered.len(), 4, "{pushes:#?}");
    for (topic, tries) in &expected {
        assert_eq!(
            delivered.get(topic.as_str()),
            Some(&1),
            "{topic}: {pushes:#?}"
        );
        assert_eq!(
            attempts.get(topic.as_str()),
            Some(tries),
            "{topic}: {pushes:#?}"
        );
    }
    // And each carried its own notification.
    for p in &pushes {
        let n = p.payload["notification_id"].as_i64().unwrap();
        assert_eq!(p.topic, key(n, &p.device), "{p:?}");
    }

    assert!(server.terminate().success(), "{}", server.stderr());
}
