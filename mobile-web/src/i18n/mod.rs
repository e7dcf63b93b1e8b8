//! Every user-visible string, so a second language is a new table, not a hunt.
//!
//! - [`Strings`] (in `messages.rs`): the fixed texts, Persian and English side
//!   by side; [`t`] returns the active table.
//! - [`Lang`]: the UI language, chosen once at start-up (see `lang.rs`).
//! - `vocabulary.rs`: labels of the API's enumerations (status, services…).
//! - [`later`]: the texts of the screens loaded on demand, fetched with them
//!   ([`l`]) so that they do not weigh on the app shell.
//! - [`error_text`]: turns an [`ApiError`] into what the user should read.
//! - [`province_name`]: ISO 3166-2:IR codes to province names.
//! - [`digits`], [`duration`]: numbers and waits as Persian text shows them.

mod lang;
pub mod later;
mod messages;
pub mod vocabulary;

pub use lang::{Lang, init as init_language, lang, switch_language};
pub use later::{L, l};
pub use messages::Strings;
// The table lives in the API crate: the server names provinces too (the
// built-in outlines, printed maps).
pub use kudakyar_api::provinces::{province_name, provinces};

use crate::api::ApiError;

/// The active string table.
pub fn t() -> &'static Strings {
    match lang() {
        Lang::Fa => &messages::FA,
        Lang::En => &messages::EN,
    }
}

/// An error as shown to the user: a sentence in the UI language, then the
/// server's own `detail` (whatever language it is in) and the request id to
/// quote to support.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorText {
    pub message: String,
    pub detail: Option<String>,
    pub request_id: Option<String>,
}

impl ErrorText {
    /// A message of the app's own, with no server detail.
    pub fn plain(message: &str) -> ErrorText {
        ErrorText {
            message: message.to_owned(),
            detail: None,
            request_id: None,
        }
    }
}

/// What to tell the user about `err`. `at_login` decides what a 401 means:
/// wrong credentials at login, an ended session anywhere else.
pub fn error_text(err: &ApiError, at_login: bool) -> ErrorText {
    let s = t();
    let plain = |m: &str| ErrorText {
        message: m.to_owned(),
        detail: None,
        request_id: None,
    };
    match err {
        ApiError::Unauthorized if at_login => plain(s.wrong_credentials),
        ApiError::Unauthorized => plain(s.session_expired),
        ApiError::TooManyRequests {
            retry_after: Some(secs),
        } => plain(&s.wait_for.replace("{}", &duration(*secs))),
        ApiError::TooManyRequests { retry_after: None } => plain(s.wait_a_moment),
        ApiError::Network => plain(s.network),
        ApiError::Decode => plain(s.unexpected),
        ApiError::Status(status) => plain(status_message(*status)),
        ApiError::Problem(p) => {
            // Field errors (422) are more useful than the generic detail.
            let fields: Vec<&str> = p.errors.values().flatten().map(String::as_str).collect();
            let detail = if fields.is_empty() {
                p.detail.clone()
            } else {
                fields.join(" — ")
            };
            ErrorText {
                message: status_message(p.status).to_owned(),
                detail: Some(detail).filter(|d| !d.trim().is_empty()),
                request_id: p.request_id.clone(),
            }
        }
    }
}

fn status_message(status: u16) -> &'static str {
    let s = t();
    match status {
        403 => s.forbidden,
        400 | 409 | 413 | 415 | 422 => s.invalid,
        500..=599 => s.server,
        _ => s.unexpected,
    }
}

/// A wait as people say it: seconds up to two minutes, then whole minutes
/// rounded up (a 900 s lockout reads «۱۵ دقیقه», not «۹۰۰ ثانیه»).
pub fn duration(secs: u32) -> String {
    let s = t();
    if secs < 120 {
        s.seconds.replace("{}", &digits(secs))
    } else {
        s.minutes.replace("{}", &digits(secs.div_ceil(60)))
    }
}

/// Writes `n` in the UI's digits: Persian (۰–۹), as Persian text expects, or
/// ASCII in English.
pub fn digits(n: u32) -> String {
    let s = n.to_string();
    if lang() == Lang::En {
        return s;
    }
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32('۰' as u32 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}
