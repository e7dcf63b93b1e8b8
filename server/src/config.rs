//! Configuration: one [`Config`] struct, filled in layers.
//!
//! 1. built-in defaults ([`Config::default`]);
//! 2. an optional TOML file (`--config FILE` or `KUDAKYAR_CONFIG`), whose keys are
//!    the field names below — unknown keys are an error, so a typo never silently
//!    falls back to a default;
//! 3. `KUDAKYAR_<FIELD>` environment variables (e.g. `KUDAKYAR_DATABASE_URL`);
//! 4. command-line flags (`--data-dir`, `--bind`, `--log-format`).
//!
//! [`Config::redacted`] is what `kudakyar config check` prints: secrets replaced.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kudakyar_api::users::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database, media and generated secrets live.
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// `postgres://…` for PostgreSQL; unset means SQLite at `<data_dir>/kudakyar.db`.
    pub database_url: Option<String>,
    /// Password for the `admin` user created on first start (else a random one).
    pub admin_password: Option<String>,
    /// The built PWA (`mobile-web/dist`); unset serves the API only.
    pub web_dir: Option<PathBuf>,
    /// The atlas map's basemap: a tile URL template
    /// (`https://tiles.example.ir/{z}/{x}/{y}.png`, or a path on this server);
    /// unset (the default) draws boundaries only, which works offline.
    pub map_tiles: Option<String>,
    /// Who to credit for the basemap's tiles, shown on the map.
    pub map_tiles_attribution: Option<String>,
    /// `pretty` (default) or `json` log lines.
    pub log_format: LogFormat,
    /// How long a login token stays valid.
    pub token_ttl_hours: u64,
    /// Largest accepted request body for JSON endpoints.
    pub body_limit_bytes: usize,
    /// A request making no progress for this long (no answer yet, and no
    /// body data arriving) is answered 408 and abandoned.
    pub request_timeout_secs: u64,
    /// Origins allowed to call the API from another site; empty means same-origin only.
    pub cors_origins: Vec<String>,
    /// Failed logins for one username from one client address within the
    /// window before that pair is throttled: the limit a guesser meets first.
    pub login_max_failures_per_user_and_ip: u32,
    /// Failed logins for one username from all addresses together within the
    /// window before the username is throttled. Much higher than the pair's
    /// limit, so that a stranger's wrong passwords cannot lock the user out.
    pub login_max_failures_per_user: u32,
    /// Failed logins from one client IP within the window before it is throttled.
    pub login_max_failures_per_ip: u32,
    /// The throttling window, in seconds.
    pub login_window_secs: u64,
    /// Password checks (argon2, ~19 MiB each) running at once; further logins
    /// wait briefly for a turn, then get 503 with `Retry-After`.
    pub login_max_concurrent_checks: usize,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// Reverse proxies in front of the server that append to `X-Forwarded-For`:
    /// the client address is the entry this many places from the right
    /// (1: the address the nearest proxy saw; 0 is taken as 1). Entries
    /// further left are written by the client and never trusted.
    pub trusted_proxy_hops: u32,
    /// Bearer token `/metrics` requires; unset serves `/metrics` to anyone who
    /// can reach the server's address.
    pub metrics_token: Option<String>,
    /// Store photos in this S3 bucket; unset keeps them under `<data_dir>/media`.
    pub s3_bucket: Option<String>,
    /// An S3-compatible endpoint (MinIO, Ceph, a test server); unset means AWS.
    pub s3_endpoint: Option<String>,
    /// The bucket's region.
    pub s3_region: Option<String>,
    /// Unset (with the secret) means the instance's own credentials.
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    /// Allow a plain-HTTP endpoint: only for local test servers.
    pub s3_allow_http: bool,
    /// The AES-256 key sealing iris templates and captures, base64 (32 bytes).
    /// Unset: a key file `<data_dir>/biometric.key` (created on first start, 0600).
    pub biometric_key: Option<String>,
    /// The key a rotation moves to (`kudakyar keys rotate`), base64; with a
    /// key file, the rotation makes `<data_dir>/biometric.key.next` itself.
    pub biometric_key_next: Option<String>,
    /// Iris distance under which two captures are taken to be the same eye
    /// (calibrated on synthetic data at a false-match rate of 1e-4).
    pub iris_threshold: f32,
    /// Raw iris captures are kept (sealed) this many days for re-encoding,
    /// then deleted; the templates stay. 0 keeps them until the record goes.
    pub iris_capture_retention_days: u32,
    /// How often each instance looks for iris templates enrolled elsewhere.
    pub iris_sync_interval_ms: u64,
    /// Uploads (photos, iris captures) taken in at once by this instance;
    /// more are answered 429 with `Retry-After`.
    pub max_concurrent_uploads: usize,
    /// The least role that may export (`supervisor`: supervisors, provincial
    /// staff and national admins), within the caller's scope.
    pub export_min_role: Role,
    /// Exports one user may run at once (429 above).
    pub export_max_per_user: usize,
    /// Exports the instance runs at once, for all users (429 above).
    pub export_max_concurrent: usize,
    /// Rows an export reads per database query (a connection is held only
    /// for the query, never while the client is being written to).
    pub export_batch_rows: u32,
    /// Citizen reports one client address or device may send per hour; more
    /// are answered 429 with `Retry-After`.
    pub sighting_max_per_hour: u32,
    /// Past this many reports in the hour, an address or device must send a
    /// proof-of-work stamp with each further report.
    pub sighting_soft_limit_per_hour: u32,
    /// Leading zero bits a proof-of-work stamp needs (each bit doubles the
    /// work: 16 is about 65,000 hashes, well under a second on a cheap phone).
    pub sighting_pow_difficulty: u32,
    /// Receipt lookups one client address may make per hour (429 above), so
    /// that receipt codes cannot be guessed by trying.
    pub receipt_lookups_per_hour: u32,
    /// Reporters' phone numbers are deleted this many days after the report.
    pub reporter_phone_retention_days: u32,
    /// Delivery workers this instance runs (0: none — it only serves HTTP,
    /// and other instances deliver). Instances share the outbox safely.
    pub notify_workers: u32,
    /// Attempts at one delivery (a crashed sender's included) before it is
    /// dead-lettered for an administrator.
    pub notify_max_attempts: u32,
    /// The first retry's delay; each further one doubles it (with jitter).
    pub notify_retry_base_ms: u64,
    /// The longest delay between two attempts.
    pub notify_retry_max_ms: u64,
    /// How long a claimed delivery is the claimer's: after that, a sender
    /// that died is taken to have died, and another one sends it.
    pub notify_lease_ms: u64,
    /// Deliveries one worker claims and sends at once.
    pub notify_batch: u32,
    /// How often an idle worker looks for due deliveries.
    pub notify_poll_ms: u64,
    /// Who runs this server, for push services (the VAPID `sub`): a
    /// `mailto:` or `https:` URL they may write to about abuse.
    pub push_contact: String,
    /// Accept push subscriptions whose endpoint is `http://127.0.0.1…` or
    /// `http://localhost…` (a local test push service); otherwise only
    /// https endpoints are accepted.
    pub push_allow_local_http: bool,
    /// How long one push request may take.
    pub push_timeout_ms: u64,
    /// Put the subject's county (or province) code in pushes (Web Push and
    /// FCM) so a phone can show where, before the app is opened. Off by
    /// default: a push crosses a third party's push service, and a place
    /// next to "a child seen working" is already personal data. A deployer
    /// whose phones use their own push service (ntfy) may opt in.
    pub push_places: bool,
    /// Run the scheduler on this instance (any number may: each period's
    /// run is claimed in the database, so it happens once).
    pub notify_scheduler: bool,
    /// When the scheduler's rules run each period, `HH:MM` Asia/Tehran time
    /// (rule 3, follow-ups due: daily; rule 4, children not seen for 30
    /// days: weekly).
    pub notify_schedule_at: String,
    /// A follow-up this many days past its date is told to the supervisors
    /// of the child's county too (rule 3).
    pub notify_follow_up_overdue_days: u32,
    /// When a supervisor's daily digest of non-critical pushes goes, `HH:MM`
    /// Asia/Tehran time.
    pub notify_digest_at: String,
    /// The SMS gateway: `off`, `http` (a generic HTTP template: `sms_url`,
    /// `sms_method`, `sms_body_template`, `sms_api_key_header`) or
    /// `kavenegar` (its REST `sms/send`). A bad setting leaves the server
    /// serving with SMS off, said in `/api/v1/ready`.
    pub sms_gateway: String,
    /// The `http` gateway's URL; for `kavenegar`, its base URL (default
    /// `https://api.kavenegar.com`).
    pub sms_url: Option<String>,
    /// The `http` gateway's method: `POST`, `PUT` or `GET`.
    pub sms_method: String,
    /// The `http` gateway's request body, with the placeholders `{{to}}`
    /// (the phone, E.164), `{{message}}` and `{{id}}` (the delivery's
    /// idempotency key), escaped for `sms_content_type`.
    pub sms_body_template: Option<String>,
    /// `application/json` (values JSON-escaped) or
    /// `application/x-www-form-urlencoded` (values percent-encoded).
    pub sms_content_type: String,
    /// The gateway's API key (for `kavenegar`, the key in its URL).
    pub sms_api_key: Option<String>,
    /// The header the `http` gateway's API key goes in.
    pub sms_api_key_header: String,
    /// The sender line (`kavenegar`'s `sender`); unset: the account's default.
    pub sms_sender: Option<String>,
    /// A critical notification still unread this long after it was made
    /// goes to its recipient's phone by SMS, once.
    pub sms_escalate_after_mins: u64,
    /// A Firebase service account's JSON key file (Firebase console,
    /// project settings, service accounts): turns on delivery by FCM HTTP
    /// v1 to the registration tokens of an Android app. Unset: FCM is off.
    /// An unreadable or malformed file leaves the server serving with FCM
    /// off, said in `/api/v1/ready`.
    pub fcm_service_account: Option<PathBuf>,
    /// FCM's API base URL (`{base}/v1/projects/{project_id}/messages:send`);
    /// the OAuth token URL is the service account's own `token_uri`.
    pub fcm_api_url: String,
    /// The VAPID private key (base64url, 32 bytes). Unset: a key file
    /// `<data_dir>/vapid.key` (made on first start, 0600). Instances that
    /// share a database must share this key: a browser's subscription is
    /// bound to the key the server had when it subscribed.
    pub vapid_private_key: Option<String>,
    /// An encounter is location-verified only with a GPS fix at least this
    /// precise (metres).
    pub verify_accuracy_m: f64,
    /// How far the device's time may be from the server's receipt (or from
    /// the offline queue's timestamp) for a location-verified encounter.
    pub verify_clock_tolerance_secs: u64,
    /// An iris identification older than this cannot verify an encounter.
    pub verify_iris_window_mins: u64,
    /// Run the nightly indicators job in `kudakyar serve` (each instance
    /// tries; a run per day is recorded once, whoever makes it).
    pub indicators_job: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./kudakyar-data"),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            admin_password: None,
            web_dir: None,
            map_tiles: None,
            map_tiles_attribution: None,
            log_format: LogFormat::Pretty,
            token_ttl_hours: 24 * 7,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            cors_origins: Vec::new(),
            login_max_failures_per_user_and_ip: 5,
            login_max_failures_per_user: 100,
            login_max_failures_per_ip: 30,
            login_window_secs: 15 * 60,
            login_max_concurrent_checks: 8,
            trust_forwarded_for: false,
            trusted_proxy_hops: 1,
            metrics_token: None,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            biometric_key: None,
            biometric_key_next: None,
            iris_threshold: iris::MatchParams::default().threshold,
            iris_capture_retention_days: 730,
            iris_sync_interval_ms: 1000,
            max_concurrent_uploads: 16,
            export_min_role: Role::Supervisor,
            export_max_per_user: 2,
            export_max_concurrent: 8,
            export_batch_rows: 500,
            sighting_max_per_hour: 10,
            sighting_soft_limit_per_hour: 5,
            sighting_pow_difficulty: 16,
            receipt_lookups_per_hour: 30,
            reporter_phone_retention_days: 90,
            notify_workers: 1,
            notify_max_attempts: 8,
            notify_retry_base_ms: 30_000,
            notify_retry_max_ms: 6 * 3600 * 1000,
            notify_lease_ms: 60_000,
            notify_batch: 50,
            notify_poll_ms: 1000,
            push_contact: "mailto:admin@localhost".into(),
            push_allow_local_http: false,
            push_timeout_ms: 10_000,
            push_places: false,
            vapid_private_key: None,
            notify_scheduler: true,
            notify_schedule_at: "08:00".into(),
            notify_follow_up_overdue_days: 3,
            notify_digest_at: "18:00".into(),
            sms_gateway: "off".into(),
            sms_url: None,
            sms_method: "POST".into(),
            sms_body_template: None,
            sms_content_type: "application/json".into(),
            sms_api_key: None,
            sms_api_key_header: "X-API-Key".into(),
            sms_sender: None,
            sms_escalate_after_mins: 30,
            fcm_service_account: None,
            fcm_api_url: "https://fcm.googleapis.com".into(),
            verify_accuracy_m: 50.0,
            verify_clock_tolerance_secs: 600,
            verify_iris_window_mins: 30,
            indicators_job: true,
        }
    }
}

/// Command-line values that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub bind: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
}

impl Config {
    /// Loads the layered configuration from a file (optional), the process
    /// environment and command-line overrides.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env, overrides)
    }

    /// [`Config::load`] with the environment passed in, so tests need not mutate
    /// the process environment.
    pub fn load_from(
        file: Option<&Path>,
        env: &[(String, String)],
        overrides: &Overrides,
    ) -> anyhow::Result<Config> {
        let mut table = toml::Table::new();
        let file = file.map(Path::to_path_buf).or_else(|| {
            env.iter()
                .find(|(k, _)| k == "KUDAKYAR_CONFIG")
                .map(|(_, v)| PathBuf::from(v))
        });
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            table = text
                .parse()
                .with_context(|| format!("parsing config file {}", path.display()))?;
        }
        let known = known_keys();
        for (key, value) in env {
            let Some(name) = key.strip_prefix("KUDAKYAR_") else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            if known.contains(&name) {
                table.insert(name.clone(), env_value(&name, value));
            }
        }
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .context("invalid configuration")?;
        if let Some(d) = &overrides.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(b) = overrides.bind {
            config.bind = b;
        }
        if let Some(f) = overrides.log_format {
            config.log_format = f;
        }
        crate::http::basemap::check(&config).context("invalid configuration")?;
        Ok(config)
    }

    /// The configuration as `config check` prints it: secrets never leave the process.
    pub fn redacted(&self) -> Config {
        let mut c = self.clone();
        c.database_url = c.database_url.as_deref().map(redact_url);
        for secret in [
            &mut c.admin_password,
            &mut c.s3_secret_access_key,
            &mut c.biometric_key,
            &mut c.biometric_key_next,
            &mut c.metrics_token,
            &mut c.vapid_private_key,
            &mut c.sms_api_key,
        ] {
            if secret.is_some() {
                *secret = Some("<redacted>".into());
            }
        }
        c
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("kudakyar.db")
    }

    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}

/// Options that default to unset, so do not serialise.
const OPTIONAL_KEYS: [&str; 19] = [
    "vapid_private_key",
    "fcm_service_account",
    "sms_url",
    "sms_body_template",
    "sms_api_key",
    "sms_sender",
    "database_url",
    "admin_password",
    "web_dir",
    "map_tiles",
    "map_tiles_attribution",
    "s3_bucket",
    "s3_endpoint",
    "s3_region",
    "s3_access_key_id",
    "s3_secret_access_key",
    "biometric_key",
    "biometric_key_next",
    "metrics_token",
];

fn known_keys() -> Vec<String> {
    match toml::Value::try_from(Config::default()) {
        Ok(toml::Value::Table(t)) => {
            let mut keys: Vec<String> = t.keys().cloned().collect();
            keys.extend(OPTIONAL_KEYS.map(String::from));
            keys
        }
        _ => Vec::new(),
    }
}

/// Environment values are strings; numbers and booleans are recognised so that
/// `KUDAKYAR_TOKEN_TTL_HOURS=12` works, and lists are comma-separated.
fn env_value(name: &str, raw: &str) -> toml::Value {
    if name == "cors_origins" {
        return toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        );
    }
    // Text options stay text even when they look like numbers (an all-digit
    // access key or password would otherwise fail to load).
    if OPTIONAL_KEYS.contains(&name) {
        return toml::Value::String(raw.to_string());
    }
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = raw.parse::<f64>() {
        return toml::Value::Float(f);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<redacted>".into();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "token_ttl_hours = 3\nbind = \"127.0.0.1:9000\"\n").unwrap();
        let c = Config::load_from(
            Some(&file),
            &env(&[
                ("KUDAKYAR_TOKEN_TTL_HOURS", "5"),
                ("KUDAKYAR_CORS_ORIGINS", "https://a, https://b"),
            ]),
            &Overrides {
                bind: Some("127.0.0.1:9100".parse().unwrap()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.token_ttl_hours, 5, "environment beats file");
        assert_eq!(c.bind.port(), 9100, "flag beats file");
        assert_eq!(c.cors_origins, vec!["https://a", "https://b"]);
    }

    #[test]
    fn s3_settings_come_from_the_environment_as_text() {
        let c = Config::load_from(
            None,
            &env(&[
                ("KUDAKYAR_S3_BUCKET", "photos"),
                ("KUDAKYAR_S3_ACCESS_KEY_ID", "12345"),
                ("KUDAKYAR_S3_ALLOW_HTTP", "true"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.s3_bucket.as_deref(), Some("photos"));
        assert_eq!(c.s3_access_key_id.as_deref(), Some("12345"));
        assert!(c.s3_allow_http);
    }

    #[test]
    fn fcm_is_off_unless_a_service_account_file_is_named() {
        let c = Config::load_from(None, &[], &Overrides::default()).unwrap();
        assert_eq!(c.fcm_service_account, None);
        assert_eq!(c.fcm_api_url, "https://fcm.googleapis.com");
        let c = Config::load_from(
            None,
            &env(&[("KUDAKYAR_FCM_SERVICE_ACCOUNT", "/etc/kudakyar/fcm.json")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            c.fcm_service_account.as_deref(),
            Some(Path::new("/etc/kudakyar/fcm.json"))
        );
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "tokn_ttl_hours = 3\n").unwrap();
        let err = Config::load_from(Some(&file), &[], &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("tokn_ttl_hours"), "{err:#}");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = Config {
            database_url: Some("postgres://kud:hunter2@db/kud".into()),
            admin_password: Some("hunter2".into()),
            s3_secret_access_key: Some("hunter2".into()),
            biometric_key: Some("hunter2".into()),
            metrics_token: Some("hunter2".into()),
            ..Default::default()
        };
        let shown = toml::to_string(&c.redacted()).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://kud:***@db/kud"));
    }
}
