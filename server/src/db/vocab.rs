//! Vocabulary values (sex, status, work types, decisions…) as they are
//! stored in the database and sent in the API: the snake_case names serde
//! gives the enums of `kudakyar_api`.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The snake_case name of a vocabulary value, as stored and sent.
pub fn enum_str<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn enum_parse<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}
