//! Sightings benchmark: public intake under load, and the triage list of a
//! county with a million reports stored.
//!
//! 1. **Intake**: the real router on a local port (release build, in this
//!    process), and `BENCH_CLIENTS` (default 32) concurrent HTTP/1.1 clients
//!    posting citizens' JSON reports without photo — each a fresh id, at a
//!    random junction of ten cities — for `BENCH_SECONDS` (default 10).
//!    Limits are raised so every report is taken in (a load test from one
//!    address would otherwise meet them). Reports are placed by the built-in
//!    province outlines, as on a deployed server (`BENCH_BOUNDARIES=0`: by
//!    the nearest centre, as before any import). Prints requests/s and p50/p95/p99
//!    latency; every answer must be 201 (any other status fails the bench).
//!    The clients run on the same two cores as the server, so the figure is
//!    a floor. `BENCH_LOAD=wrk` drives the same load from Debian's `wrk`
//!    (`intake-wrk.lua` beside this file) instead: a separate, lighter
//!    client, whose own CPU is then not in "CPU per report" (the server
//!    process's user + system time over the reports taken).
//! 2. **Triage list**: seeds `BENCH_REPORTS` (default 1,000,000) reports
//!    with bulk SQL over 31 provinces and their counties, then times
//!    `BENCH_QUERIES` (default 300) reads of the first page of one county's
//!    queue (`GET /api/v1/sightings?county=…`) as its supervisor;
//!    `BENCH_REPORTS=0` leaves it out.
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
use support::{
    ADMIN_PASSWORD, CITIES, Server, env_or, login, ms, on_both_backends, percentile, start,
};

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

/// Intake under load: requests/s and latency percentiles, from the
/// in-process clients or, with `BENCH_LOAD=wrk`, from `wrk`.
async fn intake(server: &Server) {
    let clients: usize = env_or("BENCH_CLIENTS", 32);
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let (answered, latencies) = if std::env::var("BENCH_LOAD").as_deref() == Ok("wrk") {
        with_wrk(server, clients, seconds)
    } else {
        in_process(server, clients, seconds).await
    };
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sightings")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    // wrk stops with requests in flight: the server may have stored up to
    // one per connection that wrk did not count.
    let stored = stored as usize;
    assert!(
        stored >= answered && stored <= answered + clients,
        "every 201 is a stored report ({answered} answered, {stored} stored)"
    );
    let [p50, p95, p99] = latencies;
    println!(
        "  intake: {answered} reports in {:.1} s = {:.0} requests/s with {clients} clients; \
         latency p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms; \
         this process used {:.2} ms of CPU per report",
        elapsed.as_secs_f64(),
        answered as f64 / elapsed.as_secs_f64(),
        cpu * 1000.0 / answered.max(1) as f64,
    );
}

/// `clients` reqwest clients in this process, each posting one report after
/// another; every answer must be 201. Returns how many were answered and
/// the p50/p95/p99 latency (ms).
async fn in_process(server: &Server, clients: usize, seconds: u64) -> (usize, [f64; 3]) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
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
    all.sort();
    let at = |p| ms(percentile(&all, p));
    (all.len(), [at(0.50), at(0.95), at(0.99)])
}

/// Debian's `wrk` (two threads, `clients` connections) with
/// `intake-wrk.lua` beside this file; it must report no error answer.
fn with_wrk(server: &Server, clients: usize, seconds: u64) -> (usize, [f64; 3]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/intake-wrk.lua");
    let output = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{clients}"),
            &format!("-d{seconds}s"),
            "-s",
            script,
        ])
        .arg(&server.url)
        .output()
        .expect("BENCH_LOAD=wrk needs wrk on the PATH (Debian package wrk)");
    let out = String::from_utf8_lossy(&output.stdout);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("wrk: "))
        .unwrap_or_else(|| panic!("no summary from wrk:\n{out}"));
    // "N requests, E errors, p50 X ms, p95 Y ms, p99 Z ms"
    let numbers: Vec<f64> = line
        .split([',', ' '])
        .filter_map(|w| w.parse().ok())
        .collect();
    let [requests, errors, p50, p95, p99] = numbers[..] else {
        panic!("unexpected wrk summary: {line}");
    };
    assert_eq!(errors, 0.0, "every report is taken in: {out}");
    (requests as usize, [p50, p95, p99])
}

/// CPU time this process has used (user + system), from `/proc/self/stat`
/// (Linux's clock ticks are 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th of the whole line.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
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
    let admin = login(&client, &server.url, "admin", ADMIN_PASSWORD).await;
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
    let supervisor = login(
        &client,
        &server.url,
        "bench_supervisor",
        "bench supervisor password",
    )
    .await;
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
    if env_or("BENCH_BOUNDARIES", 1) > 0 {
        // As deployed: reports placed by imported outlines, not by the
        // nearest centre.
        use kudakyar::geo::{builtin, import};
        let read = builtin::provinces().unwrap();
        let prepared = import::prepare(read.boundaries, |_| {}).unwrap();
        import::replace(&server.state.db, &prepared, read.skipped)
            .await
            .unwrap();
    }
    intake(&server).await;
    if env_or("BENCH_REPORTS", 1) > 0 {
        triage_list(&server).await;
    }
}

fn main() {
    on_both_backends("the sightings benchmark", run);
}
