//! Cursor pagination and query-string helpers shared by list endpoints.
//!
//! A cursor is the sort key of the last item returned, base64url-encoded so
//! clients treat it as opaque. Lists fetch `limit + 1` rows; the extra row only
//! tells whether there is a next page.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use base64::Engine;
use kudakyar_api::users::Page;
use serde::de::DeserializeOwned;

use crate::error::{Error, Validator};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// `Query<T>` that answers bad query strings with a 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let message = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_string();
                // serde names the parameter in backticks ("unknown field `x`").
                let field = message.split('`').nth(1).unwrap_or("query").to_string();
                Error::field(&field, message)
            })
    }
}

pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

pub fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Validates `?limit=`, defaulting to [`DEFAULT_LIMIT`].
pub fn parse_limit(v: &mut Validator, limit: Option<i64>) -> i64 {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    v.check(
        (1..=MAX_LIMIT).contains(&limit),
        "limit",
        "must be between 1 and 200",
    );
    limit.clamp(1, MAX_LIMIT)
}

/// A `true` / `false` query parameter. (Taken as text: serde's own error
/// for a bad boolean names no parameter.)
pub fn boolean(v: &mut Validator, field: &str, value: Option<&str>) -> Option<bool> {
    let parsed = match value? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    v.check(parsed.is_some(), field, "must be true or false");
    parsed
}

/// Validates an RFC 3339 query parameter into milliseconds.
pub fn parse_time(v: &mut Validator, field: &str, value: Option<&str>) -> Option<i64> {
    let value = value?;
    let ms = crate::rfc3339_to_ms(value);
    v.check(
        ms.is_some(),
        field,
        "must be an RFC 3339 time, e.g. 2026-11-23T10:00:00Z",
    );
    ms
}

/// Cuts a `limit + 1` fetch into a page with the next cursor.
pub fn page<T>(mut items: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|last| encode_cursor(&key(last)))
    } else {
        None
    };
    Page { items, next_cursor }
}
