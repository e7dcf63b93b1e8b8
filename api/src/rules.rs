//! The rules a child's facts must meet, in one place for both sides: the
//! server refuses a record that breaks one (422 naming the field), and the
//! PWA checks its forms by the same code before it queues a write, so a
//! record edited offline is not refused hours later for a rule the phone
//! did not know.
//!
//! [`child_facts`] returns every broken rule at once, as [`Broken`] (the
//! field's path and the [`Rule`]). The server words them with
//! [`Rule::message`]; the PWA in the worker's language.
//!
//! Nothing here reads a clock: the caller says what today is ([`Today`]).

use crate::children::{BirthPrecision, ChildFacts};

/// The longest name, alias or guardian's name.
pub const MAX_NAME: usize = 100;
/// The most aliases a record keeps.
pub const MAX_ALIASES: usize = 20;
/// The longest free-text note (an encounter's).
pub const MAX_NOTES: usize = 4000;
/// The longest guardian's relation («مادر», «عمو»).
pub const MAX_RELATION: usize = 50;
/// Births and estimated ages reach back this many years.
pub const MAX_AGE_YEARS: i32 = 25;

/// A rule a field breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Present but only spaces: leave it out instead.
    Blank,
    /// More characters than this.
    TooLong(usize),
    /// A control character (a line break in a name).
    ControlCharacters,
    TooManyAliases,
    NotADate,
    DateInFuture,
    DateTooEarly,
    /// Required by the birth's precision.
    Required(BirthPrecision),
    YearOutOfRange,
    AgeOutOfRange,
    NationalCode,
    ForeignId,
    Phone,
    NotATime,
    TimeInFuture,
    ProvinceCode,
    CountyCode,
}

impl Rule {
    /// The rule in the API's words (English), as a problem's field error.
    pub fn message(self) -> String {
        match self {
            Rule::Blank => "must not be blank; leave it out instead".into(),
            Rule::TooLong(max) => format!("must be at most {max} characters"),
            Rule::ControlCharacters => "must not contain control characters".into(),
            Rule::TooManyAliases => format!("at most {MAX_ALIASES} aliases"),
            Rule::NotADate => "must be a date YYYY-MM-DD".into(),
            Rule::DateInFuture => "must not be in the future".into(),
            Rule::DateTooEarly => "is implausibly early".into(),
            Rule::Required(precision) => format!(
                "is required when precision is {}",
                match precision {
                    BirthPrecision::Exact => "exact",
                    BirthPrecision::Year => "year",
                    BirthPrecision::Estimated => "estimated",
                }
            ),
            Rule::YearOutOfRange => format!("must be within the last {MAX_AGE_YEARS} years"),
            Rule::AgeOutOfRange => format!("must be 0–{MAX_AGE_YEARS}"),
            Rule::NationalCode => {
                "is not a valid national code (10 digits with a correct check digit)".into()
            }
            Rule::ForeignId => "must be 4–20 letters, digits or '-'".into(),
            Rule::Phone => "must be 7–15 digits, optionally starting with +".into(),
            Rule::NotATime => "must be an RFC 3339 time".into(),
            Rule::TimeInFuture => "must not be in the future".into(),
            Rule::ProvinceCode => "must be an ISO 3166-2 code from IR-00 to IR-30".into(),
            Rule::CountyCode => "must be a county code".into(),
        }
    }
}

/// A broken rule and the field that breaks it (`birth.date`, `aliases[2]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub field: String,
    pub rule: Rule,
}

/// What today is, for the rules about the past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Today {
    /// Gregorian year, month (1–12) and day.
    pub date: (i32, u8, u8),
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
}

/// Every rule `f` breaks; empty when it is a record the server keeps.
/// `parse_time` reads an RFC 3339 time to epoch milliseconds (each side has
/// its own clock library).
pub fn child_facts(
    f: &ChildFacts,
    today: Today,
    parse_time: impl Fn(&str) -> Option<i64>,
) -> Vec<Broken> {
    let mut out = Out::default();
    text(&mut out, "given_name", f.given_name.as_deref(), MAX_NAME);
    text(&mut out, "family_name", f.family_name.as_deref(), MAX_NAME);
    text(&mut out, "father_name", f.father_name.as_deref(), MAX_NAME);
    out.check(
        f.aliases.len() <= MAX_ALIASES,
        "aliases",
        Rule::TooManyAliases,
    );
    for (i, alias) in f.aliases.iter().enumerate() {
        text(&mut out, &format!("aliases[{i}]"), Some(alias), MAX_NAME);
    }
    if let Some(birth) = &f.birth {
        let (year, ..) = today.date;
        let required = Rule::Required(birth.precision);
        match birth.precision {
            BirthPrecision::Exact => match birth.date.as_deref().map(parse_date) {
                Some(Some(d)) => {
                    out.check(d <= today.date, "birth.date", Rule::DateInFuture);
                    out.check(
                        d.0 >= year - MAX_AGE_YEARS,
                        "birth.date",
                        Rule::DateTooEarly,
                    );
                }
                Some(None) => out.add("birth.date", Rule::NotADate),
                None => out.add("birth.date", required),
            },
            BirthPrecision::Year => match birth.year {
                Some(y) => out.check(
                    (year - MAX_AGE_YEARS..=year).contains(&y),
                    "birth.year",
                    Rule::YearOutOfRange,
                ),
                None => out.add("birth.year", required),
            },
            BirthPrecision::Estimated => match birth.estimated_age {
                Some(a) => out.check(
                    i32::from(a) <= MAX_AGE_YEARS,
                    "birth.estimated_age",
                    Rule::AgeOutOfRange,
                ),
                None => out.add("birth.estimated_age", required),
            },
        }
    }
    if let Some(code) = &f.national_code {
        out.check(
            is_valid_national_code(code),
            "national_code",
            Rule::NationalCode,
        );
    }
    if let Some(id) = &f.foreign_id {
        out.check(is_foreign_id(id), "foreign_id", Rule::ForeignId);
    }
    if let Some(g) = &f.guardian {
        text(&mut out, "guardian.name", g.name.as_deref(), MAX_NAME);
        text(
            &mut out,
            "guardian.relation",
            g.relation.as_deref(),
            MAX_RELATION,
        );
        if let Some(phone) = &g.phone {
            out.check(is_phone(phone), "guardian.phone", Rule::Phone);
        }
    }
    if let Some(c) = &f.consent {
        text(&mut out, "consent.given_by", Some(&c.given_by), MAX_NAME);
        match parse_time(&c.given_at) {
            Some(at) => out.check(
                at <= today.now_ms + 60_000,
                "consent.given_at",
                Rule::TimeInFuture,
            ),
            None => out.add("consent.given_at", Rule::NotATime),
        }
    }
    out.check(
        is_province_code(&f.home_province),
        "home_province",
        Rule::ProvinceCode,
    );
    if let Some(county) = &f.home_county {
        out.check(is_county_code(county), "home_county", Rule::CountyCode);
    }
    out.0
}

/// The rules of a free text: not blank, at most `max` characters, no
/// control characters (line breaks and tabs allowed in notes).
pub fn text_rules(value: &str, max: usize) -> Vec<Rule> {
    let allowed = |c: char| max == MAX_NOTES && matches!(c, '\n' | '\r' | '\t');
    let mut broken = Vec::new();
    if value.trim().is_empty() {
        broken.push(Rule::Blank);
    }
    if value.chars().count() > max {
        broken.push(Rule::TooLong(max));
    }
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        broken.push(Rule::ControlCharacters);
    }
    broken
}

/// Validates an Iranian national code (کد ملی): ten digits, the last a check
/// digit over the first nine; codes of one repeated digit are not issued.
pub fn is_valid_national_code(code: &str) -> bool {
    if code.len() != 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let d: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
    if d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let sum: u32 = (0..9).map(|i| d[i] * (10 - i as u32)).sum();
    let r = sum % 11;
    let check = d[9];
    if r < 2 { check == r } else { check == 11 - r }
}

/// An Amayesh card or passport number: 4–20 letters, digits or '-'.
pub fn is_foreign_id(id: &str) -> bool {
    (4..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A phone number as the registry keeps it: 7–15 digits, optionally after +.
pub fn is_phone(phone: &str) -> bool {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// ISO 3166-2:IR province codes, `IR-00` to `IR-30`.
pub fn is_province_code(code: &str) -> bool {
    code.strip_prefix("IR-")
        .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| n <= 30)
}

/// County codes are short identifiers from the deployer's boundary files.
pub fn is_county_code(code: &str) -> bool {
    (1..=16).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A Gregorian `YYYY-MM-DD` that exists (no 31 April, 29 February only in
/// leap years), as (year, month, day).
pub fn parse_date(value: &str) -> Option<(i32, u8, u8)> {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |part: &str| {
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse::<i32>().ok())
            .flatten()
    };
    let (y, m, d) = (
        number(&value[..4])?,
        number(&value[5..7])?,
        number(&value[8..])?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    ((1..=days).contains(&d)).then_some((y, m as u8, d as u8))
}

/// The broken rules gathered in field order.
#[derive(Default)]
struct Out(Vec<Broken>);

impl Out {
    fn add(&mut self, field: &str, rule: Rule) {
        self.0.push(Broken {
            field: field.to_owned(),
            rule,
        });
    }

    fn check(&mut self, ok: bool, field: &str, rule: Rule) {
        if !ok {
            self.add(field, rule);
        }
    }
}

fn text(out: &mut Out, field: &str, value: Option<&str>, max: usize) {
    for rule in value.map(|v| text_rules(v, max)).unwrap_or_default() {
        out.add(field, rule);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::children::{Birth, Consent, Guardian, Nationality, Sex};

    const TODAY: Today = Today {
        date: (2026, 12, 7),
        now_ms: 1_796_601_600_000,
    };

    fn facts() -> ChildFacts {
        ChildFacts {
            given_name: Some("Reza".into()),
            family_name: None,
            father_name: None,
            aliases: Vec::new(),
            sex: Sex::Male,
            birth: None,
            nationality: Nationality::Iranian,
            languages: Vec::new(),
            national_code: None,
            foreign_id: None,
            work_types: Vec::new(),
            living_situation: None,
            school_status: None,
            risk_flags: Vec::new(),
            guardian: None,
            consent: None,
            home_province: "IR-23".into(),
            home_county: None,
            assigned_worker: None,
        }
    }

    fn broken(f: &ChildFacts) -> Vec<(String, Rule)> {
        child_facts(f, TODAY, |t| (t == "2026-12-01T10:00:00Z").then_some(0))
            .into_iter()
            .map(|b| (b.field, b.rule))
            .collect()
    }

    #[test]
    fn a_good_record_breaks_nothing() {
        let mut f = facts();
        f.national_code = Some("0499370899".into());
        f.birth = Some(Birth {
            precision: BirthPrecision::Exact,
            date: Some("2016-02-29".into()),
            year: None,
            estimated_age: None,
        });
        f.consent = Some(Consent {
            given_by: "self".into(),
            given_at: "2026-12-01T10:00:00Z".into(),
            child_assent: true,
        });
        assert_eq!(broken(&f), Vec::new());
    }

    #[test]
    fn every_bad_field_is_named_with_its_rule() {
        let mut f = facts();
        f.given_name = Some("  ".into());
        f.family_name = Some("x".repeat(101));
        f.father_name = Some("a\nb".into());
        f.aliases = vec!["ok".into(); 21];
        f.birth = Some(Birth {
            precision: BirthPrecision::Exact,
            date: Some("2026-02-30".into()),
            year: None,
            estimated_age: None,
        });
        f.national_code = Some("0499370898".into());
        f.foreign_id = Some("ab".into());
        f.guardian = Some(Guardian {
            name: None,
            relation: None,
            phone: Some("12-34".into()),
        });
        f.consent = Some(Consent {
            given_by: "self".into(),
            given_at: "yesterday".into(),
            child_assent: false,
        });
        f.home_province = "IR-31".into();
        f.home_county = Some("a county".into());
        let fields: Vec<(String, Rule)> = broken(&f);
        assert_eq!(
            fields,
            vec![
                ("given_name".into(), Rule::Blank),
                ("family_name".into(), Rule::TooLong(100)),
                ("father_name".into(), Rule::ControlCharacters),
                ("aliases".into(), Rule::TooManyAliases),
                ("birth.date".into(), Rule::NotADate),
                ("national_code".into(), Rule::NationalCode),
                ("foreign_id".into(), Rule::ForeignId),
                ("guardian.phone".into(), Rule::Phone),
                ("consent.given_at".into(), Rule::NotATime),
                ("home_province".into(), Rule::ProvinceCode),
                ("home_county".into(), Rule::CountyCode),
            ]
        );
    }

    #[test]
    fn births_by_precision() {
        let birth = |precision, date: Option<&str>, year, age| Birth {
            precision,
            date: date.map(str::to_owned),
            year,
            estimated_age: age,
        };
        let cases = [
            (
                birth(BirthPrecision::Exact, Some("2026-12-08"), None, None),
                Some(("birth.date", Rule::DateInFuture)),
            ),
            (
                birth(BirthPrecision::Exact, Some("2000-01-01"), None, None),
                Some(("birth.date", Rule::DateTooEarly)),
            ),
            (
                birth(BirthPrecision::Exact, None, None, None),
                Some(("birth.date", Rule::Required(BirthPrecision::Exact))),
            ),
            (
                birth(BirthPrecision::Year, None, Some(2000), None),
                Some(("birth.year", Rule::YearOutOfRange)),
            ),
            (birth(BirthPrecision::Year, None, Some(2001), None), None),
            (
                birth(BirthPrecision::Year, None, Some(2027), None),
                Some(("birth.year", Rule::YearOutOfRange)),
            ),
            (
                birth(BirthPrecision::Year, None, None, None),
                Some(("birth.year", Rule::Required(BirthPrecision::Year))),
            ),
            (
                birth(BirthPrecision::Estimated, None, None, Some(26)),
                Some(("birth.estimated_age", Rule::AgeOutOfRange)),
            ),
            (birth(BirthPrecision::Estimated, None, None, Some(25)), None),
        ];
        for (b, expected) in cases {
            let mut f = facts();
            f.birth = Some(b.clone());
            let want: Vec<(String, Rule)> = expected
                .into_iter()
                .map(|(field, rule)| (field.to_owned(), rule))
                .collect();
            assert_eq!(broken(&f), want, "{b:?}");
        }
    }

    #[test]
    fn codes_and_dates() {
        assert!(is_valid_national_code("0499370899"));
        assert!(is_valid_national_code("0790419904"));
        assert!(!is_valid_national_code("0499370898"));
        assert!(!is_valid_national_code("1111111111"));
        assert!(!is_valid_national_code("049937089"));
        assert!(is_phone("+989121234567") && !is_phone("0912 123") && !is_phone("+"));
        assert!(
            is_province_code("IR-00") && is_province_code("IR-30") && !is_province_code("IR-3")
        );
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2100-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("2026-1-01"), None);
        assert_eq!(parse_date("+026-01-01"), None);
    }

    #[test]
    fn messages_say_the_limits() {
        assert_eq!(Rule::TooLong(50).message(), "must be at most 50 characters");
        assert_eq!(
            Rule::Required(BirthPrecision::Year).message(),
            "is required when precision is year"
        );
        assert_eq!(Rule::AgeOutOfRange.message(), "must be 0–25");
    }
}
