//! Iris-in-the-registry benchmark (issue 5).
//!
//! 1. Seeds `BENCH_IRIS_DEDUP` sealed templates (default 100 000; gallery
//!    fillers made by `iris::synth::mosaic` from real synthetic codes), starts
//!    the server on a local port and times `BENCH_IRIS_REQUESTS` (default
//!    100) registrations over HTTP — each a new child with one synthetic
//!    capture: decode, quality, template, national 1:N search, the record,
//!    the sealed capture and template written. Target: p95 ≤ 150 ms.
//! 2. Tops the table up to `BENCH_IRIS_LOAD` templates (default 1 000 000)
//!    and times a server start-up (read + decrypt every template into the
//!    gallery; target ≤ 10 s), then identify requests over HTTP against that
//!    gallery (the engine's 1:N target, ≤ 50 ms p50 for the search, inside
//!    the server; the time includes analysing the capture).
//!
//! SQLite (a temporary file) always; PostgreSQL as well when
//! `KUDAKYAR_TEST_POSTGRES_URL` is set (a fresh database, dropped after);
//! `BENCH_IRIS_SQLITE=0` skips SQLite.
//!
//! ```text
//! cargo bench -p kudakyar --bench iris
//! ```

use std::io::Cursor;
use std::time::{Duration, Instant};

use kudakyar::app::AppState;
use kudakyar::biometrics::keys::Keyring;
use kudakyar::config::Config;
use kudakyar::db::Db;
use kudakyar::db::scratch::{self, ScratchDatabase};
use serde_json::{Value, json};

const ROWS_PER_INSERT: usize = 2_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn png(id: u64, capture: u64) -> Option<Vec<u8>> {
    let img = iris::synth::eye(99, id, capture, iris::synth::Resolution::Small);
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).ok()?;
    let out = out.into_inner();
    iris::enrol(&out, &iris::Config::default()).ok()?;
    Some(out)
}

/// Real synthetic codes to build gallery fillers from.
fn code_pool() -> Vec<iris::Template> {
    (10_000..10_060)
        .filter_map(|id| png(id, 0))
        .filter_map(|p| iris::enrol(&p, &iris::Config::default()).ok())
        .map(|c| c.template)
        .collect()
}

/// Inserts sealed filler templates until the table holds `target` rows, all
/// owned by one seeded child (the owner does not change the load or search).
async fn seed(
    db: &Db,
    config: &Config,
    child_id: &str,
    user_id: &str,
    target: usize,
    pool: &[iris::Template],
) {
    let keys = Keyring::load(config, true).unwrap();
    let key = keys.sealing().clone();
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM iris_templates")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let mut rng = iris::synth::Rng::new(&[have as u64, 5]);
    let mut n = have as usize;
    let started = Instant::now();
    while n < target {
        let batch = ROWS_PER_INSERT.min(target - n);
        let mut sql = String::from(
            "INSERT INTO iris_templates (id, child_id, eye, sealed_template, key_id, capture_key,
                capture_sha256, quality, engine_version, created_by, created_at) VALUES ",
        );
        let rows: Vec<(String, Vec<u8>)> = (0..batch)
            .map(|i| {
                let id = format!("f{:011}-0000-4000-8000-000000000000", n + i);
                let t = iris::synth::mosaic(pool, &mut rng);
                let sealed = key.seal(&id, &t.to_bytes());
                (id, sealed)
            })
            .collect();
        for i in 0..batch {
            let p = i * 5;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, 'left', ${}, ${}, NULL, '', '{{}}', 'bench', ${}, 0)",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            ));
        }
        let mut q = sqlx::query(&sql);
        for (id, sealed) in &rows {
            q = q
                .bind(id.as_str())
                .bind(child_id)
                .bind(sealed.as_slice())
                .bind(key.id())
                .bind(user_id);
        }
        q.execute(db.pool()).await.unwrap();
        n += batch;
    }
    eprintln!(
        "  seeded {} templates in {:.1} s",
        n - have as usize,
        started.elapsed().as_secs_f64()
    );
}

/// Posts a multipart form (name, file name for file parts, bytes) and
/// times it until the whole answer is read.
async fn timed_form_post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    parts: &[(&str, Option<&str>, &[u8])],
) -> (Duration, reqwest::StatusCode) {
    let mut form = reqwest::multipart::Form::new();
    for (name, file, bytes) in parts {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec());
        let part = match file {
            Some(f) => part.file_name(f.to_string()),
            None => part,
        };
        form = form.part(name.to_string(), part);
    }
    let started = Instant::now();
    let r = client
        .post(url)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let _ = r.bytes().await;
    (started.elapsed(), status)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn run(label: &str, db: Db, dir: &std::path::Path) {
    let config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    db.migrate().await.unwrap();
    kudakyar::users::bootstrap_admin(&db, dir, Some("bench admin password"))
        .await
        .unwrap();
    let pool = code_pool();
    let dedup = env_usize("BENCH_IRIS_DEDUP", 100_000);
    let load = env_usize("BENCH_IRIS_LOAD", 1_000_000);
    let requests = env_usize("BENCH_IRIS_REQUESTS", 100);
    eprintln!("{label}: {} real codes for fillers", pool.len());

    // A server with an empty gallery, to create the owner child and a token.
    let state = AppState::with_db(config.clone(), db.clone()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kudakyar::app::serve(
        state,
        listener,
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "bench admin password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let owner = "0e000000-0000-4000-8000-00000000000e";
    let created = client
        .post(format!("{base}/api/v1/children"))
        .bearer_auth(&token)
        .json(
            &json!({"id": owner, "sex": "male", "nationality": "afghan", "home_province": "IR-23"}),
        )
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let admin_id: String = sqlx::query_scalar("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(db.pool())
        .await
        .unwrap();

    seed(&db, &config, owner, &admin_id, dedup, &pool).await;
    // A fresh instance loads that gallery.
    let state = AppState::with_db(config.clone(), db.clone()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    eprintln!("  gallery of {} eyes", state.biometrics.gallery.len());
    tokio::spawn(kudakyar::app::serve(
        state,
        listener,
        std::future::pending(),
    ));

    let captures: Vec<Vec<u8>> = (20_000..)
        .filter_map(|id| png(id, 1))
        .take(requests)
        .collect();
    let mut times = Vec::with_capacity(requests);
    for (i, capture) in captures.iter().enumerate() {
        let record = json!({
            "id": format!("2b000000-0000-4000-8000-{:012}", i), "sex": "male",
            "nationality": "afghan", "home_province": "IR-23",
        })
        .to_string();
        let (took, status) = timed_form_post(
            &client,
            &format!("{base}/api/v1/registrations"),
            &token,
            &[
                ("child", None, record.as_bytes()),
                ("left", Some("l.png"), capture),
            ],
        )
        .await;
        times.push(took);
        assert!(status.is_success(), "registration {i}: {status}");
    }
    times.sort();
    eprintln!(
        "{label}: registration with dedup, gallery {dedup}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} requests)",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 1.0),
        times.len()
    );

    seed(&db, &config, owner, &admin_id, load, &pool).await;
    // As autovacuum would long before a restart: without it, the first scan
    // after a bulk insert also writes every page (hint bits) and measures that.
    if db.backend() == kudakyar::db::Backend::Postgres {
        sqlx::query("VACUUM ANALYZE iris_templates")
            .execute(db.pool())
            .await
            .unwrap();
    }
    // A server start-up: migrations, key, and the gallery load.
    let started = Instant::now();
    let state = AppState::with_db(config.clone(), db.clone()).await.unwrap();
    eprintln!(
        "{label}: start-up with {} sealed templates: {:.2} s",
        state.biometrics.gallery.len(),
        started.elapsed().as_secs_f64()
    );
    // 1:N inside the server: identify over HTTP with captures registered
    // above (each finds its child; every search scans the whole gallery).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kudakyar::app::serve(
        state,
        listener,
        std::future::pending(),
    ));
    let mut times = Vec::new();
    for capture in captures.iter().take(requests.min(40)) {
        let (took, status) = timed_form_post(
            &client,
            &format!("{base}/api/v1/iris/identify"),
            &token,
            &[("left", Some("l.png"), capture)],
        )
        .await;
        assert!(status.is_success(), "identify: {status}");
        times.push(took);
    }
    times.sort();
    eprintln!(
        "{label}: identify over HTTP, gallery {load}: p50 {:.1} ms, p95 {:.1} ms ({} requests, capture analysis included)",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times.len()
    );
}

fn main() {
    // `cargo test --benches` runs benches with `--bench`-less args; only a
    // real `cargo bench` run does the work.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        if std::env::var("BENCH_IRIS_SQLITE").as_deref() != Ok("0") {
            let db = Db::open(None, dir.path()).await.unwrap();
            run("SQLite", db, dir.path()).await;
        }
        if let Some(admin_url) = scratch::test_postgres_url("the iris bench") {
            let scratch = ScratchDatabase::create(&admin_url, "kudakyar_bench_iris")
                .await
                .unwrap();
            let dir = tempfile::tempdir().unwrap();
            let db = Db::open(Some(&scratch.url()), dir.path()).await.unwrap();
            run("PostgreSQL", db.clone(), dir.path()).await;
            db.close().await;
            scratch.drop().await.unwrap();
        }
    });
}
