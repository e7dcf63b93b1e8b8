//! Days and Jalali quarters as the indicators count them.
//!
//! A day is a Gregorian date in Iran's time zone (UTC+03:30, no daylight
//! saving since 2022): the figures of day `D` are the state at the end of it,
//! [`end_ms`]. A Jalali quarter (`1405-Q2`: Tir, Mordad, Shahrivar) is found
//! with the registry's own Gregorian → Jalali conversion
//! ([`crate::registry::codes::gregorian_to_jalali`]); Jalali months 1–6 have
//! 31 days and 7–11 have 30, so a quarter's first day is a fixed number of
//! days after Nowruz.

use time::{Date, Month, OffsetDateTime};

use crate::registry::codes::{IRAN_OFFSET_MS, gregorian_to_jalali, iran_offset};

const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD` → a date.
pub fn parse_day(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    (s.len() == 10).then_some(())?;
    Date::parse(s, format).ok()
}

pub fn day_string(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The first moment (ms) of a day in Iran.
pub fn start_ms(d: Date) -> i64 {
    let midnight_utc = d.midnight().assume_utc().unix_timestamp() * 1000;
    midnight_utc - IRAN_OFFSET_MS
}

/// The end of a day in Iran (exclusive): the moment its figures describe.
pub fn end_ms(d: Date) -> i64 {
    start_ms(d) + DAY_MS
}

/// The day in Iran of a moment.
pub fn day_of(ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(iran_offset())
        .date()
}

/// Today in Iran.
pub fn today() -> Date {
    day_of(crate::now_ms())
}

/// Jalali (year, month, day) of a Gregorian date.
pub fn jalali(d: Date) -> (i32, u32, u32) {
    gregorian_to_jalali(d.year(), u8::from(d.month()) as u32, u32::from(d.day()))
}

/// A Jalali year's quarter, `1405-Q2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1–4.
    pub q: u8,
}

impl Quarter {
    /// `YYYY-QN` with a Jalali year 1300–1500 and N 1–4.
    pub fn parse(s: &str) -> Option<Quarter> {
        let (y, q) = s.split_once("-Q")?;
        let ok =
            y.len() == 4 && q.len() == 1 && y.bytes().chain(q.bytes()).all(|b| b.is_ascii_digit());
        let (year, q): (i32, u8) = (y.parse().ok()?, q.parse().ok()?);
        (ok && (1300..=1500).contains(&year) && (1..=4).contains(&q)).then_some(Quarter { year, q })
    }

    /// The quarter a moment falls in (Iran's time).
    pub fn of_ms(ms: i64) -> Quarter {
        let (year, month, _) = jalali(day_of(ms));
        Quarter {
            year,
            q: ((month - 1) / 3 + 1) as u8,
        }
    }

    /// Its first day.
    pub fn first_day(self) -> Date {
        // Days from Farvardin 1 to the quarter's first month: 3×31 per
        // quarter in the first half of the year, then 3×30.
        let offset = [0, 93, 186, 276][usize::from(self.q - 1)];
        nowruz(self.year) + time::Duration::days(offset)
    }

    /// Its last day.
    pub fn last_day(self) -> Date {
        let next = if self.q == 4 {
            Quarter {
                year: self.year + 1,
                q: 1,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q + 1,
            }
        };
        next.first_day() - time::Duration::days(1)
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.q)
    }
}

/// Farvardin 1 of Jalali year `jy`: between 19 and 22 March of `jy + 621`.
fn nowruz(jy: i32) -> Date {
    let gy = jy + 621;
    (19..=22)
        .filter_map(|d| Date::from_calendar_date(gy, Month::March, d).ok())
        .find(|d| jalali(*d) == (jy, 1, 1))
        .unwrap_or_else(|| Date::from_calendar_date(gy, Month::March, 21).unwrap_or(Date::MIN))
}

/// A Jalali date as Persian text, `۱۴۰۵/۰۶/۳۱`.
pub fn jalali_text(d: Date) -> String {
    let (y, m, day) = jalali(d);
    persian_digits(&format!("{y}/{m:02}/{day:02}"))
}

/// Western digits → Persian digits.
pub fn persian_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(n) => char::from_u32('۰' as u32 + n).unwrap_or(c),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_span_their_jalali_months() {
        let q = Quarter::parse("1405-Q2").unwrap();
        assert_eq!(jalali(q.first_day()), (1405, 4, 1));
        assert_eq!(jalali(q.last_day()), (1405, 6, 31));
        let q4 = Quarter::parse("1404-Q4").unwrap();
        assert_eq!(jalali(q4.first_day()), (1404, 10, 1));
        assert_eq!(jalali(q4.last_day()), (1404, 12, 29));
        assert_eq!(Quarter::of_ms(start_ms(q.first_day())), q);
        assert_eq!(Quarter::of_ms(start_ms(q.first_day()) - 1).q, 1);
        for bad in [
            "1405-Q5", "1405-Q0", "1405Q2", "14O5-Q1", "1405-Q22", "905-Q1",
        ] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
        assert_eq!(jalali_text(q.first_day()), "۱۴۰۵/۰۴/۰۱");
    }

    #[test]
    fn a_day_ends_at_midnight_in_iran() {
        let d = parse_day("2026-12-06").unwrap();
        assert_eq!(crate::ms_to_rfc3339(end_ms(d)), "2026-12-06T20:30:00Z");
        assert_eq!(day_of(end_ms(d) - 1), d);
        assert_eq!(parse_day("2026-13-01"), None);
    }
}
