//! Sightings benchmark: public intake under load, and the triage list of a
//! county with a million reports stored.
//!
//! 1. **Intake**: the real router on a local port (release build, in this
//!    process), and `BENCH_CLIENTS` (default 32) concurrent HTTP/1.1 clients
//!    posting citizens' JSON reports without photo — each a fresh id, at a
//!    random junction of ten cities — for `BENCH_SECONDS` (default 10).
//!    Limits are raised so every report is taken in (a load test from one
//!    address would otherwise meet them). Prints requests/s and p50/p95/p99
//!    latency; every answer must be 201 (any other status fails the bench).
//!    The clients run on the same two cores as the server, so the figure is
//!    a floor.
//! 2. **Triage list**: seeds `BENCH_REPORTS` (default 1,000,000) reports
//!    with bulk SQL over 31 provinces and their counties, then times
//!    `BENCH_QUERIES` (default 300) reads of the first page of one county's
//!    queue (`GET /api/v1/sightings?county=…`) as its supervisor.
//!
//! Runs on SQLite (a temporary file) and, when `KUDAKYAR_TEST_POSTGRES_URL`
//! is set, on a fresh PostgreSQL database dropped afterwards; `BENCH_ONLY=
//! sqlite|postgres` runs one. Targets (issue 16): intake ≥ 2,000 requests/s
//! with p99 ≤ 50 ms on SQLite; triage list p95 ≤ 50 ms.
//!
//! ```text
//! cargo bench -p kudakyar --bench intake
//! KUDAKYAR_TEST_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench -p kudakyar --bench intake
//! ```

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kudakyar::db::Db;
use rand::{Rng, SeedableRng};
use serde_json::json;
use support::{ADMIN_PASSWORD, CITIES, Server, env_or, ms, on_both_backends, percentile, start};

fn random_report(rng: &mut impl Rng) -> serde_json::Value {
    let (lat, lng) = CITIES[rng.gen_range(0..CITIES.len())];
    json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "lat": lat + rng.gen_range(-0.05..0.05),
        "lng": lng + rng.gen_range(-0.05..0.05),
        "accuracy_m": 15.0,
        "children_count": rng.gen_range(1..4),
        "age_bands": ["6-11"],
        "activity": "street_vending",
        "description": "کودک سر چهارراه دستمال می‌فروشد",
    })
}

/// Intake under load: requests/s and latency percentiles.
async fn intake(server: &Server) {
    let clients: usize = env_or("BENCH_CLIENTS", 32);
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let url = format!("{}/api/v1/sightings", server.url);
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::from_entropy();
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let body = random_report(&mut rng);
                    let t = Instant::now();
                    let response = client.post(&url).json(&body).send().await.unwrap();
                    let status = response.status();
                    let _ = response.bytes().await;
                    assert_eq!(status, 201, "every report is taken in");
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sightings")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(stored as usize, all.len(), "every 201 is a stored report");
    println!(
        "  intake: {} reports in {:.1} s = {:.0} requests/s with {clients} clients; \
         latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&all, 0.50)),
        ms(percentile(&all, 0.95)),
        ms(percentile(&all, 0.99)),
    );
}

/// Seeds `n` reports over the 31 provinces (10 counties each) with bulk SQL;
/// one incident per 10 reports. Returns a county with its share of them.
async fn seed(db: &Db, n: usize) -> (String, String) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let started = Instant::now();
    let now = kudakyar::now_ms();
    let batch = 500;
    let mut tx = db.pool().begin().await.unwrap();
    let states = [
        "new",
        "new",
        "new",
        "assigned",
        "visited",
        "linked",
        "duplicate",
        "false_report",
    ];
    for start in (0..n).step_by(batch) {
        let mut incidents = String::from(
            "INSERT INTO incidents (id, province, county, lat, lng, first_seen_at, last_seen_at, created_at, updated_at) VALUES ",
        );
        let mut reports = String::from(
            "INSERT INTO sightings (id, receipt_code, source, seen_at, lat, lng, province, county,
                 children_count, details, state, incident_id, create_digest, created_at, updated_at) VALUES ",
        );
        let mut first_incident = true;
        for i in start..(start + batch).min(n) {
            let p = rng.gen_range(0..31u32);
            let c = rng.gen_range(0..10u32);
            let province = format!("IR-{p:02}");
            let county = format!("{p:02}{c:02}");
            let (lat, lng) = CITIES[(p as usize) % CITIES.len()];
            let (lat, lng) = (
                lat + rng.gen_range(-0.1..0.1),
                lng + rng.gen_range(-0.1..0.1),
            );
            let at = now - rng.gen_range(0..365i64) * 86_400_000 - rng.gen_range(0..86_400_000i64);
            let incident = format!("inc-{}", i / 10);
            if i % 10 == 0 {
                if !first_incident {
                    incidents.push(',');
                }
                first_incident = false;
                incidents.push_str(&format!(
                    "('{incident}', '{province}', '{county}', {lat}, {lng}, {at}, {at}, {at}, {at})"
                ));
            }
            if i > start {
                reports.push(',');
            }
            let state = states[rng.gen_range(0..states.len())];
            reports.push_str(&format!(
                "('{}', 'R{i:010}', 'citizen', {at}, {lat}, {lng}, '{province}', '{county}', 1,
                  '{{\"age_bands\":[\"6-11\"]}}', '{state}', '{incident}', 'seed', {at}, {at})",
                uuid::Uuid::now_v7()
            ));
        }
        if !first_incident {
            sqlx::query(&incidents).execute(&mut *tx).await.unwrap();
        }
        sqlx::query(&reports).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    println!(
        "  seeded {n} reports in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ("IR-23".into(), "2301".into())
}

/// The first page of one county's queue, as its supervisor reads it.
async fn triage_list(server: &Server) {
    let reports: usize = env_or("BENCH_REPORTS", 1_000_000);
    let queries: usize = env_or("BENCH_QUERIES", 300);
    let (province, county) = seed(&server.state.db, reports).await;
    let client = reqwest::Client::new();
    let login = |username: &str, password: &str| {
        let client = client.clone();
        let url = format!("{}/api/v1/auth/login", server.url);
        let body = json!({"username": username, "password": password});
        async move {
            let r: serde_json::Value = client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["token"].as_str().unwrap().to_string()
        }
    };
    let admin = login("admin", ADMIN_PASSWORD).await;
    let created = client
        .post(format!("{}/api/v1/users", server.url))
        .bearer_auth(&admin)
        .json(
            &json!({"username": "bench_supervisor", "password": "bench supervisor password",
                      "role": "supervisor", "province": province, "county": county}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let supervisor = login("bench_supervisor", "bench supervisor password").await;
    let url = format!("{}/api/v1/sightings?county={county}&limit=50", server.url);
    let mut latencies = Vec::with_capacity(queries);
    for _ in 0..queries {
        let t = Instant::now();
        let response = client
            .get(&url)
            .bearer_auth(&supervisor)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let page: serde_json::Value = response.json().await.unwrap();
        latencies.push(t.elapsed());
        assert_eq!(page["items"].as_array().map(Vec::len), Some(50));
    }
    latencies.sort();
    println!(
        "  triage list of county {county} ({reports} reports stored): p50 {:.1} ms, p95 {:.1} ms over {queries} reads",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.95)),
    );
}

async fn run(name: &str, db: Db) {
    println!("{name}:");
    let server = start(db).await;
    intake(&server).await;
    triage_list(&server).await;
}

fn main() {
    on_both_backends("the sightings benchmark", run);
}
