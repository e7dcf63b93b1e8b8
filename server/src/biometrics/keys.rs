//! The biometric key: AES-256-GCM sealing of iris templates and raw captures.
//!
//! The key comes from `KUDAKYAR_BIOMETRIC_KEY` (base64 of 32 bytes) or from the
//! key file `<data_dir>/biometric.key`, created on first start with mode 0600.
//! Every sealed value is `nonce (12 bytes) ‖ ciphertext ‖ tag`, with the row's
//! id as associated data, so a sealed template copied onto another row does
//! not open. Each row also stores the [`KeyId`] that sealed it.
//!
//! Rotation (`kudakyar keys rotate`, [`super::maintenance`]) writes the new key
//! to `biometric.key.next` first, re-seals every row, then moves the new key
//! into place. A [`Keyring`] holds the current key and, while a rotation is
//! unfinished, the next one, so servers read rows sealed by either and a
//! rotation interrupted by a crash is simply run again.

use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::config::Config;

const NONCE_LEN: usize = 12;

/// Names a key without revealing it: the first 8 bytes of SHA-256 of the key, hex.
pub type KeyId = String;

/// One AES-256 key.
#[derive(Clone)]
pub struct Key {
    id: KeyId,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl Key {
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Key> {
        if bytes.len() != 32 {
            bail!("a biometric key is 32 bytes; this one has {}", bytes.len());
        }
        let id = hex::encode(&Sha256::digest(bytes)[..8]);
        let cipher = Aes256Gcm::new_from_slice(bytes).context("biometric key")?;
        Ok(Key { id, cipher })
    }

    /// A key from base64 text (the environment variable or a key file).
    pub fn from_base64(text: &str) -> anyhow::Result<Key> {
        let bytes = Zeroizing::new(
            B64.decode(text.trim())
                .context("the biometric key is not valid base64")?,
        );
        Key::from_bytes(&bytes)
    }

    /// A fresh random key and its base64 text (to be written to a key file).
    pub fn generate() -> anyhow::Result<(Key, Zeroizing<String>)> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Ok((
            Key::from_bytes(bytes.as_ref())?,
            Zeroizing::new(B64.encode(bytes.as_ref())),
        ))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plain` bound to `row_id`.
    pub fn seal(&self, row_id: &str, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plain,
            aad: row_id.as_bytes(),
        };
        // Encryption of an in-memory buffer with a valid key cannot fail.
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`Key::seal`] sealed for `row_id`.
    pub fn open(&self, row_id: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN + 16 {
            bail!("sealed value of {row_id} is truncated");
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: row_id.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "sealed value of {row_id} does not open with key {}",
                    self.id
                )
            })
    }
}

/// The keys a server can open rows with; new rows are sealed with `current`.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: Key,
    /// The key of an unfinished rotation.
    next: Option<Key>,
}

impl Keyring {
    pub fn new(current: Key, next: Option<Key>) -> Keyring {
        Keyring { current, next }
    }

    /// The configured keys: `biometric_key`, else the key file in the data
    /// dir, created when `create` is true and there is none yet.
    pub fn load(config: &Config, create: bool) -> anyhow::Result<Keyring> {
        let next = match (
            &config.biometric_key_next,
            std::fs::read_to_string(next_key_path(config)),
        ) {
            (Some(text), _) => Some(Key::from_base64(text).context("KUDAKYAR_BIOMETRIC_KEY_NEXT")?),
            (None, Ok(text)) => {
                Some(Key::from_base64(&text).context("reading biometric.key.next")?)
            }
            (None, Err(_)) => None,
        };
        if let Some(text) = &config.biometric_key {
            let current = Key::from_base64(text).context("KUDAKYAR_BIOMETRIC_KEY")?;
            return Ok(Keyring { current, next });
        }
        let path = key_path(config);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let current = Key::from_base64(&text)
                    .with_context(|| format!("reading the key file {}", path.display()))?;
                Ok(Keyring { current, next })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let (current, text) = Key::generate()?;
                write_secret(&path, &text)?;
                tracing::info!(key = current.id(), path = %path.display(), "created the biometric key file");
                Ok(Keyring { current, next })
            }
            Err(e) => Err(e).with_context(|| {
                format!(
                    "the biometric key file {} cannot be read, and KUDAKYAR_BIOMETRIC_KEY is not set; \
                     without the key no iris template can be read",
                    path.display()
                )
            }),
        }
    }

    /// The key new rows are sealed with: the rotation's key while one runs,
    /// so nothing sealed during it is left under the old key.
    pub fn sealing(&self) -> &Key {
        self.next.as_ref().unwrap_or(&self.current)
    }

    pub fn current(&self) -> &Key {
        &self.current
    }

    pub fn next(&self) -> Option<&Key> {
        self.next.as_ref()
    }

    /// Opens a row sealed by the key named `key_id`.
    pub fn open(&self, key_id: &str, row_id: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let key = [Some(&self.current), self.next.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.id() == key_id)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{row_id} is sealed with key {key_id}, which this server does not have \
                     (current key {})",
                    self.current.id()
                )
            })?;
        key.open(row_id, sealed)
    }
}

pub fn key_path(config: &Config) -> PathBuf {
    config.data_dir.join("biometric.key")
}

pub fn next_key_path(config: &Config) -> PathBuf {
    config.data_dir.join("biometric.key.next")
}

/// Writes a secret readable only by the owner, replacing the file atomically.
pub fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_row_and_key() {
        let (key, _) = Key::generate().unwrap();
        let (other, _) = Key::generate().unwrap();
        let sealed = key.seal("row-1", b"template bytes");
        assert_ne!(&sealed[NONCE_LEN..], b"template bytes");
        assert_eq!(key.open("row-1", &sealed).unwrap(), b"template bytes");
        assert!(key.open("row-2", &sealed).is_err(), "bound to its row");
        assert!(other.open("row-1", &sealed).is_err(), "bound to its key");
        assert!(key.open("row-1", &sealed[..10]).is_err(), "truncated");
    }

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Default::default()
        };
        assert!(Keyring::load(&config, false).is_err(), "no file, no create");
        let first = Keyring::load(&config, true).unwrap();
        let again = Keyring::load(&config, true).unwrap();
        assert_eq!(first.current().id(), again.current().id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path(&config))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_from_the_environment_must_be_32_bytes_of_base64() {
        assert!(Key::from_base64("not base64!").is_err());
        assert!(Key::from_base64(&B64.encode([1u8; 16])).is_err());
        assert!(Key::from_base64(&B64.encode([1u8; 32])).is_ok());
    }
}
