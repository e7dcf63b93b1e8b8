//! Mixed worker traffic under load: `BENCH_CLIENTS` (default 200) HTTP
//! clients for `BENCH_SECONDS` (default 60) against the real router (release
//! build, on a local port, in this process), doing what outreach workers'
//! phones do all day:
//!
//! | share | request |
//! |---|---|
//! | 35 % | name search (`GET /api/v1/children?q=…`, a name part) |
//! | 30 % | a profile: the record, then its encounters |
//! | 25 % | a new encounter (`POST …/encounters`, a fresh client id) |
//! | 10 % | a photo (`POST …/photos`, a 640×480 JPEG as a phone sends it) |
//!
//! The clients log in as `BENCH_WORKERS` (default 20) outreach workers of one
//! province, ten phones' worth of connections each, with compression on as
//! a browser's are. Before the clock starts, `BENCH_CHILDREN` (default 2,000)
//! children are registered through the API. A 429 or 503 with `Retry-After`
//! (the server's backpressure: too many uploads at once, a full write queue)
//! is waited out and sent again, as the app's outbox does, and counted; any
//! other answer must be a 2xx: the bench prints the errors by status (0, no
//! answer at all, with what the client saw) — none is the target — and, per
//! kind, requests/s and p50/p95/p99 (a retried request's from its first try). The clients share the machine's cores with
//! the server, so the rates are floors.
//!
//! Runs on SQLite (a temporary file) and, when `KUDAKYAR_TEST_POSTGRES_URL`
//! is set, on a fresh PostgreSQL database dropped afterwards; `BENCH_ONLY=
//! sqlite|postgres` runs one. Issue 21: 0 errors, p99 reported.
//!
//! ```text
//! cargo bench -p kudakyar --bench load
//! KUDAKYAR_TEST_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench -p kudakyar --bench load
//! ```

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kudakyar::db::Db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use support::{ADMIN_PASSWORD, env_or, login, ms, on_both_backends, percentile, start};
use tokio::sync::Mutex;

const PROVINCE: &str = "IR-23";
const WORKER_PASSWORD: &str = "bench worker password";
const GIVEN: [&str; 12] = [
    "محمد",
    "علی",
    "حسین",
    "رضا",
    "مهدی",
    "امیر",
    "فاطمه",
    "زهرا",
    "مریم",
    "سارا",
    "نرگس",
    "زینب",
];
const FAMILY: [&str; 8] = [
    "احمدی",
    "محمدی",
    "حسینی",
    "رضایی",
    "کریمی",
    "موسوی",
    "هاشمی",
    "نظری",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Search,
    Profile,
    Encounter,
    Photo,
}

impl Kind {
    fn draw(rng: &mut impl Rng) -> Kind {
        match rng.gen_range(0..100) {
            0..35 => Kind::Search,
            35..65 => Kind::Profile,
            65..90 => Kind::Encounter,
            _ => Kind::Photo,
        }
    }
}

/// What one client saw: latencies by kind, and errors by (kind, status).
#[derive(Default)]
struct Seen {
    latencies: BTreeMap<Kind, Vec<Duration>>,
    errors: BTreeMap<(Kind, u16), usize>,
    /// 429s waited out: the server's backpressure, not an error.
    waits: usize,
    /// The first few transport errors, to say what they were.
    failures: Vec<String>,
}

fn main() {
    let failed = std::sync::Mutex::new(Vec::new());
    on_both_backends("the load bench", async |name: &str, db: Db| {
        let errors = run(name, db).await;
        if errors > 0 {
            failed.lock().unwrap().push(format!("{name}: {errors}"));
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(failed.is_empty(), "requests failed under load: {failed:?}");
}

/// Runs the load on `db`; the number of requests that failed.
async fn run(name: &str, db: Db) -> usize {
    let clients: usize = env_or("BENCH_CLIENTS", 200);
    let seconds: u64 = env_or("BENCH_SECONDS", 60);
    let workers: usize = env_or("BENCH_WORKERS", 20);
    let children: usize = env_or("BENCH_CHILDREN", 2_000);
    let server = start(db).await;
    let base = server.url.clone();
    let http = || {
        reqwest::Client::builder()
            .gzip(true)
            .brotli(true)
            .build()
            .unwrap()
    };
    let admin = login(&http(), &base, "admin", ADMIN_PASSWORD).await;
    let mut tokens = Vec::new();
    for w in 0..workers {
        let username = format!("bench.worker.{w}");
        let made = http()
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(&admin)
            .json(&json!({"username": username, "password": WORKER_PASSWORD,
                          "role": "outreach_worker", "province": PROVINCE}))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201, "{}", made.text().await.unwrap());
        tokens.push(login(&http(), &base, &username, WORKER_PASSWORD).await);
    }

    // Children registered through the API, by the workers.
    let started = Instant::now();
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut seeding = Vec::new();
    for (w, token) in tokens.iter().enumerate() {
        let (base, token, ids) = (base.clone(), token.clone(), ids.clone());
        let client = http();
        seeding.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(w as u64);
            for _ in (w..children).step_by(workers) {
                let id = uuid::Uuid::new_v4().to_string();
                let child = json!({
                    "id": id,
                    "given_name": GIVEN[rng.gen_range(0..GIVEN.len())],
                    "family_name": FAMILY[rng.gen_range(0..FAMILY.len())],
                    "sex": if rng.gen_bool(0.7) { "male" } else { "female" },
                    "nationality": if rng.gen_bool(0.6) { "iranian" } else { "afghan" },
                    "home_province": PROVINCE,
                    "birth": {"precision": "estimated", "estimated_age": rng.gen_range(6..17)},
                });
                let made = client
                    .post(format!("{base}/api/v1/children"))
                    .bearer_auth(&token)
                    .json(&child)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(made.status(), 201, "{}", made.text().await.unwrap());
                ids.lock().await.push(id);
            }
        }));
    }
    for task in seeding {
        task.await.unwrap();
    }
    let ids = Arc::new(ids.lock().await.clone());
    println!(
        "{name}: {} children registered through the API in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );

    let photo = Arc::new(phone_photo());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (base, token) = (base.clone(), tokens[c % workers].clone());
        let (ids, photo, stop) = (ids.clone(), photo.clone(), stop.clone());
        let client = http();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(1_000 + c as u64);
            let mut seen = Seen::default();
            while !stop.load(Ordering::Relaxed) {
                let kind = Kind::draw(&mut rng);
                let child = &ids[rng.gen_range(0..ids.len())];
                let began = Instant::now();
                let answer = loop {
                    let answer = match kind {
                        Kind::Search => {
                            let q = GIVEN[rng.gen_range(0..GIVEN.len())];
                            get(&client, &token, &format!("{base}/api/v1/children?q={q}")).await
                        }
                        Kind::Profile => {
                            let record =
                                get(&client, &token, &format!("{base}/api/v1/children/{child}"))
                                    .await;
                            if is_ok(record.status) {
                                get(
                                    &client,
                                    &token,
                                    &format!("{base}/api/v1/children/{child}/encounters"),
                                )
                                .await
                            } else {
                                record
                            }
                        }
                        Kind::Encounter => {
                            let encounter = json!({
                                "id": uuid::Uuid::new_v4().to_string(),
                                "at": kudakyar::ms_to_rfc3339(kudakyar::now_ms() - 60_000),
                                "lat": 35.6892 + rng.gen_range(-0.05..0.05),
                                "lng": 51.3890 + rng.gen_range(-0.05..0.05),
                                "accuracy_m": 12.0,
                                "activity": "street_vending",
                                "notes": "سر چهارراه دیده شد",
                            });
                            let sent = client
                                .post(format!("{base}/api/v1/children/{child}/encounters"))
                                .bearer_auth(&token)
                                .json(&encounter)
                                .send()
                                .await;
                            status_of(sent).await
                        }
                        Kind::Photo => {
                            let form = reqwest::multipart::Form::new().part(
                                "photo",
                                reqwest::multipart::Part::bytes(photo.as_ref().clone())
                                    .file_name("photo.jpg")
                                    .mime_str("image/jpeg")
                                    .unwrap(),
                            );
                            let sent = client
                                .post(format!("{base}/api/v1/children/{child}/photos"))
                                .bearer_auth(&token)
                                .multipart(form)
                                .send()
                                .await;
                            status_of(sent).await
                        }
                    };
                    // Backpressure (too many uploads at once, a write queue
                    // full): the app waits as told and sends again.
                    match (answer.status, answer.retry_after) {
                        (429 | 503, Some(wait)) => {
                            seen.waits += 1;
                            tokio::time::sleep(Duration::from_secs(wait)).await;
                        }
                        _ => break answer,
                    }
                };
                if is_ok(answer.status) {
                    seen.latencies
                        .entry(kind)
                        .or_default()
                        .push(began.elapsed());
                } else {
                    *seen.errors.entry((kind, answer.status)).or_default() += 1;
                    if let Some(failure) = answer.failure
                        && seen.failures.len() < 5
                    {
                        seen.failures.push(format!("{kind:?}: {failure}"));
                    }
                }
            }
            seen
        }));
    }
    let clock = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Seen::default();
    for task in tasks {
        let seen = task.await.unwrap();
        for (kind, mut l) in seen.latencies {
            all.latencies.entry(kind).or_default().append(&mut l);
        }
        for (key, n) in seen.errors {
            *all.errors.entry(key).or_default() += n;
        }
        all.waits += seen.waits;
        all.failures.extend(seen.failures);
    }
    let elapsed = clock.elapsed().as_secs_f64();
    let mut total = Vec::new();
    println!("{name}: {clients} clients, {elapsed:.0} s");
    for (kind, latencies) in &mut all.latencies {
        latencies.sort();
        total.extend_from_slice(latencies);
        println!(
            "  {kind:?}: {:.0}/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            latencies.len() as f64 / elapsed,
            ms(percentile(latencies, 0.50)),
            ms(percentile(latencies, 0.95)),
            ms(percentile(latencies, 0.99)),
        );
    }
    total.sort();
    let errors: usize = all.errors.values().sum();
    for failure in all.failures.iter().take(5) {
        println!("  no answer: {failure}");
    }
    println!(
        "  all: {:.0}/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; errors: {errors} {:?}",
        total.len() as f64 / elapsed,
        ms(percentile(&total, 0.50)),
        ms(percentile(&total, 0.95)),
        ms(percentile(&total, 0.99)),
        all.errors,
    );
    let waits: usize = all.waits;
    println!("  429 answered and waited out (Retry-After), as the app does: {waits}");
    errors
}

/// What came back: the status (0 when no answer came: the connection
/// failed), the `Retry-After` seconds, and the failure when there was one.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    failure: Option<String>,
}

async fn status_of(sent: reqwest::Result<reqwest::Response>) -> Answer {
    let failed = |e: reqwest::Error| Answer {
        status: 0,
        retry_after: None,
        failure: Some(format!("{e:?}")),
    };
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            // The whole body, as a phone reads it.
            match response.bytes().await {
                Ok(_) => Answer {
                    status,
                    retry_after,
                    failure: None,
                },
                Err(e) => failed(e),
            }
        }
        Err(e) => failed(e),
    }
}

async fn get(client: &reqwest::Client, token: &str, url: &str) -> Answer {
    status_of(client.get(url).bearer_auth(token).send().await).await
}

fn is_ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// A 640×480 JPEG with some texture, about the size a phone sends after
/// the PWA's downscaling.
fn phone_photo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(640, 480, |x, y| {
        let v = ((x * 7 + y * 13) % 255) as u8;
        image::Rgb([v, v.wrapping_mul(3), 255 - v])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}
