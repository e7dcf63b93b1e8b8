//! The notification stream at scale: `BENCH_CLIENTS` (default 1,000)
//! Server-Sent Events streams open at once on one in-process server, one
//! per user (all supervisors of one county).
//!
//! The clients run in a child process (this bench run again with
//! `SSE_BENCH_CLIENT` set), so the server process's memory is the
//! server's alone:
//!
//! 1. **Memory per connection**: the server process's RSS
//!    (`/proc/self/status`, `VmRSS`) before the streams open and once all
//!    are open and have polled, divided by the number of streams.
//! 2. **Poll cost**: the server process's CPU time (`/proc/self/stat`,
//!    user + system) over `BENCH_IDLE_S` (default 10) seconds with every
//!    stream open and nothing happening, against the same window before
//!    they opened. The instance's [`kudakyar::notify::stream::Hub`] looks
//!    for new rows every [`kudakyar::notify::stream::POLL`]; a stream reads
//!    only when its user is announced.
//! 3. **Latency**: `BENCH_ROUNDS` (default 3) times, one domain event (a
//!    citizen report in the county) committed through the real
//!    `events::record` → `notify::fan_out` path, writing one notification
//!    for each user; from the commit to each client's receipt of its event
//!    (wall clock, same machine): p50 / p95 / max over all receipts.
//!
//! Runs on SQLite and, when `KUDAKYAR_TEST_POSTGRES_URL` is set, on a
//! fresh PostgreSQL database; `BENCH_ONLY=sqlite|postgres` runs one.
//!
//! ```text
//! cargo bench -p kudakyar --bench sse
//! ```

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kudakyar::db::Db;
use support::{env_or, percentile};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Set in the child process that holds the streams.
const CLIENT_MODE: &str = "SSE_BENCH_CLIENT";

fn main() {
    if std::env::var_os(CLIENT_MODE).is_some() {
        clients();
        return;
    }
    support::on_both_backends("the SSE bench", bench);
}

/// The server process's resident memory, in KiB.
fn rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// CPU time this process has used (user + system), in clock ticks.
fn cpu_ticks() -> i64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    fields[11].parse::<i64>().unwrap() + fields[12].parse::<i64>().unwrap()
}

/// Share of one core used over `window`, in per cent (100 ticks a second,
/// Linux's USER_HZ).
async fn cpu_percent(window: Duration) -> f64 {
    let before = cpu_ticks();
    tokio::time::sleep(window).await;
    (cpu_ticks() - before) as f64 / window.as_secs_f64()
}

async fn bench(name: &str, db: Db) {
    let clients: usize = env_or("BENCH_CLIENTS", 1_000);
    let rounds: usize = env_or("BENCH_ROUNDS", 3);
    let idle = Duration::from_secs(env_or("BENCH_IDLE_S", 10));
    let server = support::start(db.clone()).await;

    // The users, each with a session: SQL rather than logins (a password
    // hash each would take minutes).
    let mut tokens = Vec::with_capacity(clients);
    for i in 0..clients {
        let id = format!("sse-sup-{i:05}");
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, province, county, created_at)
             VALUES ($1, $2, 'not a hash', 'supervisor', 'IR-23', '2301', 0)",
        )
        .bind(&id)
        .bind(format!("ssesup{i:05}"))
        .execute(db.pool())
        .await
        .unwrap();
        let (token, _) = kudakyar::auth::session::create(&db, &id, 3_600_000, None)
            .await
            .unwrap();
        tokens.push(token);
    }
    let cpu_before = cpu_percent(idle).await;
    let rss_before = rss_kib();

    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env(CLIENT_MODE, &server.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        let text = tokens.join("\n") + "\n";
        tokio::io::AsyncWriteExt::write_all(&mut stdin, text.as_bytes())
            .await
            .unwrap();
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let opening = Instant::now();
    let said = lines.next_line().await.unwrap();
    assert_eq!(said.as_deref(), Some("open"), "the clients could not open");
    let opened_in = opening.elapsed();
    // Every stream has made its first look and is between polls.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_open = rss_kib();
    let cpu_open = cpu_percent(idle).await;
    let rss_after_idle = rss_kib();

    let mut latencies = Vec::with_capacity(clients * rounds);
    for _ in 0..rounds {
        let mut tx = db.begin_write().await.unwrap();
        let subject = uuid::Uuid::now_v7().to_string();
        support::report_event(&mut tx, &subject).await;
        tx.commit().await.unwrap();
        let committed = kudakyar::now_ms();
        let mut got: HashMap<usize, i64> = HashMap::new();
        while got.len() < clients {
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .expect("every client hears within a minute")
                .unwrap()
                .expect("the clients ended early");
            // "<client> <receipt ms>"
            let (client, at) = line.split_once(' ').unwrap();
            got.insert(client.parse().unwrap(), at.parse().unwrap());
        }
        latencies.extend(got.values().map(|at| at - committed));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    latencies.sort_unstable();
    let per_connection = (rss_open - rss_before) as f64 / clients as f64;
    println!(
        "{name}: {clients} streams opened in {:.1} s; server RSS {:.1} MiB → {:.1} MiB \
         ({:.1} KiB per stream; {:.1} MiB after {:.0} s idle)",
        opened_in.as_secs_f64(),
        rss_before as f64 / 1024.0,
        rss_open as f64 / 1024.0,
        per_connection,
        rss_after_idle as f64 / 1024.0,
        idle.as_secs_f64(),
    );
    println!(
        "{name}: idle server CPU {cpu_before:.1} % of a core without streams, {cpu_open:.1} % \
         with {clients} open (one poll of the instance every {} ms)",
        kudakyar::notify::stream::POLL.as_millis(),
    );
    println!(
        "{name}: {rounds} × one event to all {clients}: commit → client receipt \
         p50 {} ms, p95 {} ms, max {} ms ({} receipts)",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        latencies.last().copied().unwrap_or(0),
        latencies.len(),
    );
    drop(child);
    server.state.stopping.cancel();
}

/// The child: opens one stream per token read from stdin, says `open` when
/// all answered 200, then `<client> <receipt ms>` for each notification
/// event each receives.
fn clients() {
    let base = std::env::var(CLIENT_MODE).unwrap();
    let tokens: Vec<String> = std::io::stdin()
        .lines()
        .map(|l| l.unwrap())
        .filter(|l| !l.is_empty())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        let url = format!("{base}/api/v1/notifications/stream");
        let opened = futures::stream::iter(tokens.iter().map(|token| {
            let request = client.get(&url).bearer_auth(token).send();
            async move {
                let response = request.await.expect("opening a stream");
                assert_eq!(response.status(), 200);
                response
            }
        }))
        // Open a few at a time, as clients arriving, not one burst.
        .buffered(50)
        .collect::<Vec<_>>()
        .await;
        let (say, mut heard) = tokio::sync::mpsc::unbounded_channel::<String>();
        for (index, response) in opened.into_iter().enumerate() {
            let say = say.clone();
            tokio::spawn(async move {
                let mut response = response;
                let mut buffer = String::new();
                while let Ok(Some(chunk)) = response.chunk().await {
                    buffer.push_str(std::str::from_utf8(&chunk).unwrap());
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        if block.lines().any(|l| l.starts_with("id:")) {
                            let _ = say.send(format!("{index} {}", kudakyar::now_ms()));
                        }
                    }
                }
            });
        }
        drop(say);
        let mut out = std::io::stdout().lock();
        writeln!(out, "open").unwrap();
        out.flush().unwrap();
        drop(out);
        while let Some(line) = heard.recv().await {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}").unwrap();
            out.flush().unwrap();
        }
    });
}
