//! Test harness shared by the server's integration tests.
//!
//! [`TestDb`] gives each test a fresh database: a temporary SQLite file, or a
//! new PostgreSQL database created on the server named by
//! `KUDAKYAR_TEST_POSTGRES_URL` and dropped afterwards. [`on_both_backends!`]
//! turns one async test function into a SQLite test and a PostgreSQL test.
//! [`TestApp`] runs the real router on a random local port. [`s3`] starts a
//! real S3-compatible server for the tests that keep media there.

pub mod s3;

use std::net::SocketAddr;

use kudakyar::app::AppState;
use kudakyar::config::Config;
use kudakyar::db::Db;
use serde_json::{Value, json};

/// A multipart form part: field name, file name (empty for a text field), bytes.
pub type Part<'a> = (&'a str, &'a str, &'a [u8]);

pub const POSTGRES_URL_VAR: &str = "KUDAKYAR_TEST_POSTGRES_URL";

/// Runs each listed `async fn name(db: TestDb)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestDb::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::common::TestDb::postgres().await {
                        super::$name(db).await
                    }
                }
            )*
        }
    };
}

/// A fresh, migrated database that cleans up after itself.
pub struct TestDb {
    pub db: Db,
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(None, dir.path()).await.unwrap();
        db.migrate().await.unwrap();
        TestDb {
            db,
            dir,
            postgres: None,
        }
    }

    /// A new database on the test PostgreSQL server; `None` (with a loud line)
    /// when none is configured. In CI a missing or unreachable server fails.
    pub async fn postgres() -> Option<TestDb> {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            assert!(!in_ci, "{POSTGRES_URL_VAR} must be set in CI");
            eprintln!("SKIPPED on PostgreSQL: set {POSTGRES_URL_VAR} to run this test there too");
            return None;
        };
        let name = format!("kudakyar_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {POSTGRES_URL_VAR} unreachable: {e:#}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin.pool())
            .await
            .unwrap();
        admin.close().await;
        let db = Db::connect(&with_database(&admin_url, &name))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        Some(TestDb {
            db,
            dir: tempfile::tempdir().unwrap(),
            postgres: Some((admin_url, name)),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime; a fresh thread with its own
        // runtime may block on the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(admin) = Db::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(admin.pool())
                        .await;
                    admin.close().await;
                }
            })
        })
        .join();
    }
}

/// `postgres://u@h:5432/test?x=y` with the database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_and_path = &base[scheme_end..];
    let host = host_and_path.split('/').next().unwrap_or(host_and_path);
    let mut out = format!("{}{}/{}", &base[..scheme_end], host, name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The application on a random local port, with a client and helpers.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    _db: TestDb,
}

pub const ADMIN_PASSWORD: &str = "admin password for tests";

impl TestApp {
    pub async fn start(db: TestDb) -> TestApp {
        Self::start_with(db, |_| {}).await
    }

    pub async fn start_with(db: TestDb, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config {
            data_dir: db.dir.path().to_path_buf(),
            ..Config::default()
        };
        configure(&mut config);
        let state = AppState::with_db(config, db.db.clone()).await.unwrap();
        kudakyar::users::bootstrap_admin(&state.db, db.dir.path(), Some(ADMIN_PASSWORD))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = state.clone();
        tokio::spawn(async move { kudakyar::app::serve(served, listener).await });
        TestApp {
            addr,
            client: reqwest::Client::new(),
            state,
            _db: db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn login_response(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns the bearer token; panics unless the login succeeds.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self.login_response(username, password).await;
        assert_eq!(response.status(), 200, "login of {username}");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a multipart form to this app (see [`post_form_at`]).
    pub async fn post_form(
        &self,
        token: &str,
        path: &str,
        parts: &[Part<'_>],
    ) -> reqwest::Response {
        post_form_at(&self.client, &self.url(path), token, parts).await
    }

    /// Creates a user through the API as the admin; returns (id, password).
    pub async fn add_user(
        &self,
        username: &str,
        role: &str,
        province: Option<&str>,
        county: Option<&str>,
    ) -> (String, String) {
        let password = format!("{username} secret password");
        let admin = self.admin_token().await;
        let response = self
            .post(
                &admin,
                "/api/v1/users",
                &json!({
                    "username": username, "password": password, "role": role,
                    "province": province, "county": county,
                }),
            )
            .await;
        assert_eq!(response.status(), 201, "creating {username}");
        let body: Value = response.json().await.unwrap();
        (body["id"].as_str().unwrap().to_string(), password)
    }
}

/// Posts a multipart form to any URL. A file part always declares
/// `image/jpeg`: the server must go by the content, not by what the client claims.
pub async fn post_form_at(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    parts: &[Part<'_>],
) -> reqwest::Response {
    if parts.is_empty() {
        // reqwest sends an empty body for a form without parts; a browser's
        // empty FormData sends the closing delimiter, which is what the
        // "no capture" tests mean.
        return client
            .post(url)
            .bearer_auth(token)
            .header("content-type", "multipart/form-data; boundary=empty")
            .body("--empty--\r\n")
            .send()
            .await
            .unwrap();
    }
    let mut form = reqwest::multipart::Form::new();
    for (name, file, bytes) in parts {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec());
        let part = if file.is_empty() {
            part
        } else {
            part.file_name(file.to_string())
                .mime_str("image/jpeg")
                .unwrap()
        };
        form = form.part(name.to_string(), part);
    }
    client
        .post(url)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Reads a problem+json answer, checking its content type and status.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["request_id"].is_string(),
        "problem carries the request id: {body}"
    );
    body
}
