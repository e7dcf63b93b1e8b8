//! Days and the periods made of them, as the atlas counts them.
//!
//! A *day* is a number: days since 1970-01-01 **in Asia/Tehran time**, so an
//! encounter at 23:50 in Tehran counts on that Tehran day whatever the
//! server's clock zone. Iran has kept UTC+03:30 all year since it abolished
//! daylight saving time in 2022 (the atlas's data begins after that), so the
//! conversion is one fixed offset, [`TEHRAN_OFFSET_MS`], with no zone database.
//!
//! Buckets group days for the time series: Gregorian days and months, ISO
//! weeks (Monday first), Jalali weeks (Saturday first, as in Iran) and Jalali
//! months. The Jalali calendar arithmetic is the registry's
//! ([`crate::registry::codes::gregorian_to_jalali`]), not a second copy.

use crate::registry::codes::gregorian_to_jalali;

/// Iran Standard Time, UTC+03:30, without daylight saving since 2022.
pub use crate::registry::codes::IRAN_OFFSET_MS as TEHRAN_OFFSET_MS;
const DAY_MS: i64 = 86_400_000;
/// 1970-01-01 as a Julian day number.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// The Tehran day of a moment (milliseconds since the epoch).
pub fn day_of(ms: i64) -> i64 {
    (ms + TEHRAN_OFFSET_MS).div_euclid(DAY_MS)
}

/// The first moment of a Tehran day.
pub fn day_start_ms(day: i64) -> i64 {
    day * DAY_MS - TEHRAN_OFFSET_MS
}

/// The Gregorian date of a day.
pub fn date(day: i64) -> time::Date {
    time::Date::from_julian_day((day + UNIX_EPOCH_JULIAN_DAY) as i32).unwrap_or(time::Date::MIN)
}

/// The day of a Gregorian date.
pub fn day_of_date(d: time::Date) -> i64 {
    i64::from(d.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY
}

/// Parses `YYYY-MM-DD` (a Tehran calendar day).
pub fn parse_day(s: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).ok().map(day_of_date)
}

/// `YYYY-MM-DD` of a day.
pub fn format_day(day: i64) -> String {
    let d = date(day);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The Jalali date (year, month, day) of a day.
pub fn jalali(day: i64) -> (i32, u32, u32) {
    let d = date(day);
    gregorian_to_jalali(d.year(), u32::from(u8::from(d.month())), u32::from(d.day()))
}

/// How the time series groups days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// ISO 8601 weeks, Monday first.
    Week,
    /// Gregorian months.
    Month,
    /// Jalali weeks, Saturday first.
    JWeek,
    /// Jalali months.
    JMonth,
}

impl Bucket {
    pub fn parse(s: &str) -> Option<Bucket> {
        Some(match s {
            "day" => Bucket::Day,
            "week" => Bucket::Week,
            "month" => Bucket::Month,
            "jweek" => Bucket::JWeek,
            "jmonth" => Bucket::JMonth,
            _ => return None,
        })
    }

    /// The first day of the bucket holding `day`.
    pub fn start(self, day: i64) -> i64 {
        match self {
            Bucket::Day => day,
            // 1970-01-01 was a Thursday: three days after a Monday, five
            // after a Saturday.
            Bucket::Week => day - (day + 3).rem_euclid(7),
            Bucket::JWeek => day - (day + 5).rem_euclid(7),
            Bucket::Month => day - i64::from(date(day).day()) + 1,
            Bucket::JMonth => day - i64::from(jalali(day).2) + 1,
        }
    }

    /// The first days of the buckets that meet `[from, to]`, in order (the
    /// first may begin before `from`).
    pub fn starts(self, from: i64, to: i64) -> Vec<i64> {
        let mut starts = Vec::new();
        let mut start = self.start(from);
        while start <= to {
            starts.push(start);
            // The next bucket begins after this one's last day; months are
            // at most 31 days, so 32 days on lands in the next one.
            start = match self {
                Bucket::Day => start + 1,
                Bucket::Week | Bucket::JWeek => start + 7,
                Bucket::Month | Bucket::JMonth => self.start(start + 32),
            };
        }
        starts
    }

    /// The bucket's label: `2026-12-06`, ISO `2026-W49`, `2026-12`, a Jalali
    /// week by its Saturday `1405-09-15`, a Jalali month `1405-09`.
    pub fn label(self, start: i64) -> String {
        match self {
            Bucket::Day => format_day(start),
            Bucket::Week => {
                let (year, week, _) = date(start).to_iso_week_date();
                format!("{year:04}-W{week:02}")
            }
            Bucket::Month => format_day(start)[..7].to_string(),
            Bucket::JWeek => {
                let (y, m, d) = jalali(start);
                format!("{y:04}-{m:02}-{d:02}")
            }
            Bucket::JMonth => {
                let (y, m, _) = jalali(start);
                format!("{y:04}-{m:02}")
            }
        }
    }
}

/// The periods the rollups keep totals for (see [`super::totals`]): days,
/// Jalali weeks (Saturday first) and Jalali months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Day,
    Week,
    Month,
}

impl Grain {
    pub const ALL: [Grain; 3] = [Grain::Day, Grain::Week, Grain::Month];

    /// As stored: `d`, `w`, `m`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "d",
            Grain::Week => "w",
            Grain::Month => "m",
        }
    }

    pub fn parse(s: &str) -> Option<Grain> {
        Grain::ALL.into_iter().find(|g| g.as_str() == s)
    }

    fn bucket(self) -> Bucket {
        match self {
            Grain::Day => Bucket::Day,
            Grain::Week => Bucket::JWeek,
            Grain::Month => Bucket::JMonth,
        }
    }

    /// The first day of the period holding `day`.
    pub fn start(self, day: i64) -> i64 {
        self.bucket().start(day)
    }

    /// The last day of the period beginning on `start`.
    pub fn last(self, start: i64) -> i64 {
        match self {
            Grain::Day => start,
            Grain::Week => start + 6,
            Grain::Month => Bucket::JMonth.start(start + 32) - 1,
        }
    }
}

/// `[from, to]` as whole periods, in order, few of them: Jalali months
/// where they fit whole, Jalali weeks where they fit whole and do not run
/// past the start of a month that fits, days for the rest. A year is about
/// a dozen months, at most four weeks and six days before them and as many
/// after: under forty periods instead of 365 days.
pub fn pieces(from: i64, to: i64) -> Vec<(Grain, i64)> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let fits = |g: Grain| g.start(day) == day && g.last(day) <= to;
        let next_month = Grain::Month.last(Grain::Month.start(day)) + 1;
        let month_ahead =
            next_month <= Grain::Week.last(day) && Grain::Month.last(next_month) <= to;
        let grain = if fits(Grain::Month) {
            Grain::Month
        } else if fits(Grain::Week) && !month_ahead {
            Grain::Week
        } else {
            Grain::Day
        };
        out.push((grain, day));
        day = grain.last(day) + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tehran_days_begin_at_half_past_three_utc_the_day_before() {
        // 2026-03-20T20:29:59Z is 23:59:59 in Tehran; a second later is the
        // next Tehran day (Nowruz 1405).
        let before = crate::rfc3339_to_ms("2026-03-20T20:29:59Z").unwrap();
        let nowruz = day_of(before + 1000);
        assert_eq!(day_of(before) + 1, nowruz);
        assert_eq!(format_day(nowruz), "2026-03-21");
        assert_eq!(jalali(nowruz), (1405, 1, 1));
        assert_eq!(day_start_ms(nowruz), before + 1000);
        assert_eq!(parse_day("2026-03-21"), Some(nowruz));
        assert_eq!(parse_day("2026-02-30"), None);
    }

    #[test]
    fn weeks_start_on_monday_iso_and_saturday_jalali() {
        let sunday = parse_day("2026-12-06").unwrap();
        assert_eq!(format_day(Bucket::Week.start(sunday)), "2026-11-30");
        assert_eq!(Bucket::Week.label(Bucket::Week.start(sunday)), "2026-W49");
        assert_eq!(format_day(Bucket::JWeek.start(sunday)), "2026-12-05");
        let saturday = parse_day("2026-12-05").unwrap();
        assert_eq!(Bucket::JWeek.start(saturday), saturday);
        assert_eq!(Bucket::JWeek.label(saturday), "1405-09-14");
    }

    #[test]
    fn months_gregorian_and_jalali() {
        let d = parse_day("2026-12-06").unwrap();
        assert_eq!(format_day(Bucket::Month.start(d)), "2026-12-01");
        // 1 Azar 1405 is 2026-11-22.
        assert_eq!(format_day(Bucket::JMonth.start(d)), "2026-11-22");
        assert_eq!(Bucket::JMonth.label(d), "1405-09");
        let from = parse_day("2026-03-01").unwrap();
        let to = parse_day("2026-05-31").unwrap();
        let labels: Vec<String> = Bucket::JMonth
            .starts(from, to)
            .into_iter()
            .map(|s| Bucket::JMonth.label(s))
            .collect();
        assert_eq!(labels, ["1404-12", "1405-01", "1405-02", "1405-03"]);
        assert_eq!(Bucket::Month.starts(from, to).len(), 3);
    }

    #[test]
    fn pieces_cover_a_range_once_with_few_periods() {
        let first = parse_day("2025-01-01").unwrap();
        // Every range of up to 400 days starting in the first 40 days.
        for from in first..first + 40 {
            for to in from..from + 400 {
                let pieces = pieces(from, to);
                let mut next = from;
                for (grain, start) in &pieces {
                    assert_eq!(*start, next, "{from}..{to}: {pieces:?}");
                    assert_eq!(grain.start(*start), *start, "a whole period");
                    next = grain.last(*start) + 1;
                }
                assert_eq!(next, to + 1, "{from}..{to} ends where the range does");
                assert!(pieces.len() <= 13 + 2 * (4 + 6 + 6), "{}", pieces.len());
            }
        }
        // A Jalali month is one piece; a year from a month's start is twelve.
        let farvardin = parse_day("2026-03-21").unwrap();
        assert_eq!(
            pieces(farvardin, farvardin + 30),
            [(Grain::Month, farvardin)]
        );
        let year = pieces(farvardin, parse_day("2027-03-20").unwrap());
        assert_eq!(year.len(), 12);
        assert!(year.iter().all(|(g, _)| *g == Grain::Month));
        assert_eq!(Grain::parse("w"), Some(Grain::Week));
    }
}
