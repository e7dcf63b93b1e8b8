//! Places: the codes of Iran's provinces and counties as the API takes them.
//! (The presence atlas grows this module: boundaries, point in polygon.)

/// Is this an ISO 3166-2 code of an Iranian province (`IR-00` … `IR-30`)?
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
