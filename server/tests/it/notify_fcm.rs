//! FCM HTTP v1 delivery, on SQLite and PostgreSQL, against a local fake of
//! Google's OAuth token endpoint and of FCM's send endpoint, started by
//! each test (axum on a free port). The fake verifies each assertion's
//! RS256 signature with the service account's public key (a test-only key
//! pair in `fixtures/`) and its claims, gives out access tokens that expire,
//! refuses revoked ones, and answers sends from a script. The tests show:
//! registration of tokens and its bad input; a notification's message to
//! every token of its recipient, privacy-minimal; the access token reused
//! until its expiry, then refreshed, and after a 401 refreshed once for all
//! the sends waiting; 429 and 503 retried after their `Retry-After`
//! (seconds, an HTTP date) else the backoff; `UNREGISTERED` and an invalid
//! token removed; an oversize payload refused; and a bad service account
//! file leaving the server serving with FCM off, said by `/api/v1/ready`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kudakyar::config::Config;
use kudakyar::http::metrics::Metrics;
use kudakyar::notify::fcm::{self, Fcm};
use kudakyar::notify::worker::{self, Settings};
use serde::Deserialize;
use serde_json::{Value, json};
use web_push_native::jwt_simple::prelude::{
    JWTClaims, RS256PublicKey, RSAPublicKeyLike, VerificationOptions,
};

use crate::common::scene::{JUNCTION, Scene, scene_with};
use crate::common::{TestApp, TestDb, problem};

on_both_backends!(
    fcm_tokens_are_validated_kept_per_token_and_removed_by_their_owner,
    messages_carry_a_signed_assertion_and_an_access_token_reused_until_it_expires,
    fcm_retries_after_429_and_503_and_forgets_unregistered_tokens,
    an_oversize_fcm_payload_is_refused,
    a_bad_service_account_leaves_the_server_serving_without_fcm,
);

/// TEST-ONLY key pair (see `fixtures/README.md`).
const TEST_ONLY_KEY: &str = include_str!("fixtures/fcm_test_only.key");
const TEST_ONLY_PUBLIC_KEY: &str = include_str!("fixtures/fcm_test_only.pub");
const CLIENT_EMAIL: &str = "kudakyar@test-project.iam.gserviceaccount.com";
const PROJECT: &str = "test-project";
const KEY_ID: &str = "test-only-key-1";

/// A service account key file as the Firebase console gives it.
fn service_account(token_uri: &str) -> Value {
    json!({
        "type": "service_account", "project_id": PROJECT, "private_key_id": KEY_ID,
        "private_key": TEST_ONLY_KEY, "client_email": CLIENT_EMAIL, "client_id": "1",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
    })
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A device's registration token (about the length of a real one).
pub(crate) fn device(n: u32) -> String {
    format!("dev{n}:APA91b{}", "Xy_-9".repeat(30))
}

/// What the fake of Google has seen and will answer.
#[derive(Default)]
struct Google {
    token_uri: String,
    /// The lifetime of the access tokens it gives out.
    expires_in: u64,
    /// Access tokens given out, in order.
    issued: Vec<String>,
    /// Access tokens it no longer accepts (as if revoked).
    revoked: HashSet<String>,
    /// Assertions refused, and why: none, if the server signs right.
    refused: Vec<String>,
    /// Sends it took (whatever it answered): (access token, body).
    sends: Vec<(String, Value)>,
    /// The next sends' answers, in order (then 200).
    script: VecDeque<(u16, Option<String>, Value)>,
}

type Fake = Arc<Mutex<Google>>;

#[derive(Deserialize)]
struct Scope {
    scope: String,
}

/// Why an assertion is not one Google would take; none when it is.
fn check_assertion(google: &Google, form: &HashMap<String, String>) -> Option<String> {
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return Some(format!("grant_type {:?}", form.get("grant_type")));
    }
    let assertion = form.get("assertion")?;
    let key = RS256PublicKey::from_pem(TEST_ONLY_PUBLIC_KEY).unwrap();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([CLIENT_EMAIL.to_string()])),
        allowed_audiences: Some(HashSet::from([google.token_uri.clone()])),
        required_key_id: Some(KEY_ID.into()),
        ..VerificationOptions::default()
    };
    let claims: JWTClaims<Scope> = match key.verify_token(assertion, Some(options)) {
        Ok(c) => c,
        Err(e) => return Some(format!("not verified: {e}")),
    };
    if claims.custom.scope != fcm::SCOPE {
        return Some(format!("scope {}", claims.custom.scope));
    }
    let (Some(iat), Some(exp)) = (claims.issued_at, claims.expires_at) else {
        return Some("no iat or exp".into());
    };
    let lifetime = (exp - iat).as_secs();
    if !(60..=3600).contains(&lifetime) {
        return Some(format!("lives {lifetime} s"));
    }
    None
}

async fn token_endpoint(
    State(fake): State<Fake>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut google = fake.lock().unwrap();
    if let Some(why) = check_assertion(&google, &form) {
        google.refused.push(why);
        let body = json!({"error": "invalid_grant"});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let token = format!("ya29.test-{}", google.issued.len() + 1);
    google.issued.push(token.clone());
    let body =
        json!({"access_token": token, "expires_in": google.expires_in, "token_type": "Bearer"});
    Json(body).into_response()
}

async fn send_endpoint(
    State(fake): State<Fake>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut google = fake.lock().unwrap();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    if !google.issued.contains(&bearer) || google.revoked.contains(&bearer) {
        let body = json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    if project != PROJECT {
        return StatusCode::NOT_FOUND.into_response();
    }
    google.sends.push((bearer, body));
    let (status, retry_after, answer) = google.script.pop_front().unwrap_or((
        200,
        None,
        json!({"name": "projects/test-project/messages/0:1"}),
    ));
    let mut response = (StatusCode::from_u16(status).unwrap(), Json(answer)).into_response();
    if let Some(after) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", after.parse().unwrap());
    }
    response
}

/// The fake on a free port, its access tokens living `expires_in` seconds.
async fn google(expires_in: u64) -> (Fake, SocketAddr) {
    let fake: Fake = Arc::default();
    let app = axum::Router::new()
        .route("/token", axum::routing::post(token_endpoint))
        .route(
            "/v1/projects/{project}/messages:send",
            axum::routing::post(send_endpoint),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    {
        let mut google = fake.lock().unwrap();
        google.token_uri = format!("http://{addr}/token");
        google.expires_in = expires_in;
    }
    tokio::spawn(async move { axum::serve(listener, app).await });
    (fake, addr)
}

const SETTINGS: Settings = Settings {
    max_attempts: 5,
    retry_base_ms: 1000,
    retry_max_ms: 60_000,
    lease_ms: 30_000,
    batch: 10,
    poll: Duration::from_millis(50),
};

/// The scene with FCM on against the fake (and no worker of its own: the
/// tests run rounds by hand with the server's FCM transport).
pub(crate) struct FcmScene {
    pub(crate) s: Scene,
    fake: Fake,
    fcm: Fcm,
    metrics: Metrics,
    _files: tempfile::TempDir,
}

pub(crate) async fn fcm_scene(db: TestDb, expires_in: u64) -> FcmScene {
    let (fake, addr) = google(expires_in).await;
    let files = tempfile::tempdir().unwrap();
    let account = service_account(&format!("http://{addr}/token")).to_string();
    let path = write_file(files.path(), "service-account.json", &account);
    let s = scene_with(db, |c| {
        c.notify_workers = 0;
        c.notify_scheduler = false;
        c.fcm_service_account = Some(path);
        c.fcm_api_url = format!("http://{addr}");
    })
    .await;
    let account = s.app.state.fcm.active().expect("FCM is on");
    let fcm = Fcm::new(s.app.state.db.clone(), account, &s.app.state.config).unwrap();
    FcmScene {
        s,
        fake,
        fcm,
        metrics: Metrics::new(),
        _files: files,
    }
}

impl FcmScene {
    async fn register(&self, token: &str, device: &str, status: u16) -> Value {
        let body = json!({"token": device});
        self.s
            .act(token, "/api/v1/push/fcm-tokens", body, status)
            .await
    }

    async fn round_at(&self, now: i64) -> worker::Round {
        worker::run_once(
            &self.s.app.state.db,
            &SETTINGS,
            &self.fcm,
            &self.metrics,
            now,
        )
        .await
        .unwrap()
    }

    async fn round(&self) -> worker::Round {
        self.round_at(kudakyar::now_ms()).await
    }

    /// (id, state, next_attempt_at, last_error) of the newest delivery.
    async fn newest(&self) -> (i64, String, i64, Option<String>) {
        sqlx::query_as(
            "SELECT id, state, next_attempt_at, last_error FROM deliveries ORDER BY id DESC",
        )
        .fetch_one(self.s.app.state.db.pool())
        .await
        .unwrap()
    }

    fn script(&self, status: u16, retry_after: Option<String>, answer: Value) {
        let mut google = self.fake.lock().unwrap();
        google.script.push_back((status, retry_after, answer));
    }

    async fn tokens(&self) -> i64 {
        self.s
            .count(
                "SELECT COUNT(*) FROM fcm_tokens WHERE user_id = $1",
                &self.s.sup_id,
            )
            .await
    }
}

async fn fcm_tokens_are_validated_kept_per_token_and_removed_by_their_owner(db: TestDb) {
    let f = fcm_scene(db, 3600).await;
    let s = &f.s;
    let first = f.register(&s.worker, &device(1), 201).await;
    assert!(first["created_at"].is_string());
    assert!(first.get("token").is_none(), "the token is not echoed");
    // Again (the app starting again): the same registration, 200.
    let again = f.register(&s.worker, &device(1), 200).await;
    assert_eq!(first["id"], again["id"]);
    let count = "SELECT COUNT(*) FROM fcm_tokens WHERE user_id = $1";
    assert_eq!(s.count(count, &s.worker_id).await, 1);
    // A phone syncing six requests at once, each registering its token:
    // one registration, created once, the same answer to every request.
    let path = "/api/v1/push/fcm-tokens";
    let body = json!({"token": device(3)});
    let answers =
        futures::future::join_all((0..6).map(|_| s.app.post(&s.worker, path, &body))).await;
    let mut statuses = Vec::new();
    let mut ids = HashSet::new();
    for answer in answers {
        statuses.push(answer.status().as_u16());
        let registration: Value = answer.json().await.unwrap();
        ids.insert(registration["id"].to_string());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 201]);
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(s.count(count, &s.worker_id).await, 2);
    // The phone handed to the supervisor: the token moves to them.
    let moved = f.register(&s.sup, &device(1), 200).await;
    assert_eq!(moved["id"], first["id"]);
    assert_eq!(s.count(count, &s.worker_id).await, 1, "the other phone's");
    assert_eq!(s.count(count, &s.sup_id).await, 1);

    // Each bad input names the field.
    for body in [
        json!({"token": ""}),
        json!({"token": "too-short"}),
        json!({"token": "a".repeat(1025)}),
        json!({"token": format!("{} with spaces", device(2))}),
        json!({"token": format!("{}/", device(2))}),
        json!({"token": 42}),
        json!({}),
    ] {
        let p = problem(s.app.post(&s.worker, path, &body).await, 422).await;
        assert!(p["errors"]["token"].is_array(), "{body}: {p}");
    }
    let unknown = json!({"token": device(2), "platform": "android"});
    let p = problem(s.app.post(&s.worker, path, &unknown).await, 422).await;
    assert!(p["errors"]["platform"].is_array(), "{p}");
    let anonymous = s
        .app
        .client
        .post(s.app.url(path))
        .json(&json!({"token": device(2)}));
    problem(anonymous.send().await.unwrap(), 401).await;

    // Only the owner removes it; then it is gone.
    let delete = |token: &str, body: Value| {
        s.app
            .client
            .delete(s.app.url(path))
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    let gone = json!({"token": device(1)});
    problem(delete(&s.worker, gone.clone()).await.unwrap(), 404).await;
    let p = problem(delete(&s.sup, json!({"token": "x"})).await.unwrap(), 422).await;
    assert!(p["errors"]["token"].is_array(), "{p}");
    assert_eq!(delete(&s.sup, gone.clone()).await.unwrap().status(), 204);
    problem(delete(&s.sup, gone).await.unwrap(), 404).await;
    assert_eq!(f.tokens().await, 0);
}

async fn messages_carry_a_signed_assertion_and_an_access_token_reused_until_it_expires(db: TestDb) {
    // Access tokens live 63 s: with the server's minute of margin, 3 s.
    let f = fcm_scene(db, 63).await;
    let s = &f.s;
    let ready = s.app.get_json(&s.sup, "/api/v1/ready").await;
    assert_eq!(ready["fcm"], "on");
    assert!(ready.get("fcm_error").is_none(), "{ready}");
    f.register(&s.sup, &device(1), 201).await;
    f.register(&s.sup, &device(2), 201).await;

    let report = s.citizen_reports(JUNCTION, 0).await;
    let channels: Vec<String> = sqlx::query_scalar("SELECT channel FROM deliveries")
        .fetch_all(s.app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(channels, ["fcm", "fcm"], "one per token of the recipient");
    let round = f.round().await;
    assert_eq!((round.claimed, round.sent), (2, 2));
    let inbox = s.read(&s.sup, "/api/v1/notifications", 200).await;
    {
        let google = f.fake.lock().unwrap();
        assert!(google.refused.is_empty(), "{:?}", google.refused);
        assert_eq!(google.issued.len(), 1, "one access token for both sends");
        let mut to: Vec<&str> = Vec::new();
        for (bearer, body) in &google.sends {
            assert_eq!(bearer, &google.issued[0]);
            let message = &body["message"];
            to.push(message["token"].as_str().unwrap());
            // Kind, subject and notification id, as strings: no name,
            // photo or place.
            assert_eq!(
                message["data"],
                json!({
                    "notification_id": inbox["items"][0]["id"].to_string(),
                    "kind": "sighting_received",
                    "critical": "false",
                    "subject_type": "sighting",
                    "subject_id": report,
                })
            );
            assert_eq!(message["android"]["priority"], "NORMAL");
        }
        to.sort();
        assert_eq!(to, [device(1), device(2)]);
    }

    // Within its lifetime the token is reused.
    s.citizen_reports(JUNCTION, 1).await;
    assert_eq!(f.round().await.sent, 2);
    assert_eq!(f.fake.lock().unwrap().issued.len(), 1);

    // Past it (less the margin), a new one is asked for.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    s.citizen_reports(JUNCTION, 2).await;
    assert_eq!(f.round().await.sent, 2);
    {
        let google = f.fake.lock().unwrap();
        assert!(google.refused.is_empty(), "{:?}", google.refused);
        assert_eq!(google.issued.len(), 2);
        let last: Vec<&String> = google.sends[4..].iter().map(|(b, _)| b).collect();
        assert_eq!(last, [&google.issued[1], &google.issued[1]]);
    }

    // FCM refuses the cached token (401): both sends waiting on it drop it,
    // one asks for a new one, both go again with it in the same attempt.
    {
        let mut google = f.fake.lock().unwrap();
        let current = google.issued[1].clone();
        google.revoked.insert(current);
    }
    s.citizen_reports(JUNCTION, 3).await;
    let round = f.round().await;
    assert_eq!((round.sent, round.retried), (2, 0));
    {
        let google = f.fake.lock().unwrap();
        assert_eq!(google.issued.len(), 3, "one refresh for both");
        let last: Vec<&String> = google.sends[6..].iter().map(|(b, _)| b).collect();
        assert_eq!(last, [&google.issued[2], &google.issued[2]]);
    }
    let text = f.metrics.encode().unwrap();
    assert!(
        text.contains("kudakyar_notify_sent_total{channel=\"fcm\"} 8"),
        "{text}"
    );
}

/// An HTTP date `secs` from now (`Sun, 06 Dec 2026 15:01:30 GMT`).
fn http_date_in(secs: i64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(&format).unwrap()
}

fn fcm_error(code: u16, status: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": "refused", "status": status, "details": details}})
}

fn error_code(code: &str) -> Value {
    json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}])
}

async fn fcm_retries_after_429_and_503_and_forgets_unregistered_tokens(db: TestDb) {
    let f = fcm_scene(db, 3600).await;
    let s = &f.s;
    f.register(&s.sup, &device(1), 201).await;

    // 429 QUOTA_EXCEEDED with Retry-After in seconds: it waits that long,
    // longer than the backoff (at most a second here).
    let quota = fcm_error(429, "RESOURCE_EXHAUSTED", error_code("QUOTA_EXCEEDED"));
    f.script(429, Some("120".into()), quota);
    s.citizen_reports(JUNCTION, 0).await;
    let (_, _, t0, _) = f.newest().await;
    let round = f.round_at(t0).await;
    assert_eq!(round.retried, 1);
    let (_, state, next, error) = f.newest().await;
    assert_eq!(state, "failed");
    assert_eq!(next, t0 + 120_000);
    let error = error.unwrap();
    assert!(
        error.contains("429") && error.contains("QUOTA_EXCEEDED"),
        "{error}"
    );
    assert_eq!(f.round_at(next - 1).await.claimed, 0, "not before its time");
    assert_eq!(f.round_at(next).await.sent, 1);
    assert_eq!(f.newest().await.1, "sent");

    // 503 with Retry-After as an HTTP date, 90 s ahead.
    let unavailable = fcm_error(503, "UNAVAILABLE", json!([]));
    f.script(503, Some(http_date_in(90)), unavailable.clone());
    s.citizen_reports(JUNCTION, 1).await;
    let (_, _, t1, _) = f.newest().await;
    assert_eq!(f.round_at(t1).await.retried, 1);
    let (_, state, next, _) = f.newest().await;
    assert_eq!(state, "failed");
    assert!((85_000..=91_000).contains(&(next - t1)), "{}", next - t1);
    assert_eq!(f.round_at(next).await.sent, 1);

    // 503 without Retry-After: the outbox's backoff (half to all of a second).
    f.script(503, None, unavailable);
    s.citizen_reports(JUNCTION, 2).await;
    let (_, _, t2, _) = f.newest().await;
    assert_eq!(f.round_at(t2).await.retried, 1);
    let (_, _, next, _) = f.newest().await;
    assert!((500..=1000).contains(&(next - t2)), "{}", next - t2);
    assert_eq!(f.round_at(next).await.sent, 1);
    assert_eq!(f.fake.lock().unwrap().sends.len(), 6);

    // UNREGISTERED: the token is deleted, the delivery given up.
    f.script(
        404,
        None,
        fcm_error(404, "NOT_FOUND", error_code("UNREGISTERED")),
    );
    s.citizen_reports(JUNCTION, 3).await;
    let round = f.round().await;
    assert_eq!((round.dead, round.retried), (1, 0));
    let (_, state, _, error) = f.newest().await;
    assert_eq!(state, "dead");
    assert!(error.unwrap().contains("UNREGISTERED"));
    assert_eq!(f.tokens().await, 0);
    // Nothing more is queued for it.
    let before = f.newest().await.0;
    s.citizen_reports(JUNCTION, 4).await;
    assert_eq!(f.newest().await.0, before);

    // An invalid token (INVALID_ARGUMENT on message.token): deleted too.
    f.register(&s.sup, &device(2), 201).await;
    let invalid = json!([
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
         "errorCode": "INVALID_ARGUMENT"},
        {"@type": "type.googleapis.com/google.rpc.BadRequest",
         "fieldViolations": [{"field": "message.token",
                              "description": "Invalid registration token"}]},
    ]);
    f.script(400, None, fcm_error(400, "INVALID_ARGUMENT", invalid));
    s.citizen_reports(JUNCTION, 5).await;
    assert_eq!(f.round().await.dead, 1);
    assert_eq!(f.tokens().await, 0);
}

async fn an_oversize_fcm_payload_is_refused(db: TestDb) {
    let f = fcm_scene(db, 3600).await;
    let s = &f.s;
    f.register(&s.sup, &device(1), 201).await;
    s.citizen_reports(JUNCTION, 0).await;
    // A subject id no real notification has, making the data over 4 KB.
    sqlx::query("UPDATE notifications SET subject_id = $1")
        .bind("x".repeat(fcm::MAX_PAYLOAD))
        .execute(s.app.state.db.pool())
        .await
        .unwrap();
    let round = f.round().await;
    assert_eq!((round.dead, round.sent), (1, 0));
    let (_, state, _, error) = f.newest().await;
    assert_eq!(state, "dead");
    let error = error.unwrap();
    assert!(error.contains("over FCM's limit of 4096"), "{error}");
    assert!(f.fake.lock().unwrap().sends.is_empty(), "nothing was sent");
    assert_eq!(f.tokens().await, 1, "the token is not to blame");
    // One of the usual size goes.
    s.citizen_reports(JUNCTION, 1).await;
    assert_eq!(f.round().await.sent, 1);
}

async fn a_bad_service_account_leaves_the_server_serving_without_fcm(db: TestDb) {
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    let good = service_account("https://oauth2.googleapis.com/token");
    let with = |field: &str, value: Value| {
        let mut account = good.clone();
        account[field] = value;
        account.to_string()
    };
    let without_key = {
        let mut account = good.clone();
        account.as_object_mut().unwrap().remove("private_key");
        account.to_string()
    };
    let not_a_key = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.join("missing.json"), "cannot be read"),
        (
            write_file(dir, "text.json", "not json at all"),
            "not a service account key file",
        ),
        (write_file(dir, "no-key.json", &without_key), "private_key"),
        (
            write_file(dir, "bad-key.json", &with("private_key", json!(not_a_key))),
            "not an RSA private key",
        ),
        (
            write_file(dir, "user.json", &with("type", json!("authorized_user"))),
            "authorized_user",
        ),
        (
            write_file(dir, "uri.json", &with("token_uri", json!("ftp://x"))),
            "token_uri",
        ),
        (
            write_file(dir, "project.json", &with("project_id", json!("a/../b"))),
            "project_id",
        ),
    ];
    for (path, why) in &cases {
        let config = Config {
            fcm_service_account: Some(path.clone()),
            ..Config::default()
        };
        let status = fcm::Status::from_config(&config);
        assert_eq!(status.label(), "error", "{why}");
        let error = status.error().unwrap();
        assert!(
            error.contains("fcm_service_account") && error.contains(why),
            "{why}: {error}"
        );
        assert!(
            !error.contains("PRIVATE KEY") && !error.contains("bm90"),
            "{error}"
        );
    }
    let bad_api = Config {
        fcm_service_account: Some(write_file(dir, "good.json", &good.to_string())),
        fcm_api_url: "not a url".into(),
        ..Config::default()
    };
    assert!(
        fcm::Status::from_config(&bad_api)
            .error()
            .unwrap()
            .contains("fcm_api_url")
    );
    assert_eq!(fcm::Status::from_config(&Config::default()).label(), "off");

    // The server with a bad file serves, with FCM off, and says why.
    let bad = cases[3].0.clone();
    let app = TestApp::start_with(db, |c| c.fcm_service_account = Some(bad)).await;
    let health = app.get_anonymous("/api/v1/health").await;
    assert_eq!(health.status(), 200);
    let ready = app.get_anonymous("/api/v1/ready").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["fcm"], "error");
    assert!(
        ready["fcm_error"]
            .as_str()
            .unwrap()
            .contains("not an RSA private key"),
        "{ready}"
    );
    assert_eq!(ready["sms"], "off");
    assert!(app.state.fcm.active().is_none());
    // No tokens are taken for a channel that is off.
    let admin = app.admin_token().await;
    let body = json!({"token": device(1)});
    let p = problem(
        app.post(&admin, "/api/v1/push/fcm-tokens", &body).await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("FCM"), "{p}");
    // Web Push is not affected.
    let key = app.get(&admin, "/api/v1/push/vapid-key").await;
    assert_eq!(key.status(), 200);
}
