//! Indicators benchmark: the nightly job and the reads of its tables.
//!
//! Seeds with bulk SQL `BENCH_CHILDREN` children (default 10,000; a quarter
//! of them closed or reunified), `BENCH_ENCOUNTERS` encounters (default
//! 100,000, over the last year, every verification level) and an outreach
//! worker per 40 children, over 31 provinces and 10 counties each. Then:
//!
//! 1. **Nightly job**: `job::run_day` for yesterday — reading the registry,
//!    computing every indicator for every area, storing the day.
//! 2. **Reads**: `BENCH_QUERIES` (default 300) reads of a random indicator
//!    for a random province as its provincial staff (the query the API runs,
//!    suppression included), then of the workers' table and of the cohort
//!    table: p50 / p95.
//! 3. **Quarterly report** of one province for the last quarter.
//!
//! Runs on SQLite (a temporary file) and, when `KUDAKYAR_TEST_POSTGRES_URL`
//! is set, on a fresh PostgreSQL database dropped afterwards; `BENCH_ONLY=
//! sqlite|postgres` runs one. Targets (issue 19, at 100,000 children and
//! 1,000,000 encounters): any indicator read p95 ≤ 50 ms, the nightly job
//! ≤ 60 s, the quarterly report ≤ 5 s.
//!
//! ```text
//! cargo bench -p kudakyar --bench indicators
//! BENCH_CHILDREN=100000 BENCH_ENCOUNTERS=1000000 cargo bench -p kudakyar --bench indicators
//! ```

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use kudakyar::auth::{Actor, Scope};
use kudakyar::db::Db;
use kudakyar::indicators::definitions::{Indicator, compute};
use kudakyar::indicators::facts::Facts;
use kudakyar::indicators::read::{self, Area};
use kudakyar::indicators::{job, period, report};
use kudakyar_api::users::Role;
use rand::{Rng, SeedableRng};
use support::{env_or, ms, on_both_backends, percentile};

const DAY_MS: i64 = 86_400_000;

/// Runs `rows` multi-row INSERTs of `head` in batches of 500.
async fn insert(db: &Db, head: &str, rows: impl Iterator<Item = String>) {
    let mut tx = db.pool().begin().await.unwrap();
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(500) {
        sqlx::query(&format!("{head} VALUES {}", chunk.join(",")))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn seed(db: &Db, children: usize, encounters: usize, reports: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(19);
    let started = Instant::now();
    let now = kudakyar::now_ms();
    let workers = (children / 40).max(31);
    let place = |i: usize| {
        let p = i % 31;
        (format!("IR-{p:02}"), format!("{p:02}{:02}", (i / 31) % 10))
    };
    insert(
        db,
        "INSERT INTO users (id, username, password_hash, role, province, county, created_at)",
        (0..workers).map(|w| {
            let (p, c) = place(w);
            format!("('w{w}', 'worker{w}', 'x', 'outreach_worker', '{p}', '{c}', 0)")
        }),
    )
    .await;
    let statuses = [
        "active",
        "active",
        "in_service",
        "referred",
        "closed",
        "reunified",
    ];
    let mut child_rows = Vec::with_capacity(children);
    let mut versions = Vec::with_capacity(children * 2);
    let mut created = Vec::with_capacity(children);
    for i in 0..children {
        let (p, c) = place(i);
        let at = now - rng.gen_range(30..720) * DAY_MS;
        created.push(at);
        let status = statuses[rng.gen_range(0..statuses.len())];
        let sex = if rng.gen_bool(0.7) { "male" } else { "female" };
        let worker = rng.gen_range(0..workers);
        child_rows.push(format!(
            "('c{i}', 'code{i}', '{status}', 2, '{{}}', 'seed', '{p}', '{c}', '{sex}', 'afghan', {}, '|', 'w{worker}', 'w0', {at}, {at})",
            2014 + i % 8
        ));
        versions.push(format!("('c{i}', 1, 'active', '{{}}', 'w0', {at})"));
        let later = at + rng.gen_range(1..25) * DAY_MS;
        versions.push(format!(
            "('c{i}', 2, '{status}', '{{\"school_status\":\"enrolled\"}}', 'w0', {later})"
        ));
    }
    insert(
        db,
        "INSERT INTO children (id, registry_code, status, version, facts, create_digest, home_province,
             home_county, sex, nationality, birth_year, work_types, assigned_worker, created_by, created_at, updated_at)",
        child_rows.into_iter(),
    )
    .await;
    insert(
        db,
        "INSERT INTO child_versions (child_id, version, status, facts, changed_by, changed_at)",
        versions.into_iter(),
    )
    .await;
    let levels = [
        "iris_verified",
        "location_verified",
        "location_verified",
        "unverified",
    ];
    insert(
        db,
        "INSERT INTO encounters (id, child_id, worker_id, at, lat, lng, accuracy_m, details, create_digest, created_at, verification)",
        (0..encounters).map(|e| {
            let child = rng.gen_range(0..children);
            let at = (created[child] + rng.gen_range(0..400) * DAY_MS).min(now - DAY_MS);
            let level = levels[rng.gen_range(0..levels.len())];
            let follow_up = period::day_string(period::day_of(at + 14 * DAY_MS));
            format!(
                "('e{e}', 'c{child}', 'w{}', {at}, 35.7, 51.4, 12, '{{\"services\":[\"food\",\"counselling\"],\"next_follow_up\":\"{follow_up}\"}}', 'seed', {at}, '{level}')",
                child % workers
            )
        }),
    )
    .await;
    // Reports: citizens', the hotline's and workers', grouped in incidents
    // (about ten reports each), one in two linked to a child (first contact
    // before registration counts in timeliness).
    let incidents = (reports / 10).max(1);
    insert(
        db,
        "INSERT INTO incidents (id, province, county, lat, lng, first_seen_at, last_seen_at, created_at, updated_at)",
        (0..incidents).map(|i| {
            let (p, c) = place(i);
            format!("('i{i}', '{p}', '{c}', 35.7, 51.4, 0, {now}, 0, {now})")
        }),
    )
    .await;
    let sources = ["citizen", "citizen", "hotline", "worker"];
    let mut links = Vec::with_capacity(reports / 2);
    insert(
        db,
        "INSERT INTO sightings (id, receipt_code, source, seen_at, lat, lng, province, county, children_count,
             details, state, incident_id, create_digest, created_at, updated_at)",
        (0..reports).map(|r| {
            let incident = rng.gen_range(0..incidents);
            let (p, c) = place(incident);
            let source = sources[rng.gen_range(0..sources.len())];
            let at = now - rng.gen_range(1..720) * DAY_MS;
            let state = if r % 2 == 0 {
                let child = rng.gen_range(0..children);
                links.push(format!("('s{r}', 'c{child}', 'w0', {at})"));
                "linked"
            } else {
                "new"
            };
            format!(
                "('s{r}', 'R{r}', '{source}', {at}, 35.7, 51.4, '{p}', '{c}', 1, '{{}}', '{state}', 'i{incident}', 'seed', {at}, {at})"
            )
        })
        .collect::<Vec<_>>()
        .into_iter(),
    )
    .await;
    insert(
        db,
        "INSERT INTO sighting_children (sighting_id, child_id, linked_by, linked_at)",
        links.into_iter(),
    )
    .await;
    println!(
        "  seeded {children} children, {encounters} encounters and {reports} reports in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Copies `day`'s materialised rows to each of the `days` days before it (and
/// to `also`), in bulk SQL: reads then face the tables of a server that has
/// run for that long, not of one day.
async fn history(db: &Db, day: time::Date, days: i64, also: time::Date) {
    let started = Instant::now();
    let from = period::day_string(day);
    let targets = (1..=days)
        .map(|k| day - time::Duration::days(k))
        .chain((also < day - time::Duration::days(days)).then_some(also));
    let mut copied = 0;
    for target in targets {
        let to = period::day_string(target);
        let mut tx = db.pool().begin().await.unwrap();
        for (table, columns) in [
            (
                "indicator_values",
                "indicator, area, figure, value, children",
            ),
            (
                "indicator_workers",
                "worker_id, province, county, open_cases, visits, verified",
            ),
            (
                "indicator_cohorts",
                "cohort, province, sex, age_band, nationality, months, outcome, children",
            ),
        ] {
            sqlx::query(&format!(
                "INSERT INTO {table} (day, {columns}) SELECT $1, {columns} FROM {table} WHERE day = $2"
            ))
            .bind(&to)
            .bind(&from)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO indicator_runs (day, claimed_by, claimed_at, finished_at) VALUES ($1, 'bench', 0, 0)",
        )
        .bind(&to)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        copied += 1;
    }
    println!(
        "  copied the day to {copied} earlier days in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn staff(province: &str) -> Actor {
    Actor {
        user_id: "bench".into(),
        username: "bench".into(),
        role: Role::ProvincialStaff,
        scope: Scope::Province {
            province: province.into(),
            county: None,
        },
        token_hash: String::new(),
    }
}

fn report_line(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "  {what}: {} reads, p50 {:.2} ms, p95 {:.2} ms",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95))
    );
}

async fn run(name: &str, db: Db) {
    println!("{name}:");
    db.migrate().await.unwrap();
    seed(
        &db,
        env_or("BENCH_CHILDREN", 10_000),
        env_or("BENCH_ENCOUNTERS", 100_000),
        env_or("BENCH_REPORTS", 100_000),
    )
    .await;
    let yesterday = period::today() - time::Duration::days(1);
    let t = Instant::now();
    assert!(job::run_day(&db, yesterday, "bench").await.unwrap());
    println!(
        "  nightly job (one day, every area): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    // Where its time goes.
    let t = Instant::now();
    let facts = Facts::load(&db).await.unwrap();
    let loaded = t.elapsed();
    let t = Instant::now();
    let computed = compute(&facts, yesterday);
    let computing = t.elapsed();
    let t = Instant::now();
    job::store(&db, yesterday, &computed).await.unwrap();
    println!(
        "    of which reading the registry {:.2} s, computing {:.2} s, storing {} figures, {} worker rows and {} cohort cells {:.2} s",
        loaded.as_secs_f64(),
        computing.as_secs_f64(),
        computed.figures.len(),
        computed.workers.len(),
        computed.cohorts.len(),
        t.elapsed().as_secs_f64()
    );

    // A quarter of earlier days, and the last quarter's last day (what its
    // report reads).
    let last_quarter = period::Quarter::of_ms(
        period::start_ms(period::Quarter::of_ms(kudakyar::now_ms()).first_day()) - DAY_MS,
    );
    history(
        &db,
        yesterday,
        env_or("BENCH_HISTORY_DAYS", 90),
        last_quarter.last_day(),
    )
    .await;

    let queries: usize = env_or("BENCH_QUERIES", 300);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let national = Actor {
        role: Role::NationalAdmin,
        scope: Scope::National,
        ..staff("IR-00")
    };
    let quarter_ago = yesterday - time::Duration::days(89);
    let mut latest = Vec::with_capacity(queries);
    let mut quarter = Vec::with_capacity(queries);
    let mut provinces = Vec::with_capacity(queries);
    let mut counties = Vec::with_capacity(queries);
    let mut workers = Vec::with_capacity(queries);
    let mut cohorts = Vec::with_capacity(queries);
    for _ in 0..queries {
        let province = format!("IR-{:02}", rng.gen_range(0..31));
        let actor = staff(&province);
        let area = Area::of_scope(&actor.scope);
        let indicator = Indicator::ALL[rng.gen_range(0..Indicator::ALL.len())];
        let t = Instant::now();
        let s = read::series(&db, &actor, indicator, &area, None, None)
            .await
            .unwrap();
        latest.push(t.elapsed());
        assert!(!s.items.is_empty());
        let t = Instant::now();
        let s = read::series(
            &db,
            &actor,
            indicator,
            &area,
            None,
            Some((quarter_ago, yesterday)),
        )
        .await
        .unwrap();
        quarter.push(t.elapsed());
        assert!(s.items.len() >= 90);
        let t = Instant::now();
        let country = Area::of_scope(&Scope::National);
        read::series(
            &db,
            &national,
            indicator,
            &country,
            Some(read::Breakdown::Province),
            None,
        )
        .await
        .unwrap();
        provinces.push(t.elapsed());
        let t = Instant::now();
        read::series(
            &db,
            &actor,
            indicator,
            &area,
            Some(read::Breakdown::County),
            None,
        )
        .await
        .unwrap();
        counties.push(t.elapsed());
        let t = Instant::now();
        read::workers(&db, &actor, None, &area).await.unwrap();
        workers.push(t.elapsed());
        let t = Instant::now();
        read::cohorts(&db, &actor, None, None, &area, None)
            .await
            .unwrap();
        cohorts.push(t.elapsed());
    }
    report_line("indicator, one province, latest day", latest);
    report_line("indicator, one province, 90 days", quarter);
    report_line("indicator by province, latest day", provinces);
    report_line("indicator by county of a province, latest day", counties);
    report_line("workers table, one province", workers);
    report_line("cohort table, one province, every cohort", cohorts);

    let t = Instant::now();
    let html = report::quarterly(&db, "IR-23", last_quarter).await.unwrap();
    println!(
        "  quarterly report {last_quarter} (its last day materialised, as the nightly job left it): {:.2} s, {} KB",
        t.elapsed().as_secs_f64(),
        html.len() / 1024
    );
    // A quarter whose last day was never materialised (a server installed
    // since): the report materialises it first.
    let earlier = period::Quarter::of_ms(period::start_ms(last_quarter.first_day()) - DAY_MS);
    let t = Instant::now();
    report::quarterly(&db, "IR-23", earlier).await.unwrap();
    println!(
        "  quarterly report {earlier} (materialising its last day first): {:.2} s",
        t.elapsed().as_secs_f64(),
    );
}

fn main() {
    on_both_backends("the indicators benchmark", run);
}
