//! Every user-visible string, so a second language is a new table, not a hunt.
//!
//! - [`Strings`]: the fixed texts; [`t`] returns the active table (Persian
//!   only for now: English switching belongs to the outreach PWA issue).
//! - [`error_text`]: turns an [`ApiError`] into what the user should read.
//! - [`province_name`]: ISO 3166-2:IR codes to province names.
//! - [`digits`], [`duration`]: numbers and waits as Persian text shows them.

mod fa;
mod provinces;

pub use provinces::{province_name, provinces};

use crate::api::ApiError;

/// The fixed texts of the UI, one field per message.
pub struct Strings {
    pub app_name: &'static str,
    pub tagline: &'static str,
    pub loading: &'static str,
    pub login_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub show_password: &'static str,
    pub login: &'static str,
    pub logging_in: &'static str,
    pub fill_both: &'static str,
    pub wrong_credentials: &'static str,
    pub session_expired: &'static str,
    pub logged_out: &'static str,
    pub home_title: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub province: &'static str,
    pub county: &'static str,
    pub whole_country: &'static str,
    pub logout: &'static str,
    pub logging_out: &'static str,
    pub retry: &'static str,
    pub stale_user: &'static str,
    pub network: &'static str,
    pub forbidden: &'static str,
    pub invalid: &'static str,
    pub server: &'static str,
    pub unexpected: &'static str,
    pub request_id: &'static str,
    /// `{}` is replaced by a [`duration`].
    pub wait_for: &'static str,
    pub wait_a_moment: &'static str,
    /// Button label while throttled; `{}` as above.
    pub wait_button: &'static str,
    /// `{}` is a number in Persian digits.
    pub seconds: &'static str,
    pub minutes: &'static str,
    // The outreach worker's registration and outbox.
    /// Registration form heading.
    pub register_title: &'static str,
    pub register_lead: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub sex: &'static str,
    pub sex_male: &'static str,
    pub sex_female: &'static str,
    pub sex_unknown: &'static str,
    pub nationality: &'static str,
    pub nat_iranian: &'static str,
    pub nat_afghan: &'static str,
    pub nat_pakistani: &'static str,
    pub nat_iraqi: &'static str,
    pub nat_other: &'static str,
    pub nat_stateless: &'static str,
    pub nat_unknown: &'static str,
    pub estimated_age: &'static str,
    pub photo: &'static str,
    pub iris_left: &'static str,
    pub iris_right: &'static str,
    pub optional: &'static str,
    pub register_submit: &'static str,
    pub saving: &'static str,
    /// `{}` is the child's name.
    pub queued: &'static str,
    pub unnamed: &'static str,
    pub bad_age: &'static str,
    pub name_too_long: &'static str,
    pub store_failed: &'static str,
    /// `{}` is a count.
    pub sync_pending: &'static str,
    pub sync_none: &'static str,
    /// `{}` is a time.
    pub sync_last: &'static str,
    pub sync_never: &'static str,
    pub sync_offline: &'static str,
    pub sync_running: &'static str,
    pub sync_now: &'static str,
    pub sync_error_network: &'static str,
    /// `{}` is the HTTP status.
    pub sync_error_server: &'static str,
    pub sync_error_auth: &'static str,
    pub outbox_title: &'static str,
    pub state_pending: &'static str,
    pub state_done: &'static str,
    pub state_conflict: &'static str,
    pub state_failed: &'static str,
    pub registry_code: &'static str,
    pub identity_pending: &'static str,
    pub candidates: &'static str,
    /// `{}` is a registry code or name.
    pub conflict_stored: &'static str,
    pub add_encounter: &'static str,
    pub encounter_label: &'static str,
    pub encounter_queued: &'static str,
    pub no_position: &'static str,
    /// `{}` is a count of items the server refused.
    pub sync_refused: &'static str,
}

/// The active string table.
pub fn t() -> &'static Strings {
    &fa::FA
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

/// Writes `n` with Persian digits (۰–۹), as Persian text expects.
pub fn digits(n: u32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32('۰' as u32 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}
