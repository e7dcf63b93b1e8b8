//! A secret sealed with a passphrase: Argon2id (RFC 9106's second
//! recommended setting: 64 MiB, 3 passes, 4 lanes) turns the passphrase and a
//! random salt into an AES-256-GCM key, which seals the secret under a random
//! nonce. Stored as JSON with every parameter, so a later version can still
//! open what an older one sealed.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, ensure};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const M_COST_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const P_COST: u32 = 4;

#[derive(Debug, Serialize, Deserialize)]
pub struct Sealed {
    pub kdf: String,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    /// Base64.
    pub salt: String,
    pub cipher: String,
    /// Base64.
    pub nonce: String,
    /// Base64: ciphertext ‖ tag.
    pub sealed: String,
}

pub fn seal(secret: &[u8], passphrase: &str) -> anyhow::Result<Sealed> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = derive(passphrase, &salt, M_COST_KIB, T_COST, P_COST)?;
    let cipher = Aes256Gcm::new_from_slice(&key[..]).context("the sealing key")?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), secret)
        .map_err(|_| anyhow::anyhow!("sealing failed"))?;
    Ok(Sealed {
        kdf: "argon2id".into(),
        m_cost_kib: M_COST_KIB,
        t_cost: T_COST,
        p_cost: P_COST,
        salt: B64.encode(salt),
        cipher: "aes-256-gcm".into(),
        nonce: B64.encode(nonce),
        sealed: B64.encode(sealed),
    })
}

pub fn open(sealed: &Sealed, passphrase: &str) -> anyhow::Result<Vec<u8>> {
    ensure!(
        sealed.kdf == "argon2id" && sealed.cipher == "aes-256-gcm",
        "sealed with {} / {}, which this version cannot open",
        sealed.kdf,
        sealed.cipher
    );
    let salt = B64.decode(&sealed.salt).context("the salt")?;
    let nonce = B64.decode(&sealed.nonce).context("the nonce")?;
    ensure!(nonce.len() == 12, "the nonce is not 12 bytes");
    let bytes = B64.decode(&sealed.sealed).context("the sealed bytes")?;
    let key = derive(
        passphrase,
        &salt,
        sealed.m_cost_kib,
        sealed.t_cost,
        sealed.p_cost,
    )?;
    let cipher = Aes256Gcm::new_from_slice(&key[..]).context("the sealing key")?;
    cipher
        .decrypt(Nonce::from_slice(&nonce), bytes.as_slice())
        .map_err(|_| {
            anyhow::anyhow!(
                "the passphrase does not open the backup's biometric key (wrong passphrase, or the file was changed)"
            )
        })
}

fn derive(
    passphrase: &str,
    salt: &[u8],
    m: u32,
    t: u32,
    p: u32,
) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(m, t, p, Some(32))
        .map_err(|e| anyhow::anyhow!("key derivation parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key[..])
        .map_err(|e| anyhow::anyhow!("key derivation: {e}"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_with_the_passphrase_only() {
        let sealed = seal(b"the key", "correct horse battery").unwrap();
        assert_eq!(open(&sealed, "correct horse battery").unwrap(), b"the key");
        let err = open(&sealed, "wrong horse battery").unwrap_err();
        assert!(err.to_string().contains("passphrase"), "{err}");
        assert_ne!(sealed.sealed, B64.encode(b"the key"));
    }
}
