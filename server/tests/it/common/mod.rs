//! Test harness shared by the server's integration tests.
//!
//! [`TestDb`] gives each test a fresh database: a temporary SQLite file, or a
//! new PostgreSQL database created on the server named by
//! `KUDAKYAR_TEST_POSTGRES_URL` and dropped afterwards. [`on_both_backends!`]
//! turns one async test function into a SQLite test and a PostgreSQL test.
//! [`TestApp`] runs the real router on a random local port. [`s3`] starts a
//! real S3-compatible server for the tests that keep media there.

pub mod s3;
pub mod scene;

use std::net::SocketAddr;

use kudakyar::app::AppState;
use kudakyar::config::Config;
use kudakyar::db::Db;
use kudakyar::db::scratch::{self, ScratchDatabase};
use serde_json::{Value, json};

/// A multipart form part: field name, file name (empty for a text field), bytes.
pub type Part<'a> = (&'a str, &'a str, &'a [u8]);

/// Runs each listed `async fn name(db: TestDb)` on SQLite and on PostgreSQL.
// `crate` on purpose: the macro is used only inside this test binary.
#[allow(clippy::crate_in_macro_def)]
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
    postgres: Option<ScratchDatabase>,
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
        let admin_url = scratch::test_postgres_url("this test")?;
        let scratch = ScratchDatabase::create(&admin_url, "kudakyar_test")
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let db = Db::connect(&scratch.url()).await.unwrap();
        db.migrate().await.unwrap();
        Some(TestDb {
            db,
            dir: tempfile::tempdir().unwrap(),
            postgres: Some(scratch),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(scratch) = self.postgres.take() else {
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
                if let Err(e) = scratch.drop().await {
                    eprintln!("could not drop a test database: {e:#}");
                }
            })
        })
        .join();
    }
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
        tokio::spawn(async move {
            kudakyar::app::serve(served, listener, std::future::pending()).await
        });
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

    /// A request to this app as the holder of `token`, sent; the answer
    /// whatever its status.
    async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        request.send().await.unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, token, path, None).await
    }

    /// A GET without credentials.
    pub async fn get_anonymous(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A GET's body as JSON, whatever its status (see [`json_of`] to check it).
    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        self.get(token, path).await.json().await.unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.send(reqwest::Method::PATCH, token, path, Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::DELETE, token, path, None).await
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

    /// A new user of `role` in `province` ([`TestApp::add_user`]), logged in:
    /// (id, token).
    pub async fn user_with_token(
        &self,
        username: &str,
        role: &str,
        province: &str,
    ) -> (String, String) {
        let (id, password) = self.add_user(username, role, Some(province), None).await;
        (id, self.login(username, &password).await)
    }

    /// [`TestApp::user_with_token`], the token only.
    pub async fn token_for(&self, username: &str, role: &str, province: &str) -> String {
        self.user_with_token(username, role, province).await.1
    }
}

/// A new outreach worker of `province`, logged in: their token.
pub async fn worker(app: &TestApp, name: &str, province: &str) -> String {
    app.token_for(name, "outreach_worker", province).await
}

/// A response's JSON body (`null` when it has none), after checking its status.
pub async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let got = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body:#}");
    body
}

/// The text under `key` of each element of a JSON array, in order.
pub fn texts<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].as_str().unwrap())
        .collect()
}

/// The audit entries in a JSON array whose action is `action`, in order.
pub fn with_action<'a>(entries: &'a Value, action: &str) -> Vec<&'a Value> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .collect()
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

/// An upload whose body the client never finishes: the request line, headers
/// announcing `announced` bytes of multipart form, and only the start of a
/// file part in `field`. What a slow or stalled phone looks like to the server.
pub struct UnfinishedUpload {
    stream: tokio::net::TcpStream,
}

impl UnfinishedUpload {
    pub async fn start(app: &TestApp, token: &str, path: &str, field: &str) -> UnfinishedUpload {
        use tokio::io::AsyncWriteExt;
        let announced = 8 * 1024 * 1024;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary=unfinished\r\n\
             Content-Length: {announced}\r\nAccept-Encoding: gzip, br\r\n\r\n\
             --unfinished\r\nContent-Disposition: form-data; name=\"{field}\"; \
             filename=\"image.png\"\r\nContent-Type: image/png\r\n\r\n",
            app.addr
        );
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&[0x89; 4096]).await.unwrap();
        stream.flush().await.unwrap();
        UnfinishedUpload { stream }
    }

    /// The status of the answer, read while the body is still unfinished.
    pub async fn status(&mut self) -> u16 {
        use tokio::io::AsyncReadExt;
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.windows(2).any(|w| w == b"\r\n") {
            let n = self.stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the server closed without answering");
            seen.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&seen);
        line.split(' ').nth(1).unwrap().parse().unwrap()
    }
}

/// How many audit entries of `action` name the child `child_id`.
pub async fn audit_entries(app: &TestApp, action: &str, child_id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log
         WHERE action = $1 AND resource_type = 'child' AND resource_id = $2",
    )
    .bind(action)
    .bind(child_id)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
}
