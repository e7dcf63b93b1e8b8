//! Receipt codes: what a reporter keeps to ask how the report is doing.
//!
//! Ten characters from an alphabet without look-alikes (no 0/O, 1/I/L, U),
//! drawn from the operating system's generator: 31¹⁰ ≈ 8·10¹⁴ codes, neither
//! guessable nor sequential, and lookups are rate-limited per address on top
//! (see [`super::abuse`]). Shown as two groups of five (`K7M2Q-9XH4T`); typed
//! in any case, with or without the dash or spaces.

use kudakyar_api::sightings::{ReceiptState, SightingState};
use rand::Rng;

use crate::db::vocab::enum_parse;

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN: usize = 10;

/// A fresh random code, as stored (with its dash).
pub fn generate() -> String {
    let mut rng = rand::rngs::OsRng;
    let chars: String = (0..LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// A code as typed → as stored; `None` when it cannot be one.
pub fn normalise(typed: &str) -> Option<String> {
    let chars: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (chars.len() == LEN && chars.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| format!("{}-{}", &chars[..5], &chars[5..]))
}

/// The state a receipt tells, or `None` for an unknown code. Known and
/// unknown codes cost the same one indexed read.
pub async fn state<'e, E>(executor: E, code: &str) -> sqlx::Result<Option<ReceiptState>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM sightings WHERE receipt_code = $1")
            .bind(code)
            .fetch_optional(executor)
            .await?;
    Ok(state
        .as_deref()
        .and_then(enum_parse::<SightingState>)
        .map(SightingState::receipt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_unambiguous_characters_in_two_groups() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let code = generate();
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(&code[5..6], "-");
            assert!(!code.contains(['0', 'O', '1', 'I', 'L', 'U']), "{code}");
            assert_eq!(normalise(&code).as_deref(), Some(code.as_str()));
            assert!(seen.insert(code));
        }
    }

    #[test]
    fn typed_codes_are_forgiven_their_case_and_separators() {
        assert_eq!(normalise("k7m2q 9xh4t").as_deref(), Some("K7M2Q-9XH4T"));
        assert_eq!(normalise("K7M2Q9XH4T").as_deref(), Some("K7M2Q-9XH4T"));
        assert_eq!(normalise("K7M2Q-9XH4"), None);
        assert_eq!(normalise("K7M2Q-9XH40"), None, "0 is not in the alphabet");
        assert_eq!(normalise("' OR 1=1 --"), None);
    }
}
