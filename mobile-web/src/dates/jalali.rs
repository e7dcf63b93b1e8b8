//! Gregorian ↔ Jalali (Solar Hijri) calendar conversion, in pure integer
//! arithmetic so it runs the same in the browser and in `cargo test`.
//!
//! The arithmetic is the well-known one of Kazimierz Borkowski as published
//! in `jalaali-js`: the 33-year cycles of leap years are placed by a table of
//! "break" years, which matches the astronomical calendar Iran uses between
//! Jalali years -61 and 3177. Julian day numbers tie both calendars together.

/// Break years of the leap cycles.
const BREAKS: [i64; 20] = [
    -61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324,
    2394, 2456, 3178,
];

/// A calendar date: year, month (1–12), day (1–31).
pub type Ymd = (i64, i64, i64);

/// For Jalali year `jy`: (years since the last leap year, 0 meaning leap;
/// the Gregorian day in March on which Farvardin 1 falls). `None` outside
/// the table's range.
fn jal_cal(jy: i64) -> Option<(i64, i64)> {
    if jy < BREAKS[0] || jy >= BREAKS[BREAKS.len() - 1] {
        return None;
    }
    let gy = jy + 621;
    let mut leap_j = -14;
    let mut jp = BREAKS[0];
    let mut jump = 0;
    for &jm in &BREAKS[1..] {
        jump = jm - jp;
        if jy < jm {
            break;
        }
        leap_j += jump / 33 * 8 + (jump % 33) / 4;
        jp = jm;
    }
    let mut n = jy - jp;
    leap_j += n / 33 * 8 + ((n % 33) + 3) / 4;
    if jump % 33 == 4 && jump - n == 4 {
        leap_j += 1;
    }
    let leap_g = gy / 4 - ((gy / 100 + 1) * 3) / 4 - 150;
    let march = 20 + leap_j - leap_g;
    if jump - n < 6 {
        n = n - jump + (jump + 4) / 33 * 33;
    }
    let mut leap = (((n + 1) % 33) - 1) % 4;
    if leap == -1 {
        leap = 4;
    }
    Some((leap, march))
}

/// Julian day number of a Gregorian date.
fn g2d((gy, gm, gd): Ymd) -> i64 {
    let d = ((gy + (gm - 8) / 6 + 100_100) * 1461) / 4 + (153 * ((gm + 9) % 12) + 2) / 5 + gd
        - 34_840_408;
    d - ((gy + 100_100 + (gm - 8) / 6) / 100 * 3) / 4 + 752
}

/// Gregorian date of a Julian day number.
fn d2g(jdn: i64) -> Ymd {
    let mut j = 4 * jdn + 139_361_631;
    j += (4 * jdn + 183_187_720) / 146_097 * 3 / 4 * 4 - 3908;
    let i = (j % 1461) / 4 * 5 + 308;
    let gd = (i % 153) / 5 + 1;
    let gm = (i / 153) % 12 + 1;
    let gy = j / 1461 - 100_100 + (8 - gm) / 6;
    (gy, gm, gd)
}

pub fn is_leap(jy: i64) -> bool {
    jal_cal(jy).is_some_and(|(leap, _)| leap == 0)
}

/// Days in Jalali month `jm` of year `jy`: 31 in the first six months, 30 in
/// the next five, 29 or 30 (leap years) in Esfand.
pub fn month_len(jy: i64, jm: i64) -> i64 {
    match jm {
        1..=6 => 31,
        7..=11 => 30,
        _ if is_leap(jy) => 30,
        _ => 29,
    }
}

/// The Jalali date of a Gregorian date.
pub fn to_jalali(g: Ymd) -> Option<Ymd> {
    let jdn = g2d(g);
    let gy = d2g(jdn).0;
    let mut jy = gy - 621;
    let (leap, march) = jal_cal(jy)?;
    let mut k = jdn - g2d((gy, 3, march));
    if k >= 0 {
        if k <= 185 {
            return Some((jy, 1 + k / 31, k % 31 + 1));
        }
        k -= 186;
    } else {
        jy -= 1;
        k += 179;
        if leap == 1 {
            k += 1;
        }
    }
    Some((jy, 7 + k / 30, k % 30 + 1))
}

/// The Gregorian date of a Jalali date; `None` for an impossible date.
pub fn to_gregorian((jy, jm, jd): Ymd) -> Option<Ymd> {
    if !(1..=12).contains(&jm) || jd < 1 || jd > month_len(jy, jm) {
        return None;
    }
    let (_, march) = jal_cal(jy)?;
    let jdn = g2d((jy + 621, 3, march)) + (jm - 1) * 31 - jm / 7 * (jm - 7) + jd - 1;
    Some(d2g(jdn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_new_years_days() {
        // Nowruz: 1 Farvardin, as published by the Iranian calendar centre.
        assert_eq!(to_jalali((2024, 3, 20)), Some((1403, 1, 1)));
        assert_eq!(to_jalali((2025, 3, 21)), Some((1404, 1, 1)));
        assert_eq!(to_jalali((2026, 3, 21)), Some((1405, 1, 1)));
        assert_eq!(to_gregorian((1403, 1, 1)), Some((2024, 3, 20)));
        // 1399 and 1403 are leap years: Esfand has 30 days.
        assert_eq!(to_jalali((2021, 3, 20)), Some((1399, 12, 30)));
        assert!(is_leap(1403) && !is_leap(1404));
        assert_eq!(to_gregorian((1404, 12, 30)), None);
        // Mid-year: 1 Mehr 1405 and Yalda (30 Azar).
        assert_eq!(to_jalali((2026, 9, 23)), Some((1405, 7, 1)));
        assert_eq!(to_jalali((2025, 12, 21)), Some((1404, 9, 30)));
    }

    #[test]
    fn round_trips_every_day_of_a_century() {
        let start = g2d((1950, 1, 1));
        for jdn in start..start + 365 * 100 {
            let g = d2g(jdn);
            assert_eq!(g2d(g), jdn);
            let j = to_jalali(g).unwrap();
            assert!(j.2 <= month_len(j.0, j.1), "{j:?}");
            assert_eq!(to_gregorian(j), Some(g), "{g:?} → {j:?}");
        }
    }
}
