//! Atlas benchmark: the rollup job's throughput, the reads of the map
//! screens, and what the queue insert costs public intake.
//!
//! 1. **Intake with and without the queue**: the real router on a local port
//!    and `BENCH_CLIENTS` (default 16) clients posting citizens' reports for
//!    `BENCH_SECONDS` (default 8), once as shipped (each report queues its
//!    report and its incident for the atlas, and the rollup job runs beside
//!    intake), once on a database whose `atlas_queue` is a view that swallows
//!    inserts (no queue row written, nothing for the job to do). Requests/s
//!    of both, and the cost in per cent.
//! 2. **Rollup throughput**: seeds `BENCH_EVENTS` (default 200,000)
//!    encounters of `BENCH_CHILDREN` (default 20,000) children over a year,
//!    31 provinces × 10 counties, with bulk SQL; queues every child and times
//!    the job draining the queue (encounters applied per second).
//! 3. **Reads** over HTTP as a national admin, `BENCH_QUERIES` (default 40)
//!    each, p50/p95: the county choropleth of the country over a year
//!    (distinct children, exact), the res-8 hexes of one province, and one
//!    province's daily time series over a year.
//!
//! SQLite (a temporary file) and, with `KUDAKYAR_TEST_POSTGRES_URL`, a fresh
//! PostgreSQL database; `BENCH_ONLY=sqlite|postgres` runs one. The clients
//! and the server share the machine's cores, so figures are floors.
//!
//! ```text
//! cargo bench -p kudakyar --bench atlas
//! BENCH_EVENTS=1000000 BENCH_CHILDREN=100000 cargo bench -p kudakyar --bench atlas
//! ```

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kudakyar::db::scratch::{self, ScratchDatabase};
use kudakyar::db::{Backend, Db};
use rand::{Rng, SeedableRng};
use serde_json::json;
use support::{ADMIN_PASSWORD, CITIES, Server, env_or, login, ms, percentile, start};

/// Replaces `atlas_queue` by a view that swallows inserts: intake as if
/// there were no atlas.
async fn swallow_queue(db: &Db) {
    let statements: &[&str] = match db.backend() {
        Backend::Sqlite => &[
            "DROP TABLE atlas_queue",
            "CREATE VIEW atlas_queue AS SELECT 0 AS id, '' AS kind, '' AS subject_id, 0 AS queued_at WHERE 0",
            "CREATE TRIGGER atlas_queue_swallow INSTEAD OF INSERT ON atlas_queue BEGIN SELECT 1; END",
        ],
        Backend::Postgres => &[
            "DROP TABLE atlas_queue",
            "CREATE VIEW atlas_queue AS SELECT 0::BIGINT AS id, ''::TEXT AS kind, ''::TEXT AS subject_id, 0::BIGINT AS queued_at WHERE FALSE",
            "CREATE RULE atlas_queue_swallow AS ON INSERT TO atlas_queue DO INSTEAD NOTHING",
        ],
    };
    // One connection: SQLite checks a trigger's target against the schema
    // the connection has cached when the statement is prepared, so another
    // connection of the pool, which has not yet seen the DROP, would still
    // take `atlas_queue` for a table ("cannot create INSTEAD OF trigger on
    // table").
    let mut conn = db.pool().acquire().await.unwrap();
    for s in statements {
        sqlx::query(s).execute(&mut *conn).await.unwrap();
    }
}

/// Requests/s of public intake for the configured time.
async fn intake(server: &Server) -> f64 {
    let clients: usize = env_or("BENCH_CLIENTS", 16);
    let seconds: u64 = env_or("BENCH_SECONDS", 8);
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
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let (lat, lng) = CITIES[rng.gen_range(0..CITIES.len())];
                    let body = json!({
                        "id": uuid::Uuid::now_v7().to_string(),
                        "lat": lat + rng.gen_range(-0.05..0.05),
                        "lng": lng + rng.gen_range(-0.05..0.05),
                        "children_count": rng.gen_range(1..4),
                    });
                    let response = client.post(&url).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), 201);
                    n += 1;
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Seeds children, their encounters and a county outline per county.
async fn seed(db: &Db, children: usize, events: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let started = Instant::now();
    let admin: String = sqlx::query_scalar("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let now = kudakyar::now_ms();
    let sexes = ["male", "female"];
    let nationalities = ["iranian", "afghan", "pakistani"];
    let works = ["|begging|", "|street_vending|", "|waste_picking|begging|"];
    let mut tx = db.pool().begin().await.unwrap();
    // Outlines: a small square per county and province.
    for p in 0..31u32 {
        let (lat, lng) = CITIES[p as usize % CITIES.len()];
        let square = |d: f64| {
            format!(
                r#"{{"type":"Polygon","coordinates":[[[{a},{b}],[{c},{b}],[{c},{d2}],[{a},{d2}],[{a},{b}]]]}}"#,
                a = lng - d,
                b = lat - d,
                c = lng + d,
                d2 = lat + d
            )
        };
        let mut rows = vec![("province".to_string(), format!("IR-{p:02}"), square(1.0))];
        for c in 0..10u32 {
            rows.push(("county".into(), format!("{p:02}{c:02}"), square(0.1)));
        }
        for (level, code, shape) in rows {
            sqlx::query(
                "INSERT INTO boundaries (level, code, province, name_fa, name_en, wikidata, min_lat,
                     min_lng, max_lat, max_lng, geometry, simplified, imported_at)
                 VALUES ($1, $2, $3, $4, NULL, NULL, $5, $6, $7, $8, $9, $9, $10)",
            )
            .bind(&level)
            .bind(&code)
            .bind(format!("IR-{p:02}"))
            .bind(format!("ناحیه {code}"))
            .bind(lat - 1.0)
            .bind(lng - 1.0)
            .bind(lat + 1.0)
            .bind(lng + 1.0)
            .bind(&shape)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    // Children: a home province and county each.
    let mut homes = Vec::with_capacity(children);
    for start in (0..children).step_by(500) {
        let mut sql = String::from(
            "INSERT INTO children (id, registry_code, status, version, facts, create_digest,
                 home_province, home_county, sex, nationality, birth_year, work_types, created_by,
                 created_at, updated_at) VALUES ",
        );
        for i in start..(start + 500).min(children) {
            let p = rng.gen_range(0..31u32);
            let c = rng.gen_range(0..10u32);
            homes.push((p, c));
            if i > start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('child-{i:08}', 'B{i:010}', 'active', 1, '{{}}', 'seed', 'IR-{p:02}', '{p:02}{c:02}',
                  '{}', '{}', {}, '{}', '{admin}', {now}, {now})",
                sexes[rng.gen_range(0..2)],
                nationalities[rng.gen_range(0..3)],
                rng.gen_range(2008..2022),
                works[rng.gen_range(0..3)],
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
    }
    // Encounters: near the child's county, over the last year.
    for start in (0..events).step_by(500) {
        let mut sql = String::from(
            "INSERT INTO encounters (id, child_id, worker_id, at, lat, lng, province, county,
                 details, create_digest, created_at) VALUES ",
        );
        for i in start..(start + 500).min(events) {
            let child = rng.gen_range(0..children);
            let (p, c) = homes[child];
            let (lat, lng) = CITIES[p as usize % CITIES.len()];
            let (lat, lng) = (
                lat + 0.02 * c as f64 + rng.gen_range(-0.01..0.01),
                lng + rng.gen_range(-0.05..0.05),
            );
            let at = now - rng.gen_range(0..365i64) * 86_400_000 - rng.gen_range(0..86_400_000i64);
            if i > start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('enc-{i:09}', 'child-{child:08}', '{admin}', {at}, {lat}, {lng}, 'IR-{p:02}',
                  '{p:02}{c:02}', '{{}}', 'seed', {at})"
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    println!(
        "  seeded {children} children and {events} encounters in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// p50 and p95 of `queries` GETs of `path`; also the body size of the last.
async fn time_reads(server: &Server, token: &str, name: &str, path: &str) {
    let queries: usize = env_or("BENCH_QUERIES", 40);
    let client = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(queries);
    let mut size = 0;
    for _ in 0..queries {
        let t = Instant::now();
        let response = client
            .get(format!("{}{path}", server.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        size = response.bytes().await.unwrap().len();
        latencies.push(t.elapsed());
    }
    latencies.sort();
    println!(
        "  {name}: p50 {:.1} ms, p95 {:.1} ms over {queries} reads ({} KB)",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.95)),
        size / 1024
    );
}

async fn run(name: &str, fresh: impl AsyncFn() -> (Db, Option<ScratchDatabase>)) {
    println!("{name}:");
    // 1. Intake with and without the queue, each on a fresh database.
    let (db, scratch_a) = fresh().await;
    let server = start(db).await;
    let with = intake(&server).await;
    let (db, scratch_b) = fresh().await;
    let plain = start(db.clone()).await;
    swallow_queue(&db).await;
    let without = intake(&plain).await;
    println!(
        "  intake: {with:.0} requests/s with the atlas queue, {without:.0} without: the atlas costs {:.1} %",
        100.0 * (1.0 - with / without)
    );
    for s in [scratch_a, scratch_b].into_iter().flatten() {
        server.state.db.close().await;
        plain.state.db.close().await;
        s.drop().await.unwrap();
    }
    // 2. Rollup throughput.
    let (db, scratch_c) = fresh().await;
    let server = start(db.clone()).await;
    let events: usize = env_or("BENCH_EVENTS", 200_000);
    let children: usize = env_or("BENCH_CHILDREN", 20_000);
    seed(&db, children, events).await;
    sqlx::query(
        "INSERT INTO atlas_queue (kind, subject_id, queued_at) SELECT 'child', id, 0 FROM children",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let t = Instant::now();
    kudakyar::atlas::rollup::drain(&db).await.unwrap();
    let took = t.elapsed().as_secs_f64();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_counts")
        .fetch_one(db.pool())
        .await
        .unwrap();
    println!(
        "  rollup job: {events} encounters of {children} children applied in {took:.1} s = {:.0} encounters/s ({rows} count rows)",
        events as f64 / took
    );
    // 3. Reads.
    let token = login(
        &reqwest::Client::new(),
        &server.url,
        "admin",
        ADMIN_PASSWORD,
    )
    .await;
    let today = kudakyar::atlas::periods::day_of(kudakyar::now_ms());
    let from = kudakyar::atlas::periods::format_day(today - 364);
    let to = kudakyar::atlas::periods::format_day(today);
    let range = format!("from={from}&to={to}");
    time_reads(
        &server,
        &token,
        "county choropleth of the country, a year, distinct children",
        &format!("/api/v1/atlas/choropleth?level=county&{range}"),
    )
    .await;
    time_reads(
        &server,
        &token,
        "county choropleth of the country, a year, encounters",
        &format!("/api/v1/atlas/choropleth?level=county&measure=encounters&{range}"),
    )
    .await;
    time_reads(
        &server,
        &token,
        "hexes res 8 of one province (Tehran's box), a year",
        &format!("/api/v1/atlas/hexes?res=8&bbox=50.4,34.7,52.4,36.7&{range}"),
    )
    .await;
    time_reads(
        &server,
        &token,
        "time series of one province by day, a year, distinct children",
        &format!("/api/v1/atlas/timeseries?area=IR-00&bucket=day&{range}"),
    )
    .await;
    time_reads(
        &server,
        &token,
        "time series of the country by Jalali week, a year",
        &format!("/api/v1/atlas/timeseries?area=IR&bucket=jweek&{range}"),
    )
    .await;
    server.state.db.close().await;
    if let Some(s) = scratch_c {
        s.drop().await.unwrap();
    }
}

fn main() {
    let only = std::env::var("BENCH_ONLY").ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        if only.as_deref().is_none_or(|o| o == "sqlite") {
            let dirs = std::sync::Mutex::new(Vec::new());
            run("SQLite", async || {
                let dir = tempfile::tempdir().unwrap();
                let db = Db::open(None, dir.path()).await.unwrap();
                dirs.lock().unwrap().push(dir);
                (db, None)
            })
            .await;
        }
        let postgres = only
            .as_deref()
            .is_none_or(|o| o == "postgres")
            .then(|| scratch::test_postgres_url("the atlas benchmark"))
            .flatten();
        if let Some(admin_url) = postgres {
            run("PostgreSQL", async || {
                let scratch = ScratchDatabase::create(&admin_url, "kudakyar_bench")
                    .await
                    .unwrap();
                let db = Db::connect(&scratch.url()).await.unwrap();
                (db, Some(scratch))
            })
            .await;
        }
    });
}
