//! Web Push (RFC 8030) to any push service — a browser vendor's or a
//! self-hosted UnifiedPush/ntfy server — with the message encrypted for the
//! browser (RFC 8291 `aes128gcm`) and the server identified by VAPID (RFC
//! 8292), both by the pure-Rust `web-push-native`.
//!
//! - [`validate`]: a subscription as the browser's `PushSubscription`
//!   gives it — an https endpoint (or a local http one when
//!   `push_allow_local_http` says so), a P-256 public key and a 16-byte
//!   auth secret in base64url — each bad field named.
//! - [`subscribe`]: the table `push_subscriptions`, keyed by endpoint;
//!   removal and the fan-out's reads are [`super::Devices`]'.
//! - [`Vapid`]: the server's key pair, made at first start in
//!   `<data_dir>/vapid.key` (0600) unless `vapid_private_key` configures one
//!   (instances behind one load balancer must share it: a subscription is
//!   bound to the key it was made with).
//! - [`WebPush`]: the [`Transport`] the delivery worker sends with. The
//!   message is a [`PushPayload`] — kind, subject id and notification id,
//!   never a name, photo or place. A 404 or 410 from the push service means
//!   the subscription is gone: it is deleted and the delivery given up.

use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use futures::future::BoxFuture;
use kudakyar_api::notifications::{PushPayload, PushSubscription, PushSubscriptionInput};
use sha2::{Digest, Sha256};
use sqlx::Row;
use web_push_native::jwt_simple::prelude::{
    Claims, ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
};
use web_push_native::{Auth, WebPushBuilder};

use super::outbox::Claimed;
use super::worker::{Outcome, Transport};
use crate::config::Config;
use crate::db::Db;
use crate::error::{Result, Validator};

/// The longest endpoint accepted (browsers' are a few hundred characters).
pub const MAX_ENDPOINT_LEN: usize = 1024;
/// base64url of 65 bytes is 87 characters (88 padded).
const MAX_KEY_LEN: usize = 100;

/// How long a push service keeps a message for an offline device.
const TTL: Duration = Duration::from_secs(24 * 3600);

/// Decodes base64url with or without padding.
fn base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

/// A subscription that passed [`validate`].
#[derive(Debug, Clone)]
pub struct Valid {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// Is `endpoint` a push service URL this server may post to?
fn endpoint_error(endpoint: &str, allow_local_http: bool) -> Option<&'static str> {
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Some("is longer than 1024 characters");
    }
    let Ok(uri) = endpoint.parse::<http::Uri>() else {
        return Some("is not a URL");
    };
    let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
        return Some("is not a URL with a host");
    };
    match uri.scheme_str() {
        Some("https") => None,
        Some("http") if allow_local_http && matches!(host, "127.0.0.1" | "localhost" | "[::1]") => {
            None
        }
        _ => Some("must be an https URL"),
    }
}

/// Checks a subscription; every bad field is named.
pub fn validate(input: &PushSubscriptionInput, allow_local_http: bool) -> Result<Valid> {
    let mut v = Validator::new();
    if let Some(message) = endpoint_error(input.endpoint.trim(), allow_local_http) {
        v.add("endpoint", message);
    }
    let p256dh = input.keys.p256dh.trim();
    let key_ok = p256dh.len() <= MAX_KEY_LEN
        && base64url(p256dh).is_some_and(|bytes| {
            bytes.len() == 65 && web_push_native::p256::PublicKey::from_sec1_bytes(&bytes).is_ok()
        });
    v.check(
        key_ok,
        "keys.p256dh",
        "must be an uncompressed P-256 public key (65 bytes) in base64url",
    );
    let auth = input.keys.auth.trim();
    let auth_ok = auth.len() <= MAX_KEY_LEN && base64url(auth).is_some_and(|b| b.len() == 16);
    v.check(
        auth_ok,
        "keys.auth",
        "must be a 16-byte authentication secret in base64url",
    );
    v.finish()?;
    Ok(Valid {
        endpoint: input.endpoint.trim().to_string(),
        p256dh: p256dh.trim_end_matches('=').to_string(),
        auth: auth.trim_end_matches('=').to_string(),
    })
}

/// Stores `user_id`'s subscription; (it, true when new). The endpoint is
/// the key: a browser subscribing again updates its keys, and a device
/// that changed hands (another user logged in) moves to its new user — an
/// endpoint is a secret of the browser that made it.
pub async fn subscribe(db: &Db, user_id: &str, s: &Valid) -> Result<(PushSubscription, bool)> {
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    let inserted: Option<(String, i64)> = sqlx::query_as(
        "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (endpoint) DO NOTHING
         RETURNING id, created_at",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(user_id)
    .bind(&s.endpoint)
    .bind(&s.p256dh)
    .bind(&s.auth)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let ((id, created_at), new) = match inserted {
        Some(row) => (row, true),
        None => (
            sqlx::query_as(
                "UPDATE push_subscriptions SET user_id = $1, p256dh = $2, auth = $3
                 WHERE endpoint = $4 RETURNING id, created_at",
            )
            .bind(user_id)
            .bind(&s.p256dh)
            .bind(&s.auth)
            .bind(&s.endpoint)
            .fetch_one(&mut *tx)
            .await?,
            false,
        ),
    };
    tx.commit().await?;
    Ok((
        PushSubscription {
            id,
            endpoint: s.endpoint.clone(),
            created_at: crate::ms_to_rfc3339(created_at),
        },
        new,
    ))
}

/// The server's VAPID key pair (shared: the key pair is not `Clone`).
#[derive(Clone)]
pub struct Vapid {
    key: std::sync::Arc<ES256KeyPair>,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

pub fn key_path(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("vapid.key")
}

impl Vapid {
    /// The configured key, else the one in the data dir, made there (0600)
    /// on first start.
    pub fn load(config: &Config) -> anyhow::Result<Vapid> {
        let text = match &config.vapid_private_key {
            Some(text) => text.clone(),
            None => {
                let path = key_path(config);
                if path.exists() {
                    crate::private_fs::restrict(&path)?;
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?
                } else {
                    let key = ES256KeyPair::generate();
                    let text = URL_SAFE_NO_PAD.encode(key.to_bytes());
                    crate::biometrics::keys::write_secret(&path, &text)?;
                    tracing::info!(path = %path.display(), "made a VAPID key for Web Push");
                    text
                }
            }
        };
        let bytes =
            base64url(text.trim()).context("the VAPID private key is not base64url (32 bytes)")?;
        let key = ES256KeyPair::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("the VAPID private key is not a P-256 key: {e}"))?;
        Ok(Vapid {
            key: std::sync::Arc::new(key),
        })
    }

    /// The public key browsers subscribe with (`applicationServerKey`),
    /// base64url of the uncompressed point.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.public_key().public_key().to_bytes_uncompressed())
    }

    /// The `Authorization` header for a push to `endpoint` (RFC 8292): a
    /// JWT whose audience is the endpoint's origin — with its port, which a
    /// push service on a non-default port compares too.
    fn authorization(&self, endpoint: &http::Uri, contact: &str) -> anyhow::Result<String> {
        let scheme = endpoint
            .scheme_str()
            .context("the endpoint has no scheme")?;
        let authority = endpoint.authority().context("the endpoint has no host")?;
        let claims = Claims::create(Duration::from_secs(12 * 3600).into())
            .with_audience(format!("{scheme}://{authority}"))
            .with_subject(contact);
        let token = self
            .key
            .sign(claims)
            .map_err(|e| anyhow::anyhow!("signing the VAPID token: {e}"))?;
        Ok(format!("vapid t={token}, k={}", self.public_key()))
    }
}

/// What a push of `d` says: its kind, subject and notification id, which
/// the app opens — never a name or photo, and its subject's place only
/// when the deployer opted in (`places`, from `push_places`). FCM sends the
/// same.
pub async fn payload(db: &Db, places: bool, d: &Claimed) -> sqlx::Result<PushPayload> {
    let place = if places {
        place_of(db, &d.subject_type, &d.subject_id).await?
    } else {
        None
    };
    Ok(PushPayload {
        place,
        notification_id: d.notification_id,
        kind: if d.digest_count.is_some() {
            "digest".into()
        } else {
            d.kind.clone()
        },
        digest_count: d.digest_count,
        critical: d.critical,
        subject_type: d.subject_type.clone(),
        subject_id: d.subject_id.clone(),
    })
}

/// The county (else province) code of a notification's subject, for the
/// subjects that have a place: a report, an incident, a child (their home).
async fn place_of(db: &Db, subject_type: &str, subject_id: &str) -> sqlx::Result<Option<String>> {
    let sql = match subject_type {
        "sighting" => "SELECT COALESCE(county, province) FROM sightings WHERE id = $1",
        "incident" => "SELECT COALESCE(county, province) FROM incidents WHERE id = $1",
        "child" => "SELECT COALESCE(home_county, home_province) FROM children WHERE id = $1",
        _ => return Ok(None),
    };
    let place: Option<Option<String>> = sqlx::query_scalar(sql)
        .bind(subject_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(place.flatten())
}

/// The HTTP client a push transport (Web Push, FCM) sends with: the push
/// timeout, and no redirects — a push service answers; it never sends the
/// server elsewhere.
pub fn client(config: &Config, transport: &str) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(config.push_timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .with_context(|| format!("the HTTP client for {transport}"))
}

/// Sends deliveries of the `web_push` channel.
pub struct WebPush {
    db: Db,
    vapid: Vapid,
    contact: String,
    client: reqwest::Client,
    /// `push_places`.
    places: bool,
}

impl WebPush {
    pub fn new(db: Db, vapid: Vapid, config: &Config) -> anyhow::Result<WebPush> {
        let client = client(config, "Web Push")?;
        Ok(WebPush {
            db,
            vapid,
            contact: config.push_contact.clone(),
            client,
            places: config.push_places,
        })
    }

    async fn try_deliver(&self, d: &Claimed) -> anyhow::Result<Outcome> {
        let row =
            sqlx::query("SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE id = $1")
                .bind(&d.target)
                .fetch_optional(self.db.pool())
                .await?;
        let Some(row) = row else {
            return Ok(Outcome::Give {
                error: "the push subscription was removed".into(),
            });
        };
        let endpoint: String = row.try_get("endpoint")?;
        let p256dh: String = row.try_get("p256dh")?;
        let auth: String = row.try_get("auth")?;
        let uri: http::Uri = endpoint.parse().context("the stored endpoint")?;
        let public = base64url(&p256dh)
            .and_then(|b| web_push_native::p256::PublicKey::from_sec1_bytes(&b).ok())
            .context("the stored p256dh key")?;
        let auth = base64url(&auth)
            .filter(|b| b.len() == 16)
            .context("the stored auth secret")?;
        let payload = serde_json::to_vec(&payload(&self.db, self.places, d).await?)?;
        let request = WebPushBuilder::new(uri.clone(), public, Auth::clone_from_slice(&auth))
            .with_valid_duration(TTL)
            .build(payload)
            .map_err(|e| anyhow::anyhow!("encrypting the push message: {e}"))?;
        let (parts, body) = request.into_parts();
        let mut send = self.client.post(endpoint.as_str()).body(body);
        for (name, value) in &parts.headers {
            // reqwest sets the length of the body itself.
            if name != http::header::CONTENT_LENGTH {
                send = send.header(name, value);
            }
        }
        let response = send
            .header(
                http::header::AUTHORIZATION,
                self.vapid.authorization(&uri, &self.contact)?,
            )
            // A newer message with the same topic replaces one the push
            // service still holds: a resend after a lapsed lease is not
            // shown twice.
            .header("Topic", topic(&d.idempotency_key))
            .header("Urgency", if d.critical { "high" } else { "normal" })
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(Outcome::Sent);
        }
        let retry_after_ms = super::worker::retry_after_ms(response.headers());
        let text = super::worker::answer_excerpt(response).await;
        let error = format!("the push service answered {status}: {text}");
        Ok(match status.as_u16() {
            404 | 410 => {
                sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
                    .bind(&d.target)
                    .execute(self.db.pool())
                    .await?;
                tracing::info!(subscription = %d.target, %status, "push subscription gone; removed");
                Outcome::Give { error }
            }
            408 | 425 | 429 | 500..=599 => Outcome::Retry {
                error,
                after_ms: retry_after_ms,
            },
            // 400, 401, 403 (a VAPID key the subscription was not made
            // with), 413: sending it again would be refused again.
            _ => Outcome::Give { error },
        })
    }
}

/// A push `Topic` (at most 32 base64url characters) from an idempotency
/// key: the delivery's idempotency key as the push service sees it (RFC
/// 8030 §5.4: a message with the topic of one still held replaces it), a
/// digest so that it says nothing of the notification or the subscription.
pub fn topic(idempotency_key: &str) -> String {
    let digest = Sha256::digest(idempotency_key.as_bytes());
    let mut text = URL_SAFE_NO_PAD.encode(digest);
    text.truncate(32);
    text
}

impl Transport for WebPush {
    fn send<'a>(&'a self, delivery: &'a Claimed) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { super::worker::or_retry(self.try_deliver(delivery).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use kudakyar_api::notifications::PushKeys;

    fn input(endpoint: &str, p256dh: &str, auth: &str) -> PushSubscriptionInput {
        PushSubscriptionInput {
            endpoint: endpoint.into(),
            keys: PushKeys {
                p256dh: p256dh.into(),
                auth: auth.into(),
            },
            expiration_time: None,
        }
    }

    /// A real browser key: the point of a freshly made P-256 key.
    fn browser_key() -> String {
        URL_SAFE_NO_PAD.encode(
            ES256KeyPair::generate()
                .public_key()
                .public_key()
                .to_bytes_uncompressed(),
        )
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Validation(f) => f.into_keys().collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn endpoints_must_be_https_unless_local_http_is_allowed() {
        assert_eq!(endpoint_error("https://push.example/abc", false), None);
        assert!(endpoint_error("http://push.example/abc", false).is_some());
        assert!(endpoint_error("http://127.0.0.1:9000/abc", false).is_some());
        assert_eq!(endpoint_error("http://127.0.0.1:9000/abc", true), None);
        assert_eq!(endpoint_error("http://localhost:9000/abc", true), None);
        // Local http only: a remote host stays https-only.
        assert!(endpoint_error("http://push.example/abc", true).is_some());
        assert!(endpoint_error("not a url", false).is_some());
        assert!(endpoint_error("ftp://push.example/abc", false).is_some());
        let long = format!("https://push.example/{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert!(endpoint_error(&long, false).is_some());
    }

    #[test]
    fn keys_must_have_their_lengths_and_be_a_curve_point() {
        let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
        let key = browser_key();
        let ok = validate(&input("https://p.example/x", &key, &auth), false).unwrap();
        assert_eq!(ok.p256dh, key);
        // Padded base64url is accepted and stored unpadded.
        let padded = URL_SAFE.encode([7u8; 16]);
        assert_eq!(
            validate(&input("https://p.example/x", &key, &padded), false)
                .unwrap()
                .auth,
            auth
        );
        // 65 bytes that are no point on the curve.
        let not_a_point = URL_SAFE_NO_PAD.encode([4u8; 65]);
        assert_eq!(
            fields(
                validate(&input("https://p.example/x", &not_a_point, &auth), false).unwrap_err()
            ),
            ["keys.p256dh"]
        );
        let short_auth = URL_SAFE_NO_PAD.encode([7u8; 15]);
        assert_eq!(
            fields(validate(&input("https://p.example/x", &key, &short_auth), false).unwrap_err()),
            ["keys.auth"]
        );
        assert_eq!(
            fields(validate(&input("http://p.example/x", "!!", "??"), false).unwrap_err()),
            ["endpoint", "keys.auth", "keys.p256dh"]
        );
    }

    #[test]
    fn the_vapid_key_is_made_once_private_and_signs_for_the_endpoints_origin() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Default::default()
        };
        let first = Vapid::load(&config).unwrap();
        let again = Vapid::load(&config).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        assert_eq!(base64url(&first.public_key()).unwrap().len(), 65);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path(&config))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let header = first
            .authorization(
                &"http://127.0.0.1:8990/push/abc".parse().unwrap(),
                "mailto:a@b",
            )
            .unwrap();
        let token = header
            .strip_prefix("vapid t=")
            .unwrap()
            .split(',')
            .next()
            .unwrap();
        let claims = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
        assert_eq!(claims["aud"], "http://127.0.0.1:8990");
        assert_eq!(claims["sub"], "mailto:a@b");
        assert!(header.ends_with(&format!("k={}", first.public_key())));

        let configured = Config {
            vapid_private_key: Some("not a key".into()),
            ..config
        };
        assert!(Vapid::load(&configured).is_err());
    }

    #[test]
    fn topics_are_short_base64url_and_stable() {
        let t = topic("n12:web_push:0190-abc");
        assert_eq!(t.len(), 32);
        assert_eq!(t, topic("n12:web_push:0190-abc"));
        assert_ne!(t, topic("n13:web_push:0190-abc"));
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
