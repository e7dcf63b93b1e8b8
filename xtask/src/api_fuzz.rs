//! Fuzzes the running API from its own OpenAPI document with schemathesis:
//! thousands of generated requests, valid and invalid, each answer checked
//! for server errors (5xx) and for conformance to the document (status codes,
//! content types, response schemas). This is what keeps "every endpoint
//! validates and answers problem+json" true as endpoints are added.
//!
//! Then the stateful phase alone, for two minutes: sequences in which what a
//! create answers (a child, a report, a centre, a user) feeds the operations
//! linked to it, at least 5,000 requests. For a create to succeed often
//! enough to feed anything, the request schemas state the server's rules
//! (UUID ids, province codes, ranges, lengths, patterns).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::util::say;

const ADMIN_PASSWORD: &str = "api fuzzing admin password";

/// Runs schemathesis against `kudakyar` (a fresh SQLite data dir) as the admin.
pub fn run(root: &Path, kudakyar: &Path) -> Result<()> {
    let schemathesis = crate::venv::ensure(root, &crate::venv::SCHEMATHESIS)?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let data = std::env::temp_dir().join(format!("kudakyar-api-fuzz-{port}"));
    let _ = std::fs::remove_dir_all(&data);
    let base = format!("http://127.0.0.1:{port}");
    say(format_args!("fuzzing the API at {base} with schemathesis"));
    let mut server = Command::new(kudakyar)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&data)
        .env("KUDAKYAR_ADMIN_PASSWORD", ADMIN_PASSWORD)
        // Fuzzing sends many bad logins on purpose.
        .env("KUDAKYAR_LOGIN_MAX_FAILURES_PER_IP", "1000000")
        .env("KUDAKYAR_LOGIN_MAX_FAILURES_PER_USER", "1000000")
        .env("KUDAKYAR_LOGIN_MAX_FAILURES_PER_USER_AND_IP", "1000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting kudakyar for the API fuzzing")?;
    let result = fuzz(&schemathesis, &base);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
    result
}

/// Operations left out of the fuzzing: logging out or disabling the admin
/// would turn the rest into 401s; the notification stream never ends (an
/// SSE stream answers for as long as the client listens), so fuzzing it
/// would wait forever.
const EXCLUDED: [&str; 6] = [
    "--exclude-path",
    "/api/v1/auth/logout",
    "--exclude-path-regex",
    "disable",
    "--exclude-path",
    "/api/v1/notifications/stream",
];
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";
/// The stateful phase runs for this long, repeating its scenarios…
const STATEFUL_SECONDS: &str = "120";
/// …and must have sent at least this many requests (issue 21).
const STATEFUL_MIN_CASES: u64 = 5_000;

fn fuzz(schemathesis: &Path, base: &str) -> Result<()> {
    let token = login(base)?;
    let schema = format!("{base}/api/openapi.json");
    let auth = format!("Authorization: Bearer {token}");
    // Every operation alone: examples, coverage, fuzzing (and a first
    // stateful pass).
    let status = Command::new(schemathesis)
        .args(["run", &schema, "--header", &auth, "--checks", CHECKS])
        .args([
            "--max-examples",
            "25",
            "--workers",
            "1",
            "--seed",
            "20261123",
        ])
        .args(EXCLUDED)
        .status()
        .context("running schemathesis")?;
    if !status.success() {
        bail!("schemathesis found API failures (see above)");
    }
    // Sequences: creates feed their ids to the operations their answers
    // link to (links schemathesis infers from the schemas), for a time
    // budget rather than a count, so that the scenarios repeat.
    let output = Command::new(schemathesis)
        .args(["run", &schema, "--header", &auth, "--checks", CHECKS])
        .args(["--phases", "stateful", "--max-examples", "1000"])
        .args([
            "--max-time",
            STATEFUL_SECONDS,
            "--workers",
            "1",
            "--seed",
            "20261123",
        ])
        .args(EXCLUDED)
        .stderr(Stdio::inherit())
        .output()
        .context("running schemathesis (stateful)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    if !output.status.success() {
        bail!("schemathesis's stateful phase found API failures (see above)");
    }
    // Its summary says "N generated, N passed".
    let cases = text
        .lines()
        .find_map(|l| l.trim().split_once(" generated"))
        .and_then(|(n, _)| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if cases < STATEFUL_MIN_CASES {
        bail!("the stateful phase sent {cases} requests, fewer than {STATEFUL_MIN_CASES}");
    }
    say(format_args!(
        "stateful API fuzzing: {cases} requests, no failure"
    ));
    Ok(())
}

/// Waits for the server, then logs in as the admin with curl-free std I/O.
fn login(base: &str) -> Result<String> {
    let started = Instant::now();
    let body = format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    loop {
        if let Ok(answer) = post_json(base, "/api/v1/auth/login", &body)
            && let Some(token) = answer
                .split("\"token\":\"")
                .nth(1)
                .and_then(|t| t.split('"').next())
        {
            return Ok(token.to_string());
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("kudakyar did not answer the login within 30 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A minimal HTTP/1.1 POST over std (xtask keeps no HTTP client dependency).
fn post_json(base: &str, path: &str, body: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host)?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}
