//! What the server's command-line benches share (`#[path]`-included by each,
//! so it is not a bench target of its own): size knobs from the environment,
//! latency percentiles, a server on a free port with a known admin, the
//! cities reports and events are spread around, and the run on SQLite then
//! on a scratch PostgreSQL database. Each bench uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use kudakyar::app::AppState;
use kudakyar::config::Config;
use kudakyar::db::Db;
use kudakyar::db::scratch::{self, ScratchDatabase};

/// The admin password of [`start`]'s server.
pub const ADMIN_PASSWORD: &str = "bench admin password";

/// Junctions of ten large cities (lat, lng).
pub const CITIES: [(f64, f64); 10] = [
    (35.6892, 51.3890), // Tehran
    (36.2972, 59.6067), // Mashhad
    (32.6539, 51.6660), // Isfahan
    (35.8400, 50.9391), // Karaj
    (29.5918, 52.5837), // Shiraz
    (38.0800, 46.2919), // Tabriz
    (31.3183, 48.6706), // Ahvaz
    (34.6399, 50.8759), // Qom
    (34.3142, 47.0650), // Kermanshah
    (29.4963, 60.8629), // Zahedan
];

/// The environment variable `name` parsed, else `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0–1) of sorted values; the default of `T` when empty.
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Logs `username` in at the server at `base`; its bearer token.
pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let answer: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {username}: {answer}"))
        .to_string()
}

/// `kudakyar serve` in-process on a free port, intake limits lifted.
pub struct Server {
    pub url: String,
    pub state: AppState,
    _dir: tempfile::TempDir,
}

pub async fn start(db: Db) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        sighting_max_per_hour: u32::MAX,
        sighting_soft_limit_per_hour: u32::MAX,
        ..Config::default()
    };
    let state = AppState::with_db(config, db).await.unwrap();
    kudakyar::users::bootstrap_admin(&state.db, dir.path(), Some(ADMIN_PASSWORD))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = state.clone();
    tokio::spawn(
        async move { kudakyar::app::serve(served, listener, std::future::pending()).await },
    );
    Server {
        url,
        state,
        _dir: dir,
    }
}

/// Runs `run(name, db)` on a fresh SQLite database, then on a scratch
/// PostgreSQL database when `KUDAKYAR_TEST_POSTGRES_URL` is set;
/// `BENCH_ONLY=sqlite` or `postgres` runs one. `what` names the bench in the
/// line said when PostgreSQL is not configured.
pub fn on_both_backends(what: &str, run: impl AsyncFn(&str, Db)) {
    let only = std::env::var("BENCH_ONLY").ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        if only.as_deref().is_none_or(|o| o == "sqlite") {
            let dir = tempfile::tempdir().unwrap();
            let db = Db::open(None, dir.path()).await.unwrap();
            run("SQLite", db).await;
        }
        let postgres = only
            .as_deref()
            .is_none_or(|o| o == "postgres")
            .then(|| scratch::test_postgres_url(what))
            .flatten();
        if let Some(admin_url) = postgres {
            let scratch = ScratchDatabase::create(&admin_url, "kudakyar_bench")
                .await
                .unwrap();
            let db = Db::connect(&scratch.url()).await.unwrap();
            run("PostgreSQL", db.clone()).await;
            db.close().await;
            scratch.drop().await.unwrap();
        }
    });
}

/// A citizen's report `subject` in Tehran (county 2301), recorded as its
/// domain event in `tx`: its notifications (and their deliveries) are
/// written by the real `events::record` → `notify::fan_out` path.
pub async fn report_event(tx: &mut kudakyar::db::WriteTx, subject: &str) {
    kudakyar::events::record(
        &mut *tx,
        kudakyar::events::DomainEvent {
            kind: kudakyar::events::Kind::SightingReceived,
            province: Some("IR-23"),
            county: Some("2301"),
            subject_type: "sighting",
            subject_id: subject,
            user_id: None,
            actor_id: None,
            detail: Some(serde_json::json!({"source": "citizen"})),
        },
    )
    .await
    .unwrap();
}
