//! `kill -9` under a write load: the real `kudakyar serve`, six clients
//! writing at once — workers' child records (`POST /api/v1/children`, one
//! transaction each) and citizens' reports (`POST /api/v1/sightings`, group
//! commit) — killed with SIGKILL mid-load, then started again on the same
//! data (and, on PostgreSQL, the same database). Then:
//!
//! - every write that was answered 2xx is there, as it was answered;
//! - every write that got no answer, sent again, is answered like a first
//!   create (201, or 200 when it had been committed before the crash) —
//!   never a 409 or a 5xx — so a phone retrying its outbox neither loses
//!   nor doubles anything;
//! - on SQLite, the database passes `PRAGMA integrity_check`.
//!
//! The figures (writes answered before the kill, writes in flight) are
//! printed for the note; the assertions are about what survived.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kudakyar::db::scratch::{self, ScratchDatabase};
use kudakyar_e2e::Server;
use serde_json::{Value, json};
use tokio::sync::Mutex;

const ADMIN_PASSWORD: &str = "an admin password for the write crash";
/// Writes answered before the kill: enough that it lands mid-load.
const ANSWERED_BEFORE_KILL: usize = 150;
/// A guard against a hang, not a measure of speed.
const PATIENCE: Duration = Duration::from_secs(60);
const CLIENTS_PER_KIND: usize = 3;

#[tokio::test]
async fn every_answered_write_survives_a_kill_on_sqlite() {
    crash_under_load(None).await;
}

#[tokio::test]
async fn every_answered_write_survives_a_kill_on_postgres() {
    let Some(admin_url) = scratch::test_postgres_url("the write crash test") else {
        return;
    };
    let database = ScratchDatabase::create(&admin_url, "kudakyar_e2e")
        .await
        .unwrap();
    crash_under_load(Some(&database.url())).await;
    database.drop().await.unwrap();
}

/// One create as a client sent it.
#[derive(Debug, Clone)]
struct Write {
    path: &'static str,
    id: String,
    body: Value,
    /// The status of its answer; `None` if the server died first.
    answered: Option<u16>,
}

#[derive(Clone, Copy)]
enum Kind {
    Child,
    Report,
}

fn write(kind: Kind, client: usize, n: usize) -> Write {
    let id = format!(
        "{}{client:07x}-0000-4000-8000-{n:012x}",
        match kind {
            Kind::Child => 'c',
            Kind::Report => 'e',
        }
    );
    match kind {
        Kind::Child => Write {
            path: "/api/v1/children",
            body: json!({
                "id": id, "given_name": format!("کودک {client}-{n}"), "sex": "male",
                "nationality": "afghan", "home_province": "IR-23",
                "birth": {"precision": "estimated", "estimated_age": 10},
            }),
            id,
            answered: None,
        },
        Kind::Report => Write {
            path: "/api/v1/sightings",
            body: json!({
                "id": id,
                // Spread over Tehran so that reports group into many incidents.
                "lat": 35.60 + 0.002 * (client * 97 + n % 97) as f64,
                "lng": 51.30 + 0.002 * (n % 89) as f64,
                "children_count": 1, "activity": "selling_flowers_or_poems",
            }),
            id,
            answered: None,
        },
    }
}

async fn send(client: &reqwest::Client, base: &str, token: &str, w: &Write) -> Option<u16> {
    let mut request = client.post(format!("{base}{}", w.path)).json(&w.body);
    if w.path == "/api/v1/children" {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    // An answer is only an answer once its body has arrived.
    response.bytes().await.ok()?;
    Some(status)
}

async fn login(base: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn crash_under_load(database_url: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut env = vec![
        ("KUDAKYAR_ADMIN_PASSWORD", ADMIN_PASSWORD),
        // Many reports from one address: the abuse limits are not under test.
        ("KUDAKYAR_SIGHTING_MAX_PER_HOUR", "1000000"),
        ("KUDAKYAR_SIGHTING_SOFT_LIMIT_PER_HOUR", "1000000"),
    ];
    if let Some(url) = database_url {
        env.push(("KUDAKYAR_DATABASE_URL", url));
    }
    let mut server = Server::start(&data, &env).await;
    let base = server.base.clone();
    let token = login(&base).await;

    let writes: Arc<Mutex<Vec<Write>>> = Arc::default();
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for (c, kind) in (0..CLIENTS_PER_KIND)
        .map(|c| (c, Kind::Child))
        .chain((0..CLIENTS_PER_KIND).map(|c| (c + CLIENTS_PER_KIND, Kind::Report)))
    {
        let (base, token) = (base.clone(), token.clone());
        let (writes, answered, stop) = (writes.clone(), answered.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            // A browser-like client: compressed answers accepted.
            let client = reqwest::Client::builder().gzip(true).build().unwrap();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let mut w = write(kind, c, n);
                n += 1;
                w.answered = send(&client, &base, &token, &w).await;
                if w.answered.is_some() {
                    answered.fetch_add(1, Ordering::SeqCst);
                }
                let died = w.answered.is_none();
                writes.lock().await.push(w);
                if died {
                    break;
                }
            }
        }));
    }
    let started = Instant::now();
    while answered.load(Ordering::SeqCst) < ANSWERED_BEFORE_KILL {
        assert!(
            started.elapsed() < PATIENCE,
            "too slow:\n{}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }
    let writes = writes.lock().await.clone();
    let in_flight = writes.iter().filter(|w| w.answered.is_none()).count();
    eprintln!(
        "killed after {} answered writes in {:?}; {in_flight} in flight",
        writes.len() - in_flight,
        started.elapsed()
    );
    for w in &writes {
        if let Some(status) = w.answered {
            assert!(
                status == 201,
                "{} {}: {status} under load\n{}",
                w.path,
                w.id,
                server.stderr()
            );
        }
    }

    let mut server = Server::start(&data, &env).await;
    let base = server.base.clone();
    let token = login(&base).await;
    let client = reqwest::Client::builder().gzip(true).build().unwrap();
    // Everything answered is there.
    for w in writes.iter().filter(|w| w.answered.is_some()) {
        let path = match w.path {
            "/api/v1/children" => format!("/api/v1/children/{}", w.id),
            _ => format!("/api/v1/sightings/{}", w.id),
        };
        let response = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{path} was answered 201 before the crash and is gone"
        );
        let stored: Value = response.json().await.unwrap();
        assert_eq!(stored["id"], w.id.as_str());
        if let Some(name) = w.body.get("given_name") {
            assert_eq!(&stored["given_name"], name, "{path}");
        }
    }
    // What got no answer is sent again, as a phone's outbox would: a first
    // create, or the committed one answered again; and an answered one
    // sent again is answered 200.
    let unanswered = writes.iter().filter(|w| w.answered.is_none());
    let some_answered = writes.iter().filter(|w| w.answered.is_some()).step_by(10);
    for w in unanswered.clone() {
        let status = send(&client, &base, &token, w).await;
        assert!(
            matches!(status, Some(200 | 201)),
            "{} {} sent again after the crash: {status:?}\n{}",
            w.path,
            w.id,
            server.stderr()
        );
    }
    for w in some_answered {
        let status = send(&client, &base, &token, w).await;
        assert_eq!(status, Some(200), "{} {} sent again", w.path, w.id);
    }
    assert!(server.terminate().success(), "{}", server.stderr());

    if database_url.is_none() {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            data.join("kudakyar.db").display()
        ))
        .await
        .unwrap();
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(verdict, "ok");
    }
}
