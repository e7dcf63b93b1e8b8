//! Validation of new users: every problem found is reported, by field.

use kudakyar_api::users::{NewUser, Role};

use crate::auth::password;
use crate::error::{Result, Validator};
use crate::geo::{is_county_code, is_province_code};

fn is_username(name: &str) -> bool {
    (3..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Checks a new user and returns it normalised (username lower-cased, blank
/// display name dropped).
pub fn new_user(mut new: NewUser) -> Result<NewUser> {
    new.username = new.username.trim().to_lowercase();
    new.display_name = new
        .display_name
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    let mut v = Validator::new();
    v.check(
        is_username(&new.username),
        "username",
        "must be 3–32 characters: latin letters, digits, '.', '_' or '-'",
    );
    let chars = new.password.chars().count();
    v.check(
        chars >= password::MIN_LENGTH,
        "password",
        "must be at least 10 characters",
    );
    v.check(chars <= 256, "password", "must be at most 256 characters");
    v.check(
        new.display_name
            .as_deref()
            .is_none_or(|d| d.chars().count() <= 100),
        "display_name",
        "must be at most 100 characters",
    );
    match (&new.role, &new.province) {
        (Role::NationalAdmin, Some(_)) => {
            v.add("province", "national admins have no province");
        }
        (Role::NationalAdmin, None) => {}
        (_, None) => v.add("province", "is required for this role"),
        (_, Some(p)) => {
            v.check(
                is_province_code(p),
                "province",
                "must be an ISO 3166-2 code from IR-00 to IR-30",
            );
        }
    }
    if let Some(county) = &new.county {
        v.check(
            is_county_code(county),
            "county",
            "must be a county code (1–16 letters or digits)",
        );
        v.check(new.province.is_some(), "county", "needs a province");
    }
    v.finish()?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn user(role: Role, province: Option<&str>) -> NewUser {
        NewUser {
            username: "Sara.K".into(),
            password: "long enough password".into(),
            display_name: None,
            role,
            province: province.map(String::from),
            county: None,
        }
    }

    fn fields(r: Result<NewUser>) -> Vec<String> {
        match r {
            Err(Error::Validation(e)) => e.keys().cloned().collect(),
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn province_codes() {
        assert!(is_province_code("IR-00"));
        assert!(is_province_code("IR-30"));
        assert!(!is_province_code("IR-31"));
        assert!(!is_province_code("IR-1"));
        assert!(!is_province_code("TR-01"));
    }

    #[test]
    fn normalises_and_accepts_a_good_user() {
        let u = new_user(user(Role::OutreachWorker, Some("IR-23"))).unwrap();
        assert_eq!(u.username, "sara.k");
    }

    #[test]
    fn reports_every_bad_field() {
        let mut u = user(Role::Supervisor, Some("IR-99"));
        u.password = "short".into();
        u.username = "a b".into();
        assert_eq!(fields(new_user(u)), ["password", "province", "username"]);
        assert_eq!(
            fields(new_user(user(Role::NationalAdmin, Some("IR-01")))),
            ["province"]
        );
        assert_eq!(
            fields(new_user(user(Role::OutreachWorker, None))),
            ["province"]
        );
    }
}

/// A phone as the user typed it → E.164, or the error naming field `phone`.
/// Spaces, dashes, dots and brackets are dropped; `00` and Iran's trunk `0`
/// (`09121234567`) are read as the international forms.
pub fn phone(raw: &str) -> Result<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let e164 = if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if digits.starts_with('0') && digits.len() == 11 {
        format!("+98{}", &digits[1..])
    } else {
        digits
    };
    let ok = e164.strip_prefix('+').is_some_and(|d| {
        (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
    });
    let mut v = Validator::new();
    v.check(
        ok,
        "phone",
        "must be a phone number in E.164 form (+989121234567) or an Iranian mobile (09121234567)",
    );
    v.finish()?;
    Ok(e164)
}

#[cfg(test)]
mod phone_tests {
    use super::phone;

    #[test]
    fn phones_are_stored_in_e164() {
        assert_eq!(phone("0912 123 4567").unwrap(), "+989121234567");
        assert_eq!(phone("+98 (912) 123-4567").unwrap(), "+989121234567");
        assert_eq!(phone("00989121234567").unwrap(), "+989121234567");
        for bad in [
            "",
            "12345",
            "+0123456789",
            "+98912abc4567",
            "+1234567890123456",
        ] {
            assert!(phone(bad).is_err(), "{bad:?}");
        }
    }
}
