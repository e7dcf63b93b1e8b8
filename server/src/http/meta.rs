//! [`RequestMeta`]: the request id and client IP, for audit entries.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::app::AppState;

/// Where a request came from, as the audit log records it.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The `x-request-id` set (or echoed) by the request-id middleware.
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

impl<S> FromRequestParts<S> for RequestMeta
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let state = AppState::from_ref(state);
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let forwarded = state
            .config
            .trust_forwarded_for
            .then(|| {
                parts
                    .headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .map(|ip| ip.trim().to_string())
            })
            .flatten();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(RequestMeta {
            request_id,
            client_ip: forwarded.or(peer),
        })
    }
}
