//! The `kudakyar` binary as an operator uses it: first start, the user
//! commands, configuration check, and a graceful stop.

#[path = "binary/backup.rs"]
mod backup;

use kudakyar_e2e::{Server, kudakyar, run_with_stdin};
use serde_json::{Value, json};

async fn login(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn get_as(client: &reqwest::Client, token: &str, url: String) -> reqwest::Response {
    client.get(url).bearer_auth(token).send().await.unwrap()
}

/// `kudakyar serve` on a fresh data dir (`data` in a temporary directory
/// that is removed when the returned guard drops).
async fn fresh_server(envs: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, envs).await;
    (tmp, data, server)
}

/// Checks that a command succeeded, showing what it said if not.
fn assert_succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn first_start_user_commands_scopes_and_graceful_stop() {
    let (_tmp, data, mut server) = fresh_server(&[]).await;
    assert!(
        server.stderr().contains("initial-admin-password"),
        "{}",
        server.stderr()
    );
    let password_file = data.join("initial-admin-password");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&password_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let admin_password = std::fs::read_to_string(&password_file)
        .unwrap()
        .trim()
        .to_string();
    let client = reqwest::Client::new();
    let base = server.base.clone();
    assert_eq!(
        login(&client, &base, "admin", &admin_password)
            .await
            .status(),
        200
    );
    assert_eq!(
        login(&client, &base, "admin", "wrong password")
            .await
            .status(),
        401
    );

    // `user add` while the server runs (SQLite in WAL mode allows it).
    let mut add = kudakyar(&data);
    add.args([
        "user",
        "add",
        "--username",
        "tehran.staff",
        "--role",
        "provincial_staff",
    ])
    .args(["--province", "IR-23", "--password-stdin"]);
    let out = run_with_stdin(add, "staff password 123\n");
    assert_succeeded(&out);

    let mut bad = kudakyar(&data);
    bad.args([
        "user",
        "add",
        "--username",
        "x",
        "--role",
        "supervisor",
        "--password-stdin",
    ]);
    let out = run_with_stdin(bad, "short\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("province") && err.contains("password") && err.contains("username"),
        "{err}"
    );

    let response = login(&client, &base, "tehran.staff", "staff password 123").await;
    assert_eq!(response.status(), 200);
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let users_of = |province: &str| format!("{base}/api/v1/users?province={province}");
    let other = get_as(&client, &token, users_of("IR-08")).await;
    assert_eq!(other.status(), 403);
    let own = get_as(&client, &token, users_of("IR-23")).await;
    assert_eq!(own.status(), 200);

    let list = kudakyar(&data).args(["user", "list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&list.stdout);
    assert!(
        listing.contains("tehran.staff") && listing.contains("admin"),
        "{listing}"
    );
    let disable = kudakyar(&data)
        .args(["user", "disable", "tehran.staff"])
        .output()
        .unwrap();
    assert!(disable.status.success());
    let refused = get_as(&client, &token, format!("{base}/api/v1/auth/me")).await;
    assert_eq!(refused.status(), 401, "disabling ends live sessions");

    let status = server.terminate();
    assert!(status.success(), "graceful stop exits 0, got {status}");
    assert!(
        server.stderr().contains("shutting down"),
        "{}",
        server.stderr()
    );

    // A second start keeps the admin and writes no new password.
    std::fs::remove_file(&password_file).unwrap();
    let mut again = Server::start(&data, &[]).await;
    assert!(!password_file.exists());
    assert_eq!(
        login(&client, &again.base, "admin", &admin_password)
            .await
            .status(),
        200
    );
    assert!(again.terminate().success());
}

#[tokio::test]
async fn admin_password_from_the_environment() {
    let (_tmp, data, mut server) =
        fresh_server(&[("KUDAKYAR_ADMIN_PASSWORD", "from the environment")]).await;
    assert!(!data.join("initial-admin-password").exists());
    let client = reqwest::Client::new();
    assert_eq!(
        login(&client, &server.base, "admin", "from the environment")
            .await
            .status(),
        200
    );
    assert!(server.terminate().success());
}

#[test]
fn config_check_redacts_secrets_and_rejects_typos() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("kudakyar.toml");
    std::fs::write(&file, "token_ttl_hours = 12\n").unwrap();
    let out = kudakyar(tmp.path())
        .args(["config", "check", "--config"])
        .arg(&file)
        .env(
            "KUDAKYAR_DATABASE_URL",
            "postgres://kud:s3cret@db.internal/kudakyar",
        )
        .env("KUDAKYAR_ADMIN_PASSWORD", "hunter2hunter2")
        .output()
        .unwrap();
    assert_succeeded(&out);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("token_ttl_hours = 12"), "{shown}");
    assert!(
        shown.contains("postgres://kud:***@db.internal/kudakyar"),
        "{shown}"
    );
    assert!(
        !shown.contains("s3cret") && !shown.contains("hunter2"),
        "{shown}"
    );

    std::fs::write(&file, "token_tl_hours = 12\n").unwrap();
    let out = kudakyar(tmp.path())
        .args(["config", "check", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("token_tl_hours"));
}

#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let (_tmp, _, mut server) = fresh_server(&[("KUDAKYAR_LOG_FORMAT", "json")]).await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/health", server.base))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(server.terminate().success());
    let logs = server.stderr();
    let line = logs
        .lines()
        .find(|l| l.contains("trace-me-123"))
        .unwrap_or_else(|| panic!("no log line with the request id:\n{logs}"));
    let parsed: Value = serde_json::from_str(line).expect("log lines are JSON");
    assert!(parsed.to_string().contains("trace-me-123"));
}

#[test]
fn export_command_writes_a_csv_with_a_bom() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("children.csv");
    let status = kudakyar(&tmp.path().join("data"))
        .args(["export", "children", "--format", "csv", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("\u{FEFF}id,registry_code,"), "{text}");
    let bad = kudakyar(&tmp.path().join("data"))
        .args(["export", "photos", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn iris_commands_tell_the_same_eye_from_another() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("eyes");
    let synth = kudakyar(tmp.path())
        .args(["iris", "synth"])
        .arg(&dir)
        .args(["--identities", "2", "--captures", "2", "--seed", "7"])
        .output()
        .unwrap();
    assert_succeeded(&synth);
    let compare = |a: &str, b: &str| -> Value {
        let out = kudakyar(tmp.path())
            .args(["iris", "match"])
            .arg(dir.join(a))
            .arg(dir.join(b))
            .arg("--json")
            .output()
            .unwrap();
        assert_succeeded(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(
        compare("00000/0.png", "00000/1.png")["result"]["is_match"],
        true
    );
    assert_eq!(
        compare("00000/0.png", "00001/0.png")["result"]["is_match"],
        false
    );
    let garbage = tmp.path().join("not-an-eye.png");
    std::fs::write(&garbage, b"not an image").unwrap();
    let out = kudakyar(tmp.path())
        .args(["iris", "template"])
        .arg(&garbage)
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unusable capture exits non-zero");
}

/// SIGTERM while the background jobs run every 50 ms: the jobs stop (a round
/// in progress ends first) before the database pool closes, the process
/// exits 0, and nothing is logged as a warning or an error on the way out.
#[tokio::test]
async fn sigterm_stops_the_background_jobs_before_the_pool_closes() {
    let (_tmp, _, mut server) = fresh_server(&[
        ("KUDAKYAR_IRIS_SYNC_INTERVAL_MS", "50"),
        ("KUDAKYAR_LOG_FORMAT", "json"),
    ])
    .await;
    // Several rounds of the jobs, so one is likely under way at the signal.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let status = server.terminate();
    let log = server.stderr();
    assert!(
        status.success(),
        "graceful stop exits 0, got {status}\n{log}"
    );
    let messages: Vec<(String, String)> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|entry| {
            (
                entry["level"].as_str().unwrap_or_default().to_owned(),
                entry["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let position = |text: &str| {
        messages
            .iter()
            .position(|(_, m)| m.contains(text))
            .unwrap_or_else(|| panic!("no log line says {text:?}:\n{log}"))
    };
    assert!(
        position("background jobs stopped") < position("closing the database pool"),
        "the jobs must stop before the pool closes:\n{log}"
    );
    let troubles: Vec<_> = messages
        .iter()
        .filter(|(level, _)| level == "WARN" || level == "ERROR")
        .collect();
    assert!(troubles.is_empty(), "{troubles:?}\n{log}");
}

/// SIGTERM while a client holds the notification stream open: the stream
/// ends and the process exits 0 (axum's graceful shutdown waits for every
/// open response, so a stream that never ended would keep it alive).
#[tokio::test]
async fn sigterm_ends_open_notification_streams() {
    let (_tmp, _, mut server) =
        fresh_server(&[("KUDAKYAR_ADMIN_PASSWORD", "for the stream")]).await;
    let client = reqwest::Client::new();
    let session: Value = login(&client, &server.base, "admin", "for the stream")
        .await
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap();
    let url = format!("{}/api/v1/notifications/stream", server.base);
    let mut stream = get_as(&client, token, url).await;
    assert_eq!(stream.status(), 200);
    let status = server.terminate();
    assert!(status.success(), "{status}\n{}", server.stderr());
    // The stream ended (cleanly or cut), rather than waiting for more.
    assert!(matches!(stream.chunk().await, Ok(None) | Err(_)));
}
