//! Atlas benchmark: the rollup job's throughput, the reads of the map
//! screens, and what the queue insert costs public intake.
//!
//! 1. **Intake with and without the queue**: the real router on a local port
//!    and `BENCH_CLIENTS` (default 16) clients posting citizens' reports for
//!    `BENCH_SECONDS` (default 8), once as shipped (each report queues its
//!    report and its incident for the atlas, and the rollup job runs beside
//!    intake), once on a database whose `atlas_queue` is a view that swallows
//!    inserts (no queue row written, nothing for the job to do). Requests/s
//!    of both, and the cost in per cent; then, sustained, the reports of the
//!    window over the window and the time the job took to empty the queue
//!    after it (the job gives way to a burst of intake, so its work comes
//!    after the window).
//! 2. **Rollup throughput**: seeds `BENCH_EVENTS` (default 200,000)
//!    encounters of `BENCH_CHILDREN` (default 20,000) children over a year,
//!    31 provinces × 10 counties, with bulk SQL; queues every child and times
//!    the job draining the queue (encounters applied per second). Then one
//!    filtered read on it (girls only: the exact presence rows).
//! 3. **Reads at scale** over HTTP, `BENCH_QUERIES` (default 40) each,
//!    p50/p95, on a fresh database holding the totals of
//!    `BENCH_SCALE_EVENTS` (default 10,000,000) events — 80 % encounters of
//!    `BENCH_SCALE_CHILDREN` (default 250,000) children, 20 % citizens'
//!    reports — over two years at 60 junctions (H3 resolution-9 cells) in
//!    each of the 310 counties, a child mostly at its home junction. The
//!    rows are what the rollup job would leave: they go through its own
//!    [`Totals`] (sums, presence, sketches), a Jalali month at a time,
//!    without the raw rows, `atlas_counts` and `atlas_presence`, which
//!    these reads do not touch (a filtered read does, and is timed on the
//!    smaller database of step 2). Timed: the
//!    county choropleth of the country over a year (distinct children, and
//!    encounters), the res-8 hexes of one province (a national admin with
//!    the province's box), one province's daily series and the country's
//!    Jalali-week series over a year — each read's first apart, when the
//!    server has none of its sketches in memory yet
//!    ([`kudakyar::atlas::sketch_cache`]) — and the county map again with
//!    every county's current day, week and month rewritten before each
//!    read, as on a busy day; then the nightly hot-spot run at resolutions
//!    7 and 8 (reading the weekly totals, the statistics, storing every
//!    cell).
//!
//! SQLite (a temporary file) and, with `KUDAKYAR_TEST_POSTGRES_URL`, a fresh
//! PostgreSQL database; `BENCH_ONLY=sqlite|postgres` runs one. The clients
//! and the server share the machine's cores, so figures are floors.
//!
//! ```text
//! cargo bench -p kudakyar --bench atlas
//! BENCH_EVENTS=1000000 BENCH_CHILDREN=100000 cargo bench -p kudakyar --bench atlas
//! BENCH_SCALE_EVENTS=1000000 cargo bench -p kudakyar --bench atlas   # a quicker scale step
//! BENCH_ONLY=postgres BENCH_SCALE_FROM=/path/to/kudakyar.db cargo bench -p kudakyar --bench atlas
//! ```
//!
//! `BENCH_STEPS` (default `1,2,3`) runs only the steps it names.
//!
//! `BENCH_SCALE_SAVE=FILE` keeps a copy of step 3's SQLite database once
//! generated; `BENCH_SCALE_FROM=FILE` names such a copy: step 3 then copies
//! its totals instead of generating them again (on either backend).

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kudakyar::atlas::periods::{self, Grain};
use kudakyar::atlas::subjects::{self, Dims, Event, Measures};
use kudakyar::atlas::totals::{self, Totals};
use kudakyar::db::scratch::{self, ScratchDatabase};
use kudakyar::db::sql::{Arg, Sql};
use kudakyar::db::{Backend, Db};
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::Row;
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

/// Where province `p` is: a city of CITIES, the three provinces that share
/// one a degree of latitude apart.
fn province_centre(p: u32) -> (f64, f64) {
    let (lat, lng) = CITIES[p as usize % CITIES.len()];
    (lat + f64::from(p / 10), lng)
}

/// A county outline (a small square) per county and province: 31
/// provinces `IR-00`…`IR-30` × 10 counties `ppcc`.
async fn seed_outlines(db: &Db) {
    let now = kudakyar::now_ms();
    let mut tx = db.pool().begin().await.unwrap();
    for p in 0..31u32 {
        let (lat, lng) = province_centre(p);
        let square = |d: f64| {
            format!(
                r#"{{"type":"Polygon","coordinates":[[[{a},{b}],[{c},{b}],[{c},{d2}],[{a},{d2}],[{a},{b}]]]}}"#,
                a = lng - d,
                b = lat - d,
                c = lng + d,
                d2 = lat + d
            )
        };
        let mut rows = vec![("province".to_string(), format!("IR-{p:02}"), square(0.3))];
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
            .bind(lat - 0.3)
            .bind(lng - 0.3)
            .bind(lat + 0.3)
            .bind(lng + 0.3)
            .bind(&shape)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// Seeds children, their encounters and the outlines.
async fn seed(db: &Db, children: usize, events: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let started = Instant::now();
    seed_outlines(db).await;
    let admin: String = sqlx::query_scalar("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let now = kudakyar::now_ms();
    let sexes = ["male", "female"];
    let nationalities = ["iranian", "afghan", "pakistani"];
    let works = ["|begging|", "|street_vending|", "|waste_picking|begging|"];
    let mut tx = db.pool().begin().await.unwrap();
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

/// Fills `atlas_totals` as the rollup job leaves it after `events` events
/// of `children` children (see the module doc, step 3), through the job's
/// own [`Totals`], a Jalali month at a time.
async fn seed_totals(db: &Db, events: usize, children: usize) {
    const JUNCTIONS_PER_COUNTY: usize = 60;
    let started = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(23);
    // (province, county, resolution-9 cell).
    let mut junctions = Vec::new();
    for p in 0..31u32 {
        let (lat, lng) = province_centre(p);
        for c in 0..10u32 {
            for _ in 0..JUNCTIONS_PER_COUNTY {
                let cell = subjects::cell_of(
                    lat + 0.02 * f64::from(c) + rng.gen_range(-0.01..0.01),
                    lng + rng.gen_range(-0.05..0.05),
                );
                junctions.push((format!("IR-{p:02}"), format!("{p:02}{c:02}"), cell));
            }
        }
    }
    let homes: Vec<usize> = (0..children)
        .map(|_| rng.gen_range(0..junctions.len()))
        .collect();
    let today = periods::day_of(kudakyar::now_ms());
    let days = 730;
    let per_day = events / days;
    let flush = async |tally: Totals| {
        let mut tx = db.begin_write().await.unwrap();
        tally.write(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
    };
    let mut tally = Totals::default();
    let mut month = Grain::Month.start(today - days as i64 + 1);
    for day in today - days as i64 + 1..=today {
        if Grain::Month.start(day) != month {
            flush(std::mem::take(&mut tally)).await;
            month = Grain::Month.start(day);
        }
        // Who is where on the day, as the totals keep it.
        let mut present = std::collections::HashSet::new();
        for _ in 0..per_day {
            let report = rng.gen_bool(0.2);
            let child = rng.gen_range(0..children);
            let home = homes[child];
            let j = if report {
                rng.gen_range(0..junctions.len())
            } else if rng.gen_bool(0.3) {
                // Elsewhere in the home county.
                home - home % JUNCTIONS_PER_COUNTY + rng.gen_range(0..JUNCTIONS_PER_COUNTY)
            } else {
                home
            };
            let (province, county, cell) = &junctions[j];
            let event = Event {
                day,
                province: province.clone(),
                county: county.clone(),
                cell: cell.clone(),
                source: if report { "citizen" } else { "encounter" }.into(),
                dims: Dims::default(),
                measures: if report {
                    Measures {
                        reports: 1,
                        children_reported: rng.gen_range(1..4),
                        ..Measures::default()
                    }
                } else {
                    Measures {
                        encounters: 1,
                        ..Measures::default()
                    }
                },
            };
            tally.events(std::slice::from_ref(&event), 1);
            if !report {
                let id = format!("child-{child:08}");
                for place in totals::presence(std::slice::from_ref(&event)) {
                    let (level, area, _, province, county) = &place;
                    if present.insert((place.clone(), child)) {
                        tally.came((level, area, day, province, county), &id);
                    }
                }
            }
        }
    }
    flush(tally).await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_totals")
        .fetch_one(db.pool())
        .await
        .unwrap();
    println!(
        "  seeded the totals of {events} events of {children} children over two years: {rows} rows in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// Copies `atlas_totals` from the SQLite database `file` (a copy of step 3's
/// database from an earlier run, `BENCH_SCALE_FROM`): the same rows on
/// PostgreSQL without generating them again, which takes most of half an
/// hour at 10,000,000 events on a 2-core machine.
async fn copy_totals(db: &Db, file: &str) {
    let started = Instant::now();
    let source = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{file}?mode=ro"))
        .await
        .unwrap();
    let columns = "level, grain, start, province, area, county, encounters, reports, \
                   children_reported, incidents, children, sketch";
    let mut copied = 0;
    let mut after: (String, String, i64, String, String, String) = Default::default();
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {columns} FROM atlas_totals
             WHERE (level, grain, start, province, area, county) > ($1, $2, $3, $4, $5, $6)
             ORDER BY level, grain, start, province, area, county LIMIT 500"
        ))
        .bind(&after.0)
        .bind(&after.1)
        .bind(after.2)
        .bind(&after.3)
        .bind(&after.4)
        .bind(&after.5)
        .fetch_all(&source)
        .await
        .unwrap();
        let Some(last) = rows.last() else { break };
        after = (
            last.get(0),
            last.get(1),
            last.get(2),
            last.get(3),
            last.get(4),
            last.get(5),
        );
        let mut sql = Sql::new(&format!("INSERT INTO atlas_totals ({columns}) VALUES "));
        sql.bind_rows(rows.iter().map(|r| {
            let text = |i: usize| Arg::Text(r.get(i));
            let int = |i: usize| Arg::Int(r.get(i));
            [
                text(0),
                text(1),
                int(2),
                text(3),
                text(4),
                text(5),
                int(6),
                int(7),
                int(8),
                int(9),
                Arg::OptInt(r.get(10)),
                Arg::Bytes(r.get(11)),
            ]
        }));
        sql.query().execute(db.pool()).await.unwrap();
        copied += rows.len();
    }
    println!(
        "  copied {copied} totals rows from {file} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// p50 and p95 of `queries` GETs of `path`; also the body size of the last.
async fn time_reads(server: &Server, token: &str, name: &str, path: &str) {
    time_reads_touching(server, token, name, path, None).await;
}

/// Times `BENCH_QUERIES` GETs of `path`: the first alone (the server has
/// read no sketch of it yet), then p50 and p95 of all. With `touch`, that
/// statement runs before each read, untimed: rows rewritten as the rollup
/// job rewrites today's periods, so their sketches must be read again.
async fn time_reads_touching(
    server: &Server,
    token: &str,
    name: &str,
    path: &str,
    touch: Option<&str>,
) {
    let queries: usize = env_or("BENCH_QUERIES", 40);
    let client = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(queries);
    let mut size = 0;
    for _ in 0..queries {
        if let Some(sql) = touch {
            sqlx::query(sql)
                .execute(server.state.db.pool())
                .await
                .unwrap();
        }
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
    let first = latencies[0];
    latencies.sort();
    println!(
        "  {name}: first {:.1} ms, p50 {:.1} ms, p95 {:.1} ms over {queries} reads ({} KB)",
        ms(first),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.95)),
        size / 1024
    );
}

async fn run(name: &str, fresh: impl AsyncFn() -> (Db, Option<ScratchDatabase>)) {
    println!("{name}:");
    let steps = std::env::var("BENCH_STEPS").unwrap_or_else(|_| "1,2,3".into());
    let step = |n: &str| steps.split(',').any(|s| s.trim() == n);
    if step("1") {
        intake_with_and_without(&fresh).await;
    }
    let today = periods::day_of(kudakyar::now_ms());
    let range = format!(
        "from={}&to={}",
        periods::format_day(today - 364),
        periods::format_day(today)
    );
    if step("2") {
        rollup_throughput(&fresh, &range).await;
    }
    if step("3") {
        reads_at_scale(&fresh, &range, today).await;
    }
}

/// Step 1 (see the module doc).
async fn intake_with_and_without(fresh: &impl AsyncFn() -> (Db, Option<ScratchDatabase>)) {
    let (db, scratch_a) = fresh().await;
    let server = start(db.clone()).await;
    let seconds: f64 = env_or("BENCH_SECONDS", 8) as f64;
    let with = intake(&server).await;
    // The job gives way to intake while it is busy (up to a minute), so
    // the window above paid for the queue only: the rollups' work comes
    // after. Sustained, the reports of the window are in the atlas once
    // the queue is empty.
    let t = Instant::now();
    let mut left: i64 = 1;
    while left > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = sqlx::query_scalar("SELECT COUNT(*) FROM atlas_queue")
            .fetch_one(db.pool())
            .await
            .unwrap();
    }
    let caught_up = t.elapsed().as_secs_f64();
    let sustained = with * seconds / (seconds + caught_up);
    let (db, scratch_b) = fresh().await;
    let plain = start(db.clone()).await;
    swallow_queue(&db).await;
    let without = intake(&plain).await;
    println!(
        "  intake: {with:.0} requests/s with the atlas queue, {without:.0} without: the queue costs {:.1} %",
        100.0 * (1.0 - with / without)
    );
    println!(
        "  sustained: the atlas caught up {caught_up:.1} s after the {seconds:.0} s window: {sustained:.0} reports/s into the atlas, {:.1} % below intake without it",
        100.0 * (1.0 - sustained / without)
    );
    for s in [scratch_a, scratch_b].into_iter().flatten() {
        server.state.db.close().await;
        plain.state.db.close().await;
        s.drop().await.unwrap();
    }
}

/// Step 2 (see the module doc).
async fn rollup_throughput(fresh: &impl AsyncFn() -> (Db, Option<ScratchDatabase>), range: &str) {
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
    // A filtered read: the exact presence rows.
    let token = login(
        &reqwest::Client::new(),
        &server.url,
        "admin",
        ADMIN_PASSWORD,
    )
    .await;
    time_reads(
        &server,
        &token,
        "county choropleth of the country, a year, girls (exact, presence rows)",
        &format!("/api/v1/atlas/choropleth?level=county&sex=female&{range}"),
    )
    .await;
    server.state.db.close().await;
    if let Some(s) = scratch_c {
        s.drop().await.unwrap();
    }
}

/// Step 3 (see the module doc).
async fn reads_at_scale(
    fresh: &impl AsyncFn() -> (Db, Option<ScratchDatabase>),
    range: &str,
    today: i64,
) {
    let (db, scratch_d) = fresh().await;
    let server = start(db.clone()).await;
    seed_outlines(&db).await;
    match std::env::var("BENCH_SCALE_FROM") {
        Ok(file) => copy_totals(&db, &file).await,
        Err(_) => {
            seed_totals(
                &db,
                env_or("BENCH_SCALE_EVENTS", 10_000_000),
                env_or("BENCH_SCALE_CHILDREN", 250_000),
            )
            .await;
            // A copy for a later run's `BENCH_SCALE_FROM`.
            if let (Ok(file), Backend::Sqlite) = (std::env::var("BENCH_SCALE_SAVE"), db.backend()) {
                sqlx::query("VACUUM INTO $1")
                    .bind(&file)
                    .execute(db.pool())
                    .await
                    .unwrap();
                println!("  saved the database as {file}");
            }
        }
    }
    let token = login(
        &reqwest::Client::new(),
        &server.url,
        "admin",
        ADMIN_PASSWORD,
    )
    .await;
    for (name, path) in [
        (
            "county choropleth of the country, a year, distinct children",
            format!("/api/v1/atlas/choropleth?level=county&{range}"),
        ),
        (
            "county choropleth of the country, a year, encounters",
            format!("/api/v1/atlas/choropleth?level=county&measure=encounters&{range}"),
        ),
        (
            "hexes res 8 of one province (IR-00's box, national admin), a year",
            format!("/api/v1/atlas/hexes?res=8&bbox=51.09,35.39,51.69,35.99&{range}"),
        ),
        (
            "time series of one province by day, a year, distinct children",
            format!("/api/v1/atlas/timeseries?area=IR-00&bucket=day&{range}"),
        ),
        (
            "time series of the country by Jalali week, a year",
            format!("/api/v1/atlas/timeseries?area=IR&bucket=jweek&{range}"),
        ),
    ] {
        time_reads(&server, &token, name, &path).await;
    }
    // A busy day: the rollup job rewrites every county's current day, week
    // and month between two maps.
    let touch = format!(
        "UPDATE atlas_totals SET stamp = stamp + 1 WHERE level = 'county' AND (
             (grain = 'd' AND start = {today}) OR (grain = 'w' AND start = {})
             OR (grain = 'm' AND start = {}))",
        Grain::Week.start(today),
        Grain::Month.start(today)
    );
    time_reads_touching(
        &server,
        &token,
        "county choropleth of the country, a year, distinct children, today's rows rewritten before each read",
        &format!("/api/v1/atlas/choropleth?level=county&{range}"),
        Some(&touch),
    )
    .await;
    // The nightly hot-spot run over the last year of weekly cells.
    for res in [7u8, 8] {
        let t = Instant::now();
        let outcome = kudakyar::atlas::hotspots::run(&db, res, today, true)
            .await
            .unwrap();
        println!(
            "  hot-spot run at resolution {res}: {:.1} s ({outcome:?})",
            t.elapsed().as_secs_f64()
        );
    }
    server.state.db.close().await;
    if let Some(s) = scratch_d {
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
