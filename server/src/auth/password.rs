//! Password hashing with argon2id (the crate's defaults follow OWASP's advice).
//!
//! Hashing is deliberately slow and memory-hard (~19 MiB per check), so
//! handlers call these through `tokio::task::spawn_blocking` to keep the async
//! workers free, and login takes a turn from [`Checks`] first: without a bound,
//! a burst of logins runs one argon2 per blocking thread (up to 512) and the
//! process grows by gigabytes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// The turns for password checks that may run at once, and the argon2
/// working memory they reuse: one buffer per turn, made once. Memory given
/// back to the allocator after each check is not given back to the system
/// (glibc keeps it in per-thread arenas), so without reuse the process grew
/// by ~12 MiB per check however few ran at once.
#[derive(Clone, Debug)]
pub struct Checks {
    /// Public so tests can hold every turn and see what a full server answers.
    pub permits: Arc<Semaphore>,
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Checks {
    pub fn new(at_once: usize) -> Checks {
        Checks {
            permits: Arc::new(Semaphore::new(at_once.max(1))),
            memory: Arc::default(),
        }
    }

    /// Checks `password` against `stored` on a blocking thread once a turn is
    /// free; `None` if no turn came within `wait`.
    pub async fn verify(
        &self,
        stored: String,
        password: String,
        wait: Duration,
    ) -> anyhow::Result<Option<bool>> {
        let Ok(Ok(turn)) = tokio::time::timeout(wait, self.permits.clone().acquire_owned()).await
        else {
            return Ok(None);
        };
        let memory = self.memory.clone();
        let matches = tokio::task::spawn_blocking(move || {
            // Taken and put back under the turn: never more buffers than turns.
            let mut blocks = memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let matches = verify_in(&stored, &password, &mut blocks);
            memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(blocks);
            drop(turn);
            matches
        })
        .await?;
        Ok(Some(matches))
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
    verify_in(stored, password, &mut Vec::new())
}

/// [`verify`] with the caller's working memory (grown to the hash's size if
/// smaller): what `PasswordVerifier::verify_password` does, less its
/// allocation of the memory.
fn verify_in(stored: &str, password: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let Ok(version) = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map(Option::unwrap_or_default)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..needed])
        .is_ok()
        // Output's comparison takes the same time whatever matches.
        && Output::new(&out).is_ok_and(|out| out == expected)
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
    fn reused_memory_verifies_like_fresh() {
        use argon2::PasswordVerifier;
        let h = hash("correct horse battery").unwrap();
        let mut blocks = Vec::new();
        for _ in 0..2 {
            assert!(verify_in(&h, "correct horse battery", &mut blocks));
            assert!(!verify_in(&h, "correct horse batterY", &mut blocks));
        }
        // The same verdicts as the library's own verifier.
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
    }

    #[test]
    fn random_passwords_differ() {
        let (a, b) = (random(), random());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }
}
