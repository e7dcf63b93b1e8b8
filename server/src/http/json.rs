//! [`ApiJson`]: the JSON body extractor every endpoint uses.
//!
//! Unlike `axum::Json` it answers in problem+json and names the offending field:
//! malformed JSON → 400, wrong `Content-Type` → 415, body over the limit → 413,
//! unknown, missing or mistyped fields → 422 with `errors: {field: [message]}`.
//! Request types carry `#[serde(deny_unknown_fields)]`, so a misspelt field is
//! an error, never silently ignored.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::Error;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Error::UnsupportedMediaType(
                "expected `Content-Type: application/json`".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::BadRequest(e.body_text())
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Deserialises a JSON body, mapping each failure to the error a client can act on.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            Category::Data => data_error(&path, &inner),
            _ => Error::BadRequest(format!("malformed JSON: {}", without_position(&inner))),
        }
    })?;
    de.end()
        .map_err(|e| Error::BadRequest(format!("malformed JSON: {}", without_position(&e))))?;
    Ok(value)
}

/// Deserialises an already-parsed JSON value, naming the offending field.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        data_error(&path, &err.into_inner())
    })
}

/// A shape error: find the field it is about. serde reports unknown and missing
/// fields at the enclosing object, naming the field in backticks.
fn data_error(path: &str, err: &serde_json::Error) -> Error {
    let message = without_position(err);
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    // For unknown fields the path already ends with the field; for missing
    // fields it is the enclosing object.
    let field = match (named, path) {
        (Some(name), "." | "") => name.to_string(),
        (Some(name), path) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_string()
        }
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "." | "") => "body".to_string(),
        (None, path) => path.to_string(),
    };
    let message = match message.split_once(", expected") {
        Some((head, _)) => head.to_string(),
        None => message,
    };
    Error::field(&field, message)
}

fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        age: u8,
    }

    fn field_errors(e: Error) -> Vec<String> {
        match e {
            Error::Validation(errors) => errors.keys().cloned().collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field() {
        let unknown = parse::<Body>(br#"{"name":"a","age":3,"nmae":1}"#).unwrap_err();
        assert_eq!(field_errors(unknown), ["nmae"]);
        let missing = parse::<Body>(br#"{"name":"a"}"#).unwrap_err();
        assert_eq!(field_errors(missing), ["age"]);
        let mistyped = parse::<Body>(br#"{"name":"a","age":300}"#).unwrap_err();
        assert_eq!(field_errors(mistyped), ["age"]);
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse::<Body>(b"{\"name\":"),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            parse::<Body>(br#"{"name":"a","age":3} trailing"#),
            Err(Error::BadRequest(_))
        ));
    }
}
