//! A real S3-compatible server for the tests: `moto_server` (PyPI `moto`),
//! installed by `cargo xtask test` and named in `KUDAKYAR_TEST_MOTO`.
//!
//! [`S3Server::start`] runs it on a free local port, waits until it answers
//! and creates a bucket; dropping the value stops the server. Without the
//! variable the S3 tests are skipped with a loud line — except in CI
//! (`CI=true`), where that is a failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kudakyar::config::Config;
use kudakyar::media::Media;

pub const MOTO_VAR: &str = "KUDAKYAR_TEST_MOTO";
const BUCKET: &str = "kudakyar-test";

pub struct S3Server {
    process: Child,
    pub endpoint: String,
    pub bucket: String,
    client: reqwest::Client,
}

impl S3Server {
    /// A started server with an empty bucket, or `None` when not configured.
    pub async fn start() -> Option<S3Server> {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let Ok(moto) = std::env::var(MOTO_VAR) else {
            assert!(!in_ci, "{MOTO_VAR} must be set in CI");
            eprintln!(
                "SKIPPED on S3: set {MOTO_VAR} to a moto_server executable \
                 (`cargo xtask test` installs one into .venv)"
            );
            return None;
        };
        // Reserve a port, free it, and hand it to moto (a race with another
        // process taking it is possible but unlikely; start would then time out).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let process = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {moto} ({MOTO_VAR}): {e}"));
        let server = S3Server {
            process,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: BUCKET.into(),
            client: reqwest::Client::new(),
        };
        server.wait_until_ready().await;
        // moto accepts unsigned requests, so plain HTTP makes the bucket.
        let created = server
            .client
            .put(format!("{}/{}", server.endpoint, server.bucket))
            .send()
            .await
            .unwrap();
        assert!(
            created.status().is_success(),
            "creating the bucket: {created:?}"
        );
        Some(server)
    }

    async fn wait_until_ready(&self) {
        let started = Instant::now();
        while self.client.get(&self.endpoint).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not answer at {} within a minute",
                self.endpoint
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Points an application's media at this server's bucket.
    pub fn configure(&self, config: &mut Config) {
        config.s3_bucket = Some(self.bucket.clone());
        config.s3_endpoint = Some(self.endpoint.clone());
        config.s3_region = Some("us-east-1".into());
        config.s3_access_key_id = Some("testing".into());
        config.s3_secret_access_key = Some("testing".into());
        config.s3_allow_http = true;
    }

    /// An object's bytes, read from the bucket by a client of its own.
    pub async fn object(&self, key: &str) -> Option<Vec<u8>> {
        let mut config = Config::default();
        self.configure(&mut config);
        let bucket = Media::s3(&self.bucket, &config).unwrap();
        bucket.get(key).await.unwrap().map(|b| b.to_vec())
    }

    /// The status of an unsigned GET of an object: what a public URL would give.
    pub async fn anonymous_status(&self, key: &str) -> u16 {
        let url = format!("{}/{}/{key}", self.endpoint, self.bucket);
        self.client.get(url).send().await.unwrap().status().as_u16()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
