//! Password hashing with argon2id (the crate's defaults follow OWASP's advice).
//!
//! Hashing is deliberately slow and memory-hard (~19 MiB per check), so
//! handlers call these through `tokio::task::spawn_blocking` to keep the async
//! workers free, and login takes a turn from [`Checks`] first: without a bound,
//! a burst of logins runs one argon2 per blocking thread (up to 512) and the
//! process grows by gigabytes.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The turns for password checks that may run at once.
#[derive(Clone, Debug)]
pub struct Checks {
    /// Public so tests can hold every turn and see what a full server answers.
    pub permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Checks {
    pub fn new(at_once: usize) -> Checks {
        Checks {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(at_once.max(1))),
        }
    }
}

/// Shortest password accepted for a new account.
pub const MIN_LENGTH: usize = 10;

/// Hashes a password into a PHC string (`$argon2id$v=19$…`).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a password against a stored hash. A malformed hash never verifies.
pub fn verify(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of nothing in particular, verified against when the username does not
/// exist, so that a login for an unknown user takes as long as a wrong password
/// and does not reveal which usernames exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password, never valid").unwrap_or_default())
}

/// A random password for generated accounts (the first admin): 20 characters
/// from an alphabet without look-alikes.
pub fn random() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_password() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse batterY"));
        assert!(!verify("not a hash", "anything"));
    }

    #[test]
    fn random_passwords_differ() {
        let (a, b) = (random(), random());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }
}
