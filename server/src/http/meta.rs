//! The extractor that fills an [`Origin`] (request id and client IP, for
//! audit entries) from a request, the rule for which `X-Forwarded-For` entry
//! to believe ([`forwarded_client`]), and [`drop_malformed_request_id`],
//! which keeps client-chosen ids well-formed.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::audit::Origin;

impl FromRequestParts<AppState> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let forwarded = state
            .config
            .trust_forwarded_for
            .then(|| forwarded_client(&parts.headers, state.config.trusted_proxy_hops))
            .flatten();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Origin {
            request_id,
            client_ip: forwarded.or(peer).map(|ip| ip.to_string()),
        })
    }
}

/// The client address in `X-Forwarded-For` behind `hops` trusted proxies.
///
/// Each proxy appends the address it saw, so only the rightmost `hops`
/// entries were written by proxies we trust; everything to their left came
/// with the request and is whatever the client wanted it to be. The entry
/// `hops` places from the right is the address the outermost trusted proxy
/// saw; with fewer entries, the leftmost (still written by a trusted proxy).
/// `None` when there is no header or that entry is not an address (then the
/// peer address is used).
pub fn forwarded_client(headers: &HeaderMap, hops: u32) -> Option<IpAddr> {
    // Several headers count as one list, in order (RFC 9110 §5.3).
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let from_right = (hops.max(1) as usize).min(entries.len());
    let entry = entries.get(entries.len().checked_sub(from_right)?)?;
    // Some proxies write `ip:port` or `[v6]:port`.
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// Longest client-supplied request id kept.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Middleware before the request-id layer: a client's `x-request-id` is kept
/// only if it is 1–64 characters of `[A-Za-z0-9._-]`, else removed so that a
/// fresh UUID is generated. The id goes into logs and the append-only audit
/// log, where markup, control characters or kilobytes from a client have no
/// business.
pub async fn drop_malformed_request_id(mut req: Request) -> Request {
    let well_formed = |v: &[u8]| {
        (1..=MAX_REQUEST_ID_LEN).contains(&v.len())
            && v.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    let headers = req.headers_mut();
    let ids: Vec<_> = headers.get_all("x-request-id").iter().collect();
    // Two ids are as bad as a malformed one: which would the log believe?
    if ids.len() > 1 || ids.first().is_some_and(|v| !well_formed(v.as_bytes())) {
        headers.remove("x-request-id");
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(values: &[&str], hops: u32) -> Option<String> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        forwarded_client(&headers, hops).map(|ip| ip.to_string())
    }

    #[test]
    fn the_trusted_hops_decide_the_client() {
        let chain = ["6.6.6.6, 198.51.100.9", "10.0.0.2"];
        assert_eq!(client(&chain, 1).as_deref(), Some("10.0.0.2"));
        assert_eq!(client(&chain, 2).as_deref(), Some("198.51.100.9"));
        assert_eq!(client(&chain, 9).as_deref(), Some("6.6.6.6"));
        assert_eq!(
            client(&["203.0.113.7:5555"], 1).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            client(&["[2001:db8::1]:80"], 1).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(client(&["1.2.3.4, not-an-address"], 1), None);
        assert_eq!(client(&[], 1), None);
    }
}
