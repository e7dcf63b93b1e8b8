//! Notification delivery benchmark: the outbox and Web Push to a real
//! local push service (npm `web-push-testing`, which checks each VAPID
//! signature and decrypts each message).
//!
//! One supervisor with one push subscription made at the push service.
//! Domain events (citizen reports in the supervisor's county) go through
//! the real `events::record` → `notify::fan_out` path, so each writes its
//! notification and its outbox row in the event's transaction.
//!
//! 1. **Throughput**: `BENCH_NOTIFICATIONS` (default 10,000) events
//!    committed with the workers stopped, then this instance's workers
//!    (`BENCH_WORKERS`, default 1) started and timed until every delivery is
//!    `sent`: deliveries per second through claim → encrypt → sign → POST →
//!    201 → mark sent.
//! 2. **Latency**: `BENCH_PACED` (default 1,000) events, one per
//!    transaction, at `BENCH_RATE` per second (default 50) with the workers
//!    running (polling every `BENCH_POLL_MS`, default the server's 1000):
//!    p50/p95/p99 from the notification's write, in its committing
//!    transaction, to the push service's 201 (`sent_at`).
//!
//! At the end the push service must hold every message, decrypted. Runs on
//! SQLite (a temporary file) and, when `KUDAKYAR_TEST_POSTGRES_URL` is set,
//! on a fresh PostgreSQL database; `BENCH_ONLY=sqlite|postgres` runs one.
//! Needs `KUDAKYAR_TEST_WEB_PUSH` (the push service's script; `cargo xtask
//! test` installs it under `tests/push/node_modules`).
//!
//! ```text
//! KUDAKYAR_TEST_WEB_PUSH=$PWD/tests/push/node_modules/web-push-testing/src/bin/server.js \
//!   cargo bench -p kudakyar --bench notify
//! ```

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use kudakyar::app::AppState;
use kudakyar::config::Config;
use kudakyar::db::Db;
use kudakyar::db::scratch::{self, ScratchDatabase};
use kudakyar_api::notifications::{PushKeys, PushSubscriptionInput};
use serde_json::{Value, json};
use support::{env_or, percentile};
use tokio_util::sync::CancellationToken;

/// npm web-push-testing on a free port, killed when dropped.
struct PushService {
    _child: tokio::process::Child,
    url: String,
    client: reqwest::Client,
}

impl PushService {
    async fn start(script: &str) -> PushService {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new("node")
            .arg(script)
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs web-push-testing");
        let service = PushService {
            _child: child,
            url: format!("http://localhost:{port}"),
            client: reqwest::Client::new(),
        };
        for _ in 0..200 {
            if service.call("/status", json!({})).await.is_ok() {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("web-push-testing did not start");
    }

    async fn call(&self, path: &str, body: Value) -> reqwest::Result<Value> {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(response.json().await.unwrap_or(Value::Null))
    }
}

async fn record_events(db: &Db, count: usize, per_transaction: usize) {
    let mut left = count;
    while left > 0 {
        let n = left.min(per_transaction);
        let mut tx = db.begin_write().await.unwrap();
        for _ in 0..n {
            let id = uuid::Uuid::now_v7().to_string();
            support::report_event(&mut tx, &id).await;
        }
        tx.commit().await.unwrap();
        left -= n;
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

async fn wait_until_sent(db: &Db, total: i64) {
    loop {
        let sent = count(db, "SELECT COUNT(*) FROM deliveries WHERE state = 'sent'").await;
        if sent >= total {
            return;
        }
        let stuck = count(
            db,
            "SELECT COUNT(*) FROM deliveries WHERE state IN ('failed', 'dead')",
        )
        .await;
        assert_eq!(stuck, 0, "every delivery must succeed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn bench(name: &str, db: Db, script: &str) {
    let notifications: usize = env_or("BENCH_NOTIFICATIONS", 10_000);
    let paced: usize = env_or("BENCH_PACED", 1_000);
    let rate: f64 = env_or("BENCH_RATE", 50.0);
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        push_allow_local_http: true,
        notify_workers: env_or("BENCH_WORKERS", 1),
        notify_scheduler: false,
        notify_poll_ms: env_or("BENCH_POLL_MS", Config::default().notify_poll_ms),
        ..Config::default()
    };
    let state = AppState::with_db(config, db.clone()).await.unwrap();
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, province, county, created_at)
         VALUES ('bench-sup', 'benchsup', 'not a hash', 'supervisor', 'IR-23', '2301', 0)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let service = PushService::start(script).await;
    let made = service
        .call(
            "/subscribe",
            json!({"applicationServerKey": state.vapid.public_key(), "userVisibleOnly": "true"}),
        )
        .await
        .unwrap();
    let data = &made["data"];
    let input = PushSubscriptionInput {
        endpoint: data["endpoint"].as_str().unwrap().into(),
        keys: PushKeys {
            p256dh: data["keys"]["p256dh"].as_str().unwrap().into(),
            auth: data["keys"]["auth"].as_str().unwrap().into(),
        },
        expiration_time: None,
    };
    let valid = kudakyar::notify::push::validate(&input, true).unwrap();
    kudakyar::notify::push::subscribe(&db, "bench-sup", &valid)
        .await
        .unwrap();

    // 1. Throughput: a backlog drained by the workers.
    let queued_at = Instant::now();
    record_events(&db, notifications, 100).await;
    let queueing = queued_at.elapsed();
    let stop = CancellationToken::new();
    let started = Instant::now();
    let workers = kudakyar::notify::spawn_workers(&state, stop.clone()).unwrap();
    wait_until_sent(&db, notifications as i64).await;
    let drained = started.elapsed();
    println!(
        "{name}: fan-out of {notifications} events (100 per transaction) {:.0} ms; \
         {notifications} pushes delivered in {:.2} s = {:.0}/s with {} worker(s)",
        queueing.as_secs_f64() * 1000.0,
        drained.as_secs_f64(),
        notifications as f64 / drained.as_secs_f64(),
        state.config.notify_workers,
    );

    // 2. Latency: one event per transaction at a steady rate.
    let first_paced: i64 = count(&db, "SELECT COALESCE(MAX(id), 0) FROM notifications").await;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(interval);
    for _ in 0..paced {
        tick.tick().await;
        record_events(&db, 1, 1).await;
    }
    wait_until_sent(&db, (notifications + paced) as i64).await;
    let mut latencies: Vec<i64> = sqlx::query_scalar(
        "SELECT d.sent_at - n.created_at FROM deliveries d
         JOIN notifications n ON n.id = d.notification_id WHERE n.id > $1",
    )
    .bind(first_paced)
    .fetch_all(db.pool())
    .await
    .unwrap();
    latencies.sort_unstable();
    println!(
        "{name}: {paced} events at {rate}/s, commit → push service's 201: \
         p50 {} ms, p95 {} ms, p99 {} ms, max {} ms (worker poll {} ms)",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0),
        state.config.notify_poll_ms,
    );
    stop.cancel();
    for w in workers {
        w.await.unwrap();
    }

    // The push service decrypted every one.
    let client_hash = data["clientHash"].clone();
    let got = service
        .call("/get-notifications", json!({"clientHash": client_hash}))
        .await
        .unwrap();
    let received = got["data"]["messages"].as_array().unwrap().len();
    assert_eq!(
        received,
        notifications + paced,
        "the push service got them all"
    );
    println!("{name}: the push service decrypted all {received} messages");
}

fn main() {
    let Ok(script) = std::env::var("KUDAKYAR_TEST_WEB_PUSH") else {
        eprintln!("KUDAKYAR_TEST_WEB_PUSH is not set: see the header of benches/notify.rs");
        std::process::exit(2);
    };
    let only = std::env::var("BENCH_ONLY").ok();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        if only.as_deref() != Some("postgres") {
            let dir = tempfile::tempdir().unwrap();
            let db = Db::open(None, dir.path()).await.unwrap();
            db.migrate().await.unwrap();
            bench("sqlite", db, &script).await;
        }
        if only.as_deref() != Some("sqlite")
            && let Some(url) = scratch::test_postgres_url("the notify bench")
        {
            let scratch = ScratchDatabase::create(&url, "kudakyar_bench")
                .await
                .unwrap();
            let db = Db::connect(&scratch.url()).await.unwrap();
            db.migrate().await.unwrap();
            bench("postgres", db.clone(), &script).await;
            db.close().await;
            scratch.drop().await.unwrap();
        }
    });
}
