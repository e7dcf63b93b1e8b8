//! Validation of child facts and encounters: every bad field is named.

use kudakyar_api::children::{ChildFacts, NewEncounter};
use kudakyar_api::rules::{self, MAX_NOTES};

use crate::error::{Result, Validator};

pub use kudakyar_api::rules::MAX_ALIASES;

fn text(v: &mut Validator, field: &str, value: Option<&str>, max: usize) {
    for rule in value.map(|v| rules::text_rules(v, max)).unwrap_or_default() {
        v.add(field, &rule.message());
    }
}

/// Checks child facts by the rules the PWA checks its forms with
/// ([`kudakyar_api::rules`]); `now_ms` bounds dates that cannot be in the
/// future.
pub fn facts(f: &ChildFacts, now_ms: i64) -> Result<()> {
    let date = time::OffsetDateTime::from_unix_timestamp(now_ms / 1000)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    let today = rules::Today {
        date: (date.year(), u8::from(date.month()), date.day()),
        now_ms,
    };
    let mut v = Validator::new();
    for broken in rules::child_facts(f, today, crate::rfc3339_to_ms) {
        v.add(&broken.field, &broken.rule.message());
    }
    v.finish()
}

/// Checks an encounter.
pub fn encounter(e: &NewEncounter, now_ms: i64) -> Result<()> {
    let mut v = Validator::new();
    match crate::rfc3339_to_ms(&e.at) {
        Some(at) => v.check(at <= now_ms + 5 * 60_000, "at", "must not be in the future"),
        None => v.add("at", "must be an RFC 3339 time"),
    };
    crate::geo::check_position(&mut v, e.lat, e.lng);
    if let Some(a) = e.accuracy_m {
        v.check(
            a.is_finite() && (0.0..=100_000.0).contains(&a),
            "accuracy_m",
            "must be 0–100000 metres",
        );
    }
    text(&mut v, "notes", e.notes.as_deref(), MAX_NOTES);
    if let Some(d) = &e.next_follow_up {
        v.check(
            rules::parse_date(d).is_some(),
            "next_follow_up",
            "must be a date YYYY-MM-DD",
        );
    }
    crate::indicators::verification::validate(e, &mut v);
    v.finish()
}
