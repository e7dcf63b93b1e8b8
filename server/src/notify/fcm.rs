//! Firebase Cloud Messaging through its HTTP v1 API, to the registration
//! tokens of an Android app (a wrapper of the PWA). Off by default: FCM is
//! Google's, and may be unreachable where the server runs.
//!
//! - [`Account::from_config`] reads the service account key file
//!   (`fcm_service_account`) once at start-up. An unreadable or malformed
//!   file is an error the server logs and shows in `/api/v1/ready`
//!   ([`Status`]) while it serves with FCM off.
//! - [`validate`] / [`register`]: the table `fcm_tokens`, keyed by token (a
//!   device handed to another user moves to them), as the push
//!   subscriptions are keyed by endpoint; removal and the fan-out's reads
//!   are [`super::Devices`]'.
//! - [`Fcm`] is the worker's transport for the `fcm` channel. It signs an
//!   RS256 JWT with the account's private key (RFC 7523: `iss` the
//!   account's email, `scope` [`SCOPE`], `aud` its `token_uri`), trades it
//!   at `token_uri` for an OAuth access token, and keeps that token for
//!   every worker until shortly before it expires — refreshed by one send
//!   while the others wait for it. Each message goes to
//!   `{fcm_api_url}/v1/projects/{project_id}/messages:send` with the same
//!   payload as Web Push ([`super::push::payload`]), as FCM data (strings),
//!   at most [`MAX_PAYLOAD`] bytes.
//! - FCM's answers: a token that is `UNREGISTERED`, or refused as an
//!   invalid argument, is deleted and the delivery given up; 429 and 5xx
//!   are retried after the answer's `Retry-After`, else the outbox's
//!   backoff; a 401 drops the cached access token and the send is tried
//!   once more with a fresh one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::future::BoxFuture;
use kudakyar_api::notifications::{FcmToken, FcmTokenInput, PushPayload};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
// jwt-simple as web-push-native re-exports it: the same pure-Rust build
// (RSA by the `rsa` crate), no second copy.
use web_push_native::jwt_simple::prelude::{Claims, RS256KeyPair, RSAKeyPairLike};

use super::outbox::Claimed;
use super::worker::{Outcome, Transport, excerpt, retry_after_ms};
use crate::config::Config;
use crate::db::Db;
use crate::error::{Error, Result};

/// The OAuth scope of sending messages.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// FCM's limit on a message's data, in bytes.
pub const MAX_PAYLOAD: usize = 4096;
/// Registration tokens are about 160 characters; these bounds leave room.
const MIN_TOKEN_LEN: usize = 32;
pub const MAX_TOKEN_LEN: usize = 1024;
/// How long a signed assertion is valid (Google accepts at most an hour).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);
/// An access token is refreshed this long before it expires, so that no
/// send carries one that expires on the way.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// How long FCM keeps a message for a device that is offline.
const TTL: &str = "86400s";

/// Whether FCM is on, as `/api/v1/ready` tells it.
pub type Status = super::ChannelStatus<Account>;

impl Status {
    pub fn from_config(config: &Config) -> Status {
        super::ChannelStatus::from_settings("fcm", Account::from_config(config))
    }
}

/// The fields of a service account key file this server uses (the file
/// has more; they are ignored).
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    project_id: String,
    private_key_id: Option<String>,
    private_key: String,
    client_email: String,
    token_uri: String,
}

/// A service account that passed [`Account::parse`], and where to send.
pub struct Account {
    pub project_id: String,
    pub client_email: String,
    pub token_uri: String,
    /// `{fcm_api_url}/v1/projects/{project_id}/messages:send`.
    pub send_url: String,
    key: RS256KeyPair,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("send_url", &self.send_url)
            .finish_non_exhaustive()
    }
}

/// `url` when it is an http(s) URL with a host; else an error naming `what`.
fn http_url(url: &str, what: &str) -> std::result::Result<String, String> {
    let url = url.trim();
    match url.parse::<http::Uri>() {
        Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() => {
            Ok(url.trim_end_matches('/').to_string())
        }
        _ => Err(format!("{what} is not an http(s) URL")),
    }
}

impl Account {
    /// The account `fcm_service_account` names; none when it is unset.
    /// The error names the setting and the file, never the key.
    pub fn from_config(c: &Config) -> std::result::Result<Option<Account>, String> {
        let Some(path) = &c.fcm_service_account else {
            return Ok(None);
        };
        let why = |e: String| format!("fcm_service_account {}: {e}", path.display());
        let text =
            std::fs::read_to_string(path).map_err(|e| why(format!("cannot be read: {e}")))?;
        Account::parse(&text, &c.fcm_api_url).map(Some).map_err(why)
    }

    /// Checks a key file's text, with the API's base URL.
    pub fn parse(json: &str, api_url: &str) -> std::result::Result<Account, String> {
        // serde_json's messages name a field and a position, never a value
        // of a string field (all of these are strings).
        let file: KeyFile = serde_json::from_str(json)
            .map_err(|e| format!("is not a service account key file: {e}"))?;
        if file.kind != "service_account" {
            return Err(format!(
                "its type is {:?}, not \"service_account\"",
                file.kind
            ));
        }
        // The project id goes into the URL's path.
        let project_ok = !file.project_id.is_empty()
            && file
                .project_id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !project_ok {
            return Err("its project_id is not a Firebase project id".into());
        }
        if !file.client_email.contains('@') {
            return Err("its client_email is not an email address".into());
        }
        let token_uri = http_url(&file.token_uri, "its token_uri")?;
        let api = http_url(api_url, "fcm_api_url")?;
        let key = RS256KeyPair::from_pem(&file.private_key)
            .map_err(|_| "its private_key is not an RSA private key in PEM".to_string())?;
        // Google finds the public key by the JWT's `kid`.
        let key = match &file.private_key_id {
            Some(id) => key.with_key_id(id),
            None => key,
        };
        Ok(Account {
            send_url: format!("{api}/v1/projects/{}/messages:send", file.project_id),
            project_id: file.project_id,
            client_email: file.client_email,
            token_uri,
            key,
        })
    }

    /// A signed assertion for the token endpoint (RFC 7523 JWT bearer
    /// grant), valid for [`ASSERTION_LIFETIME`] from now.
    pub fn assertion(&self) -> anyhow::Result<String> {
        #[derive(Serialize)]
        struct Scope {
            scope: &'static str,
        }
        let mut claims =
            Claims::with_custom_claims(Scope { scope: SCOPE }, ASSERTION_LIFETIME.into())
                .with_issuer(&self.client_email)
                .with_audience(&self.token_uri);
        // The grant is `iss`, `scope`, `aud`, `iat`, `exp`: no `nbf`.
        claims.invalid_before = None;
        self.key
            .sign(claims)
            .map_err(|e| anyhow::anyhow!("signing the FCM assertion: {e}"))
    }
}

/// Checks a registration token: the field is named when it is bad.
pub fn validate(input: &FcmTokenInput) -> Result<String> {
    let token = input.token.trim();
    let ok = (MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:".contains(&b));
    if !ok {
        return Err(Error::field(
            "token",
            "must be an FCM registration token: 32 to 1024 letters, digits, '-', '_' or ':'",
        ));
    }
    Ok(token.to_string())
}

/// Stores `user_id`'s token; (it, true when new). The token is the key: an
/// app registering again changes nothing, and a device that changed hands
/// moves to its new user.
pub async fn register(db: &Db, user_id: &str, token: &str) -> Result<(FcmToken, bool)> {
    let mut tx = db.begin_write().await?;
    let inserted: Option<(String, i64)> = sqlx::query_as(
        "INSERT INTO fcm_tokens (id, user_id, token, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (token) DO NOTHING
         RETURNING id, created_at",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(user_id)
    .bind(token)
    .bind(crate::now_ms())
    .fetch_optional(&mut *tx)
    .await?;
    let ((id, created_at), new) = match inserted {
        Some(row) => (row, true),
        None => (
            sqlx::query_as(
                "UPDATE fcm_tokens SET user_id = $1 WHERE token = $2 RETURNING id, created_at",
            )
            .bind(user_id)
            .bind(token)
            .fetch_one(&mut *tx)
            .await?,
            false,
        ),
    };
    tx.commit().await?;
    let created_at = crate::ms_to_rfc3339(created_at);
    Ok((FcmToken { id, created_at }, new))
}

/// The message FCM is asked to send to `registration` for `d`: its push
/// `payload` as data (FCM's values are strings); an error when the data is
/// over [`MAX_PAYLOAD`].
pub fn message(
    d: &Claimed,
    payload: &PushPayload,
    registration: &str,
) -> std::result::Result<Value, String> {
    let Ok(Value::Object(fields)) = serde_json::to_value(payload) else {
        return Err("the push payload is not a JSON object".into());
    };
    let data: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, Value::String(s)),
            other => (k, Value::String(other.to_string())),
        })
        .collect();
    let size = Value::Object(data.clone()).to_string().len();
    if size > MAX_PAYLOAD {
        return Err(format!(
            "the payload is {size} bytes, over FCM's limit of {MAX_PAYLOAD}"
        ));
    }
    Ok(json!({
        "message": {
            "token": registration,
            "data": data,
            "android": {
                "priority": if d.critical { "HIGH" } else { "NORMAL" },
                "ttl": TTL,
            },
        }
    }))
}

/// Whether FCM's error answer says the registration token is no good:
/// `UNREGISTERED` (the app was removed, the token expired), or an invalid
/// argument that is the token.
fn token_gone(status: http::StatusCode, answer: &str) -> bool {
    let Ok(body) = serde_json::from_str::<Value>(answer) else {
        return false;
    };
    let error = &body["error"];
    let details = error["details"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let code = |c: &str| details.iter().any(|d| d["errorCode"] == c);
    if code("UNREGISTERED") {
        return true;
    }
    let invalid = status == http::StatusCode::BAD_REQUEST
        && (code("INVALID_ARGUMENT") || error["status"] == "INVALID_ARGUMENT");
    let on_the_token = details.iter().any(|d| {
        d["fieldViolations"]
            .as_array()
            .is_some_and(|v| v.iter().any(|f| f["field"] == "message.token"))
    }) || error["message"]
        .as_str()
        .is_some_and(|m| m.contains("registration token"));
    invalid && on_the_token
}

/// An access token and when to stop using it.
struct Cached {
    token: String,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

/// Sends deliveries of the `fcm` channel.
pub struct Fcm {
    db: Db,
    account: Arc<Account>,
    client: reqwest::Client,
    /// Shared by every send; held across a refresh, so one send refreshes
    /// and the others wait for its token.
    token: tokio::sync::Mutex<Option<Cached>>,
    /// `push_places`.
    places: bool,
}

impl Fcm {
    pub fn new(db: Db, account: Arc<Account>, config: &Config) -> anyhow::Result<Fcm> {
        let client = super::push::client(config, "FCM")?;
        Ok(Fcm {
            db,
            account,
            client,
            token: tokio::sync::Mutex::new(None),
            places: config.push_places,
        })
    }

    /// The cached access token, or a fresh one when it is (nearly) expired.
    async fn access_token(&self) -> anyhow::Result<String> {
        let mut cached = self.token.lock().await;
        if let Some(c) = &*cached
            && Instant::now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        let asked = Instant::now();
        let response = self
            .client
            .post(&self.account.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &self.account.assertion()?),
            ])
            .send()
            .await
            .context("asking for an FCM access token")?;
        let status = response.status();
        if !status.is_success() {
            let answer = super::worker::answer_excerpt(response).await;
            anyhow::bail!("the token endpoint answered {status}: {answer}");
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .context("the token endpoint's answer")?;
        // From when it was asked for: the token may have been made then.
        let lifetime = Duration::from_secs(answer.expires_in).saturating_sub(REFRESH_MARGIN);
        *cached = Some(Cached {
            token: answer.access_token.clone(),
            refresh_at: asked + lifetime,
        });
        tracing::debug!(expires_in = answer.expires_in, "a new FCM access token");
        Ok(answer.access_token)
    }

    /// Drops the cached access token if it is still `token` (FCM refused
    /// it), so that the next send asks for another.
    async fn forget(&self, token: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }

    /// Posts `message` with the access token; (the token used, the answer).
    async fn post(&self, message: &Value) -> anyhow::Result<(String, reqwest::Response)> {
        let token = self.access_token().await?;
        let response = self
            .client
            .post(&self.account.send_url)
            .bearer_auth(&token)
            .json(message)
            .send()
            .await
            .context("sending to FCM")?;
        Ok((token, response))
    }

    async fn try_deliver(&self, d: &Claimed) -> anyhow::Result<Outcome> {
        let registration: Option<String> =
            sqlx::query_scalar("SELECT token FROM fcm_tokens WHERE id = $1")
                .bind(&d.target)
                .fetch_optional(self.db.pool())
                .await?;
        let Some(registration) = registration else {
            return Ok(Outcome::Give {
                error: "the FCM token was removed".into(),
            });
        };
        let payload = super::push::payload(&self.db, self.places, d).await?;
        let message = match message(d, &payload, &registration) {
            Ok(m) => m,
            Err(error) => return Ok(Outcome::Give { error }),
        };
        let (used, mut response) = self.post(&message).await?;
        if response.status() == http::StatusCode::UNAUTHORIZED {
            // Revoked, or expired early: once more with a fresh token.
            self.forget(&used).await;
            response = self.post(&message).await?.1;
        }
        let status = response.status();
        if status.is_success() {
            return Ok(Outcome::Sent);
        }
        let after_ms = retry_after_ms(response.headers());
        let answer = response.text().await.unwrap_or_default();
        let error = format!("FCM answered {status}: {}", excerpt(&answer));
        if token_gone(status, &answer) {
            sqlx::query("DELETE FROM fcm_tokens WHERE id = $1")
                .bind(&d.target)
                .execute(self.db.pool())
                .await?;
            tracing::info!(token = %d.target, %status, "FCM token no longer registered; removed");
            return Ok(Outcome::Give { error });
        }
        Ok(match status.as_u16() {
            401 | 408 | 425 => Outcome::Retry {
                error,
                after_ms: None,
            },
            429 | 500..=599 => Outcome::Retry { error, after_ms },
            // 400 (not the token), 403 (the token is another project's),
            // 404: sending it again would be refused again.
            _ => Outcome::Give { error },
        })
    }
}

impl Transport for Fcm {
    fn send<'a>(&'a self, delivery: &'a Claimed) -> BoxFuture<'a, Outcome> {
        Box::pin(async move { super::worker::or_retry(self.try_deliver(delivery).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: &str, details: Value) -> String {
        json!({"error": {"code": 0, "message": "m", "status": status, "details": details}})
            .to_string()
    }

    #[test]
    fn unregistered_and_invalid_tokens_are_told_from_other_errors() {
        let fcm_error = |code: &str| {
            json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": code}])
        };
        let not_found = http::StatusCode::NOT_FOUND;
        let bad = http::StatusCode::BAD_REQUEST;
        assert!(token_gone(
            not_found,
            &error("NOT_FOUND", fcm_error("UNREGISTERED"))
        ));
        let on_token = json!([
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
             "errorCode": "INVALID_ARGUMENT"},
            {"@type": "type.googleapis.com/google.rpc.BadRequest",
             "fieldViolations": [{"field": "message.token",
                                  "description": "Invalid registration token"}]},
        ]);
        assert!(token_gone(bad, &error("INVALID_ARGUMENT", on_token)));
        let on_data = json!([{"@type": "type.googleapis.com/google.rpc.BadRequest",
             "fieldViolations": [{"field": "message.data[0].value", "description": "x"}]}]);
        assert!(!token_gone(bad, &error("INVALID_ARGUMENT", on_data)));
        assert!(!token_gone(
            http::StatusCode::TOO_MANY_REQUESTS,
            &error("RESOURCE_EXHAUSTED", fcm_error("QUOTA_EXCEEDED"))
        ));
        assert!(!token_gone(not_found, "<html>not json</html>"));
    }

    #[test]
    fn tokens_are_checked_by_length_and_alphabet() {
        let ok = format!("dJ3k:APA91b{}", "x-_Y9".repeat(30));
        assert_eq!(validate(&FcmTokenInput { token: ok.clone() }).unwrap(), ok);
        for bad in [
            "",
            "short",
            &"a".repeat(1025),
            &format!("{ok} space"),
            &format!("{ok}/"),
        ] {
            let e = validate(&FcmTokenInput { token: bad.into() }).unwrap_err();
            assert!(matches!(e, Error::Validation(_)), "{bad:?}: {e:?}");
        }
    }
}
