//! Identifiers with check digits: registry codes (national codes are in
//! `kudakyar_api::rules`, which the PWA shares), and
//! the Jalali year registry codes carry.
//!
//! A registry code (شماره پرونده) reads `PP-YYYY-SSSSSS-C`: the province number
//! of ISO 3166-2 `IR-PP`, the Jalali year of registration, a sequence per
//! province and year, and a Luhn check digit over the twelve digits before it,
//! so a mistyped digit is caught before any lookup.

/// Converts a Gregorian date to the Jalali (Solar Hijri) calendar.
/// The arithmetic algorithm of Borkowski as used by jalaali-js; exact for
/// 1600–2400 CE, far beyond anything a registry sees.
pub fn gregorian_to_jalali(gy: i32, gm: u32, gd: u32) -> (i32, u32, u32) {
    const DAYS_BEFORE_MONTH: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let (gy, gm, gd) = (i64::from(gy), i64::from(gm), i64::from(gd));
    let gy2 = if gm > 2 { gy + 1 } else { gy };
    let mut days = 355_666 + 365 * gy + (gy2 + 3) / 4 - (gy2 + 99) / 100
        + (gy2 + 399) / 400
        + gd
        + DAYS_BEFORE_MONTH[(gm - 1) as usize];
    let mut jy = -1595 + 33 * (days / 12_053);
    days %= 12_053;
    jy += 4 * (days / 1461);
    days %= 1461;
    if days > 365 {
        jy += (days - 1) / 365;
        days = (days - 1) % 365;
    }
    let (jm, jd) = if days < 186 {
        (1 + days / 31, 1 + days % 31)
    } else {
        (7 + (days - 186) / 30, 1 + (days - 186) % 30)
    };
    (jy as i32, jm as u32, jd as u32)
}

/// Iran Standard Time, UTC+03:30, in milliseconds: Iran has kept no
/// daylight saving since 2022. The one definition every Tehran day, Jalali
/// date and quiet hour is computed with.
pub const IRAN_OFFSET_MS: i64 = (3 * 3600 + 30 * 60) * 1000;

/// [`IRAN_OFFSET_MS`] as a `time` offset.
pub fn iran_offset() -> time::UtcOffset {
    time::UtcOffset::from_whole_seconds((IRAN_OFFSET_MS / 1000) as i32).expect("a valid offset")
}

/// The Jalali year of a moment given in milliseconds since the epoch, in
/// Iran's time zone (UTC+03:30), so that registrations just after midnight
/// on Nowruz get the new year.
pub fn jalali_year_at(ms: i64) -> i32 {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(iran_offset());
    gregorian_to_jalali(t.year(), u8::from(t.month()) as u32, u32::from(t.day())).0
}

/// The Luhn check digit for a string of digits.
fn luhn_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// Formats a registry code from its parts.
pub fn registry_code(province: &str, jalali_year: i32, sequence: i64) -> String {
    let number = province.strip_prefix("IR-").unwrap_or(province);
    let body = format!("{number}{jalali_year:04}{sequence:06}");
    format!(
        "{number}-{jalali_year:04}-{sequence:06}-{}",
        luhn_digit(&body)
    )
}

/// Is this a well-formed registry code with a correct check digit?
pub fn is_valid_registry_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('-').collect();
    let [p, y, s, c] = parts.as_slice() else {
        return false;
    };
    let all_digits = |x: &str, n: usize| x.len() == n && x.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(p, 2) && all_digits(y, 4) && all_digits(s, 6) && all_digits(c, 1)) {
        return false;
    }
    luhn_digit(&format!("{p}{y}{s}")) == c.parse::<u32>().unwrap_or(99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jalali_dates() {
        assert_eq!(
            gregorian_to_jalali(2026, 3, 21),
            (1405, 1, 1),
            "Nowruz 1405"
        );
        assert_eq!(gregorian_to_jalali(2026, 3, 20), (1404, 12, 29));
        assert_eq!(gregorian_to_jalali(2026, 11, 23), (1405, 9, 2));
        assert_eq!(gregorian_to_jalali(1979, 2, 11), (1357, 11, 22));
    }

    #[test]
    fn registry_codes_round_trip_and_catch_typos() {
        let code = registry_code("IR-23", 1405, 123);
        assert!(code.starts_with("23-1405-000123-"), "{code}");
        assert!(is_valid_registry_code(&code));
        let typo = code.replacen("000123", "000132", 1);
        assert!(!is_valid_registry_code(&typo), "transposition caught");
        let wrong_digit = code.replacen("23-", "24-", 1);
        assert!(!is_valid_registry_code(&wrong_digit));
        assert!(!is_valid_registry_code("23-1405-123-7"));
    }
}
