//! Validation of child facts and encounters: every bad field is named.

use kudakyar_api::children::{BirthPrecision, ChildFacts, NewEncounter};

use super::codes::is_valid_national_code;
use crate::error::{Result, Validator};
use crate::geo::{is_county_code, is_province_code};

pub const MAX_NAME: usize = 100;
pub const MAX_ALIASES: usize = 20;
pub const MAX_NOTES: usize = 4000;

fn text(v: &mut Validator, field: &str, value: Option<&str>, max: usize) {
    if let Some(value) = value {
        v.check(
            !value.trim().is_empty(),
            field,
            "must not be blank; leave it out instead",
        );
        v.check(
            value.chars().count() <= max,
            field,
            &format!("must be at most {max} characters"),
        );
        // Line breaks and tabs belong in notes, never in names.
        let allowed = |c: char| max == MAX_NOTES && matches!(c, '\n' | '\r' | '\t');
        v.check(
            !value.chars().any(|c| c.is_control() && !allowed(c)),
            field,
            "must not contain control characters",
        );
    }
}

fn date(value: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, format).ok()
}

/// Checks child facts; `now_ms` bounds dates that cannot be in the future.
pub fn facts(f: &ChildFacts, now_ms: i64) -> Result<()> {
    let mut v = Validator::new();
    let today = time::OffsetDateTime::from_unix_timestamp(now_ms / 1000)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    text(&mut v, "given_name", f.given_name.as_deref(), MAX_NAME);
    text(&mut v, "family_name", f.family_name.as_deref(), MAX_NAME);
    text(&mut v, "father_name", f.father_name.as_deref(), MAX_NAME);
    v.check(
        f.aliases.len() <= MAX_ALIASES,
        "aliases",
        "at most 20 aliases",
    );
    for (i, alias) in f.aliases.iter().enumerate() {
        text(&mut v, &format!("aliases[{i}]"), Some(alias), MAX_NAME);
    }
    if let Some(birth) = &f.birth {
        match birth.precision {
            BirthPrecision::Exact => match birth.date.as_deref().map(date) {
                Some(Some(d)) => {
                    v.check(d <= today, "birth.date", "must not be in the future");
                    v.check(
                        d.year() >= today.year() - 25,
                        "birth.date",
                        "is implausibly early",
                    );
                }
                Some(None) => v.add("birth.date", "must be a date YYYY-MM-DD"),
                None => v.add("birth.date", "is required when precision is exact"),
            },
            BirthPrecision::Year => match birth.year {
                Some(y) => v.check(
                    (today.year() - 25..=today.year()).contains(&y),
                    "birth.year",
                    "must be within the last 25 years",
                ),
                None => v.add("birth.year", "is required when precision is year"),
            },
            BirthPrecision::Estimated => match birth.estimated_age {
                Some(a) => v.check(a <= 25, "birth.estimated_age", "must be 0–25"),
                None => v.add(
                    "birth.estimated_age",
                    "is required when precision is estimated",
                ),
            },
        };
    }
    if let Some(code) = &f.national_code {
        v.check(
            is_valid_national_code(code),
            "national_code",
            "is not a valid national code (10 digits with a correct check digit)",
        );
    }
    if let Some(id) = &f.foreign_id {
        v.check(
            (4..=20).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "foreign_id",
            "must be 4–20 letters, digits or '-'",
        );
    }
    if let Some(g) = &f.guardian {
        text(&mut v, "guardian.name", g.name.as_deref(), MAX_NAME);
        text(&mut v, "guardian.relation", g.relation.as_deref(), 50);
        if let Some(phone) = &g.phone {
            let digits = phone.trim_start_matches('+');
            v.check(
                (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
                "guardian.phone",
                "must be 7–15 digits, optionally starting with +",
            );
        }
    }
    if let Some(c) = &f.consent {
        text(&mut v, "consent.given_by", Some(&c.given_by), MAX_NAME);
        match crate::rfc3339_to_ms(&c.given_at) {
            Some(at) => v.check(
                at <= now_ms + 60_000,
                "consent.given_at",
                "must not be in the future",
            ),
            None => v.add("consent.given_at", "must be an RFC 3339 time"),
        };
    }
    v.check(
        is_province_code(&f.home_province),
        "home_province",
        "must be an ISO 3166-2 code from IR-00 to IR-30",
    );
    if let Some(county) = &f.home_county {
        v.check(
            is_county_code(county),
            "home_county",
            "must be a county code",
        );
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
            date(d).is_some(),
            "next_follow_up",
            "must be a date YYYY-MM-DD",
        );
    }
    crate::indicators::verification::validate(e, &mut v);
    v.finish()
}
