//! `/metrics` in the Prometheus text format: requests by route and status,
//! a latency histogram per route, database pool usage, the iris templates
//! this instance could not open (left out of its gallery), and the
//! notification deliveries by channel — what this instance sent, retried,
//! dead-lettered and escalated (to SMS), its commit-to-sent latency, and the outbox
//! rows by state (read from the database, so every instance's).
//!
//! Each [`Metrics`] owns its registry (no global recorder), so several
//! applications in one test process do not mix their numbers.
//!
//! Every label value comes from a fixed set — the methods the API knows (else
//! `other`), the router's route templates (else `unmatched`), status codes —
//! because each new value is a new series kept in memory for the life of the
//! process: a client must not be able to grow it by sending made-up methods
//! or paths.
//!
//! With `metrics_token` configured, `/metrics` answers only requests bearing
//! it (`Authorization: Bearer …`); without, it is open to whoever can reach
//! the server's address.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::app::AppState;
use crate::error::{Error, Result};
use crate::notify::outbox::Channel;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    channel: String,
    state: String,
}

/// What this instance did with deliveries, by channel.
#[derive(Clone)]
struct Deliveries {
    sent: Family<ChannelLabels, Counter>,
    retried: Family<ChannelLabels, Counter>,
    dead: Family<ChannelLabels, Counter>,
    escalated: Family<ChannelLabels, Counter>,
    latency: Family<ChannelLabels, Histogram, fn() -> Histogram>,
    /// The outbox's rows by channel and state (`queued`, `failed`, …).
    rows: Family<OutboxLabels, Gauge>,
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    pool_size: Gauge,
    pool_idle: Gauge,
    iris_unreadable: Gauge,
    deliveries: Deliveries,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kudakyar");
        let requests = Family::<RequestLabels, Counter>::default();
        // 1 ms … ~16 s.
        let latency: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15)));
        let pool_size = Gauge::default();
        let pool_idle = Gauge::default();
        let iris_unreadable = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            pool_size.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            pool_idle.clone(),
        );
        registry.register(
            "iris_unreadable_templates",
            "Live iris templates this instance could not open, left out of its gallery",
            iris_unreadable.clone(),
        );
        let deliveries = Deliveries {
            sent: Family::default(),
            retried: Family::default(),
            dead: Family::default(),
            escalated: Family::default(),
            // 10 ms … ~4 days: a delivery may wait out quiet hours.
            latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.01, 2.0, 26))
            }),
            rows: Family::default(),
        };
        for (name, help, family) in [
            (
                "notify_sent",
                "Deliveries sent, by channel",
                &deliveries.sent,
            ),
            (
                "notify_retried",
                "Delivery attempts that failed and will be retried, by channel",
                &deliveries.retried,
            ),
            (
                "notify_dead",
                "Deliveries given up on (dead letters), by channel",
                &deliveries.dead,
            ),
            (
                "notify_escalated",
                "Unread critical notifications escalated, by the channel they went to",
                &deliveries.escalated,
            ),
        ] {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "notify_delivery_latency_seconds",
            "From the notification's commit to its delivery, by channel",
            deliveries.latency.clone(),
        );
        registry.register(
            "notify_outbox_rows",
            "Outbox rows by channel and state (all instances)",
            deliveries.rows.clone(),
        );
        Metrics {
            deliveries,
            registry: Arc::new(registry),
            requests,
            latency,
            pool_size,
            pool_idle,
            iris_unreadable,
        }
    }
}

impl Metrics {
    /// Every metric in the text format; none if encoding failed.
    pub fn encode(&self) -> Option<String> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).ok()?;
        Some(text)
    }

    pub fn delivery_sent(&self, channel: Channel, latency_ms: i64) {
        let labels = ChannelLabels {
            channel: channel.as_str(),
        };
        self.deliveries.sent.get_or_create(&labels).inc();
        self.deliveries
            .latency
            .get_or_create(&labels)
            .observe(latency_ms.max(0) as f64 / 1000.0);
    }

    pub fn delivery_retried(&self, channel: Channel) {
        let labels = ChannelLabels {
            channel: channel.as_str(),
        };
        self.deliveries.retried.get_or_create(&labels).inc();
    }

    pub fn delivery_dead(&self, channel: Channel) {
        let labels = ChannelLabels {
            channel: channel.as_str(),
        };
        self.deliveries.dead.get_or_create(&labels).inc();
    }

    pub fn delivery_escalated(&self, channel: Channel, count: usize) {
        let labels = ChannelLabels {
            channel: channel.as_str(),
        };
        self.deliveries
            .escalated
            .get_or_create(&labels)
            .inc_by(count as u64);
    }
}

/// Middleware: counts and times every request under its route template
/// (`/api/v1/users/{id}`, never the concrete id, to keep label sets small).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method()).to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let metrics = &state.metrics;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The method as a label: one of the standard methods, else `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", Method::as_str)
}

/// `GET /metrics`; 401 without the configured `metrics_token`.
pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    if let Some(expected) = &state.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Compared as digests, so the comparison's time says nothing about
        // how much of the token a guess got right.
        use sha2::{Digest, Sha256};
        if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
            return Err(Error::Unauthorized);
        }
    }
    let pool = state.db.pool();
    state.metrics.pool_size.set(i64::from(pool.size()));
    state.metrics.pool_idle.set(pool.num_idle() as i64);
    state
        .metrics
        .iris_unreadable
        .set(state.biometrics.gallery.unreadable() as i64);
    // The outbox's rows by state; a failed read leaves the last values.
    if let Ok(counts) = crate::notify::outbox::counts(&state.db).await {
        // A state with no rows left reads 0, not its last count.
        state.metrics.deliveries.rows.clear();
        for (channel, state_name, n) in counts {
            state
                .metrics
                .deliveries
                .rows
                .get_or_create(&OutboxLabels {
                    channel,
                    state: state_name,
                })
                .set(n);
        }
    }
    let Some(text) = state.metrics.encode() else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
