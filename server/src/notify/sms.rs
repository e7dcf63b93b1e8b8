//! SMS: the last route of a critical notification nobody has read, through
//! a gateway the deployer picks (`sms_gateway`, off by default).
//!
//! - [`Gateway::from_config`] reads the settings once at start-up: a
//!   generic HTTP template (URL, method, a body [`Template`] with the
//!   placeholders `{{to}}`, `{{message}}`, `{{id}}`, an API key header) or
//!   the Kavenegar preset (`POST {base}/v1/{key}/sms/send.json`, a form of
//!   `receptor`, `message`, `sender`, `localid`). A bad setting is an error
//!   the server logs and shows in `/api/v1/ready` ([`Status`]) while it
//!   goes on serving with SMS off ([`super::ChannelStatus`]).
//! - [`escalate`]: a critical notification still unread
//!   `sms_escalate_after_mins` after it was made gets one `sms` delivery in
//!   the outbox (the idempotency key makes a second scan, on any instance,
//!   a no-op); only users with a phone, and only while the channel is on.
//! - [`Sms`] is the worker's transport for the `sms` channel: it reads the
//!   phone when sending (the outbox holds the user id, never the number),
//!   and with it whether the notification has been read since the scan
//!   queued the SMS — if so the SMS is withdrawn unsent — and sends a text
//!   that names no child or place: the app shows the rest.
//!
//! Phones are personal data: they are never logged (errors name the
//! delivery, not the number) and never exported.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::outbox::{self, Channel, Claimed};
use super::worker::{Outcome, Transport, retry_after_ms};
use crate::config::Config;
use crate::db::Db;

/// One piece of a body template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    To,
    Message,
    Id,
}

/// A request body with placeholders, parsed (and so checked) once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

impl Template {
    /// Parses `text`; an unknown or unclosed placeholder is an error naming
    /// it. Single braces are text (a JSON body has them).
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("a placeholder opened at byte {open} is never closed"))?;
            pieces.push(match after[..close].trim() {
                "to" => Piece::To,
                "message" => Piece::Message,
                "id" => Piece::Id,
                other => {
                    return Err(format!(
                        "unknown placeholder {{{{{other}}}}} (known: {{{{to}}}}, {{{{message}}}}, {{{{id}}}})"
                    ));
                }
            });
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        if !pieces.contains(&Piece::To) || !pieces.contains(&Piece::Message) {
            return Err("the template must place {{to}} and {{message}}".into());
        }
        Ok(Template(pieces))
    }

    /// The body for one message, each value escaped by `escape`.
    pub fn render(&self, to: &str, message: &str, id: &str, escape: Escape) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::To => out.push_str(&escape.apply(to)),
                Piece::Message => out.push_str(&escape.apply(message)),
                Piece::Id => out.push_str(&escape.apply(id)),
            }
        }
        out
    }
}

/// How placeholder values are escaped for the body's content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Inside a JSON string: quotes, backslashes, control characters.
    Json,
    /// A form value: everything but unreserved characters percent-encoded.
    Form,
}

impl Escape {
    fn apply(self, value: &str) -> String {
        match self {
            Escape::Json => {
                let quoted = serde_json::Value::from(value).to_string();
                quoted[1..quoted.len() - 1].to_string()
            }
            Escape::Form => form_encode(value),
        }
    }
}

fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A configured gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gateway {
    Http {
        url: String,
        method: reqwest::Method,
        content_type: String,
        escape: Escape,
        body: Template,
        key_header: String,
        key: Option<String>,
    },
    Kavenegar {
        base: String,
        key: String,
        sender: Option<String>,
    },
}

/// Whether SMS is on, as `/api/v1/ready` tells it.
pub type Status = super::ChannelStatus<Gateway>;

impl Status {
    pub fn from_config(config: &Config) -> Status {
        super::ChannelStatus::from_settings("sms", Gateway::from_config(config))
    }
}

fn http_url(url: Option<&str>, setting: &str) -> Result<String, String> {
    let url = url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| format!("{setting} is required"))?;
    let parsed: http::Uri = url.parse().map_err(|_| format!("{setting} is not a URL"))?;
    match parsed.scheme_str() {
        Some("http" | "https") if parsed.host().is_some() => Ok(url.to_string()),
        _ => Err(format!("{setting} must be an http(s) URL")),
    }
}

impl Gateway {
    /// The gateway the settings describe; none when `sms_gateway` is `off`.
    pub fn from_config(c: &Config) -> Result<Option<Gateway>, String> {
        let key = c.sms_api_key.clone().filter(|k| !k.trim().is_empty());
        match c.sms_gateway.trim() {
            "off" | "" => Ok(None),
            "http" => {
                let url = http_url(c.sms_url.as_deref(), "sms_url")?;
                let method = match c.sms_method.trim().to_ascii_uppercase().as_str() {
                    "POST" => reqwest::Method::POST,
                    "PUT" => reqwest::Method::PUT,
                    "GET" => reqwest::Method::GET,
                    other => return Err(format!("sms_method {other:?} is not POST, PUT or GET")),
                };
                let escape = match c.sms_content_type.trim() {
                    "application/json" => Escape::Json,
                    "application/x-www-form-urlencoded" => Escape::Form,
                    other => {
                        return Err(format!(
                            "sms_content_type {other:?} is not application/json or \
                             application/x-www-form-urlencoded"
                        ));
                    }
                };
                let body = c
                    .sms_body_template
                    .as_deref()
                    .ok_or("sms_body_template is required")?;
                let body = Template::parse(body).map_err(|e| format!("sms_body_template: {e}"))?;
                let key_header = c.sms_api_key_header.trim().to_string();
                if key.is_some() && http::HeaderName::from_bytes(key_header.as_bytes()).is_err() {
                    return Err(format!(
                        "sms_api_key_header {key_header:?} is not a header name"
                    ));
                }
                Ok(Some(Gateway::Http {
                    url,
                    method,
                    content_type: c.sms_content_type.trim().to_string(),
                    escape,
                    body,
                    key_header,
                    key,
                }))
            }
            "kavenegar" => {
                let base = http_url(
                    Some(c.sms_url.as_deref().unwrap_or("https://api.kavenegar.com")),
                    "sms_url",
                )?;
                let key = key.ok_or("sms_api_key is required for kavenegar")?;
                if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    return Err("sms_api_key must be letters, digits and dashes".into());
                }
                Ok(Some(Gateway::Kavenegar {
                    base: base.trim_end_matches('/').to_string(),
                    key,
                    sender: c.sms_sender.clone().filter(|s| !s.trim().is_empty()),
                }))
            }
            other => Err(format!(
                "sms_gateway {other:?} is not off, http or kavenegar"
            )),
        }
    }
}

/// The text an escalation sends: Persian first, and nothing about the
/// child but the notification's number, which the app opens.
pub fn message(notification_id: i64) -> String {
    format!(
        "کودک‌یار: یک هشدار فوری خوانده نشده است (#{notification_id}). لطفاً برنامه را باز کنید.\n\
         Kudakyar: an urgent alert is unread (#{notification_id}). Please open the app."
    )
}

/// Queues one SMS for each critical notification unread since before
/// `now - after_ms` whose recipient has a phone; how many were queued.
/// Idempotent: a notification gets at most one SMS delivery, whoever scans
/// (two scans at once on PostgreSQL may both see it: the key admits one).
pub async fn escalate(db: &Db, now: i64, after_ms: i64) -> sqlx::Result<usize> {
    let mut tx = db.begin_write().await?;
    let due: Vec<(i64, String)> = sqlx::query_as(
        "SELECT n.id, n.user_id FROM notifications n JOIN users u ON u.id = n.user_id
         WHERE n.critical = 1 AND n.read_at IS NULL AND n.created_at <= $1
           AND u.phone IS NOT NULL AND u.disabled_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.notification_id = n.id AND d.channel = 'sms')
         ORDER BY n.id",
    )
    .bind(now - after_ms)
    .fetch_all(&mut *tx)
    .await?;
    let mut queued = 0;
    for (notification, user) in &due {
        if outbox::enqueue(&mut tx, *notification, Channel::Sms, user, now).await? {
            queued += 1;
        }
    }
    tx.commit().await?;
    Ok(queued)
}

/// Scans for escalations every `every` until `stop`.
pub fn spawn_escalation(
    db: Db,
    after_ms: i64,
    every: Duration,
    metrics: crate::http::metrics::Metrics,
    stop: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match escalate(&db, crate::now_ms(), after_ms).await {
                Ok(0) => {}
                Ok(n) => {
                    metrics.delivery_escalated(Channel::Sms, n);
                    tracing::info!(notifications = n, "unread critical notifications go by SMS");
                }
                Err(e) => tracing::warn!(error = %e, "the SMS escalation could not scan"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// Sends deliveries of the `sms` channel through the gateway.
pub struct Sms {
    db: Db,
    gateway: Arc<Gateway>,
    client: reqwest::Client,
}

impl Sms {
    pub fn new(db: Db, gateway: Arc<Gateway>, timeout: Duration) -> anyhow::Result<Sms> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Sms {
            db,
            gateway,
            client,
        })
    }

    async fn deliver(&self, d: &Claimed) -> Outcome {
        match self.try_deliver(d).await {
            Ok(outcome) => outcome,
            // Without the URL: a Kavenegar URL holds the API key.
            Err(e) => Outcome::Retry {
                error: format!("{:#}", e.without_url()),
                after_ms: None,
            },
        }
    }

    async fn try_deliver(&self, d: &Claimed) -> Result<Outcome, reqwest::Error> {
        // The phone, and whether the notification has been read since the
        // escalation was queued (or since this claim): read just before
        // sending, so an SMS about something already seen does not go.
        let recipient: Option<(Option<String>, Option<i64>)> = match sqlx::query_as(
            "SELECT u.phone, (SELECT n.read_at FROM notifications n WHERE n.id = $2)
             FROM users u WHERE u.id = $1",
        )
        .bind(&d.target)
        .bind(d.notification_id)
        .fetch_optional(self.db.pool())
        .await
        {
            Ok(r) => r,
            Err(e) => {
                return Ok(Outcome::Retry {
                    error: format!("reading the phone: {e}"),
                    after_ms: None,
                });
            }
        };
        let phone = match recipient {
            Some((_, Some(_read_at))) => {
                return Ok(Outcome::Withdrawn {
                    reason: "the notification was read before its SMS went",
                });
            }
            Some((Some(phone), None)) => phone,
            _ => {
                return Ok(Outcome::Give {
                    error: "the recipient has no phone number".into(),
                });
            }
        };
        let text = message(d.notification_id);
        let request = match &*self.gateway {
            Gateway::Http {
                url,
                method,
                content_type,
                escape,
                body,
                key_header,
                key,
            } => {
                let mut r = self
                    .client
                    .request(method.clone(), url.as_str())
                    .header(http::header::CONTENT_TYPE, content_type.as_str())
                    .header("Idempotency-Key", &d.idempotency_key)
                    .body(body.render(&phone, &text, &d.idempotency_key, *escape));
                if let Some(key) = key {
                    r = r.header(key_header.as_str(), key.as_str());
                }
                r
            }
            Gateway::Kavenegar { base, key, sender } => {
                let mut form = format!(
                    "receptor={}&message={}&localid={}",
                    form_encode(&phone),
                    form_encode(&text),
                    form_encode(&d.idempotency_key)
                );
                if let Some(sender) = sender {
                    form.push_str(&format!("&sender={}", form_encode(sender)));
                }
                self.client
                    .post(format!("{base}/v1/{key}/sms/send.json"))
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form)
            }
        };
        let response = request.send().await?;
        let status = response.status();
        let after_ms = retry_after_ms(response.headers());
        let answer = super::worker::answer_excerpt(response).await;
        if status.is_success() {
            // Kavenegar says its own status in the body too.
            if matches!(*self.gateway, Gateway::Kavenegar { .. }) {
                let said = serde_json::from_str::<serde_json::Value>(&answer)
                    .ok()
                    .and_then(|v| v["return"]["status"].as_i64());
                if said != Some(200) {
                    return Ok(Outcome::Retry {
                        error: format!("the gateway answered {status} but said: {answer}"),
                        after_ms,
                    });
                }
            }
            return Ok(Outcome::Sent);
        }
        let error = format!("the SMS gateway answered {status}: {answer}");
        Ok(match status.as_u16() {
            408 | 425 | 429 | 500..=599 => Outcome::Retry { error, after_ms },
            _ => Outcome::Give { error },
        })
    }
}

impl Transport for Sms {
    fn send<'a>(&'a self, delivery: &'a Claimed) -> BoxFuture<'a, Outcome> {
        Box::pin(self.deliver(delivery))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_places_escaped_values_and_refuses_unknown_placeholders() {
        let t = Template::parse(r#"{"to": "{{to}}", "text": "{{ message }}", "ref": "{{id}}"}"#)
            .unwrap();
        assert_eq!(
            t.render("+989121234567", "say \"hi\"\nسلام", "n1:sms:u", Escape::Json),
            r#"{"to": "+989121234567", "text": "say \"hi\"\nسلام", "ref": "n1:sms:u"}"#
        );
        let form = Template::parse("to={{to}}&text={{message}}").unwrap();
        assert_eq!(
            form.render("+98912", "a b&c", "", Escape::Form),
            "to=%2B98912&text=a%20b%26c"
        );
        assert!(
            Template::parse("{{to}} {{phone}}")
                .unwrap_err()
                .contains("{{phone}}")
        );
        assert!(
            Template::parse("{{to}} {{message")
                .unwrap_err()
                .contains("never closed")
        );
        assert!(Template::parse("{{message}} only").is_err());
    }

    fn config(gateway: &str) -> Config {
        Config {
            sms_gateway: gateway.into(),
            sms_url: Some("http://127.0.0.1:9/send".into()),
            sms_body_template: Some("{{to}}:{{message}}".into()),
            sms_api_key: Some("abc-123".into()),
            ..Config::default()
        }
    }

    #[test]
    fn the_settings_make_a_gateway_or_say_what_is_wrong() {
        assert_eq!(Gateway::from_config(&Config::default()), Ok(None));
        assert!(matches!(
            Gateway::from_config(&config("http")),
            Ok(Some(Gateway::Http { .. }))
        ));
        assert!(matches!(
            Gateway::from_config(&config("kavenegar")),
            Ok(Some(Gateway::Kavenegar { .. }))
        ));
        let bad = [
            (
                Config {
                    sms_gateway: "pigeon".into(),
                    ..config("http")
                },
                "sms_gateway",
            ),
            (
                Config {
                    sms_url: Some("ftp://x".into()),
                    ..config("http")
                },
                "sms_url",
            ),
            (
                Config {
                    sms_url: None,
                    ..config("http")
                },
                "sms_url",
            ),
            (
                Config {
                    sms_method: "DELETE".into(),
                    ..config("http")
                },
                "sms_method",
            ),
            (
                Config {
                    sms_body_template: Some("{{to}} {{nope}}".into()),
                    ..config("http")
                },
                "sms_body_template",
            ),
            (
                Config {
                    sms_content_type: "text/xml".into(),
                    ..config("http")
                },
                "sms_content_type",
            ),
            (
                Config {
                    sms_api_key_header: "bad header".into(),
                    ..config("http")
                },
                "sms_api_key_header",
            ),
            (
                Config {
                    sms_api_key: None,
                    ..config("kavenegar")
                },
                "sms_api_key",
            ),
            (
                Config {
                    sms_api_key: Some("a/b".into()),
                    ..config("kavenegar")
                },
                "sms_api_key",
            ),
        ];
        for (c, setting) in bad {
            let e = Gateway::from_config(&c).unwrap_err();
            assert!(e.contains(setting), "{setting}: {e}");
            assert!(!e.contains("abc-123"), "no secret in {e}");
        }
    }

    #[test]
    fn the_message_names_no_child() {
        let m = message(42);
        assert!(m.starts_with("کودک‌یار"));
        assert!(m.contains("#42"));
    }
}
