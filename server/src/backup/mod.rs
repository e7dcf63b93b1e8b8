//! `kudakyar backup --out DIR` and `kudakyar restore --from DIR`: a copy of
//! an embedded (SQLite) installation that a fresh machine can be rebuilt
//! from — every child, photo and matchable iris template.
//!
//! A backup directory holds:
//!
//! ```text
//! DIR/kudakyar.db              the database, by SQLite's `VACUUM INTO`: a consistent
//!                              snapshot taken while the server keeps serving
//! DIR/media/<key>              every object of the object store (local dir or S3),
//!                              copied after the snapshot, so every object the
//!                              snapshot names is there
//! DIR/biometric.key.sealed     the biometric key, sealed with a passphrase
//!                              (Argon2id → AES-256-GCM; JSON, see [`sealed`])
//! DIR/manifest.json            what is in it, with each file's SHA-256
//! ```
//!
//! Without the key no iris template or capture in the database can be
//! opened, and with it anyone could: so the key never leaves in the clear.
//! The passphrase comes from `KUDAKYAR_BACKUP_PASSPHRASE` (at least 12
//! characters); keep it apart from the backup.
//!
//! [`restore`] checks every file against the manifest and opens the key
//! before it writes anything, then fills a data dir that has no database yet
//! and runs `PRAGMA integrity_check` on the result.
//!
//! PostgreSQL installations are refused with the way to do it instead
//! (`pg_dump`, and the bucket's own versioning for the media): a copy of a
//! server database belongs to the database's own tools.

pub mod sealed;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::biometrics::keys;
use crate::config::Config;
use crate::db::Db;
use crate::media::Media;

/// The environment variable the passphrase is read from.
pub const PASSPHRASE_VAR: &str = "KUDAKYAR_BACKUP_PASSPHRASE";
const MIN_PASSPHRASE_CHARS: usize = 12;
const FORMAT: u32 = 1;
const DATABASE: &str = "kudakyar.db";
const SEALED_KEY: &str = "biometric.key.sealed";
const MANIFEST: &str = "manifest.json";
const MEDIA: &str = "media";

const POSTGRES_REFUSAL: &str = "`kudakyar backup` and `restore` cover the embedded SQLite \
    installation only. With PostgreSQL, back up the database with `pg_dump --format=custom` \
    (restore with `pg_restore`), keep the S3 bucket's object versioning on for the media, and \
    keep a copy of the biometric key (KUDAKYAR_BIOMETRIC_KEY) apart from both; see the README.";

/// `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: String,
    pub kudakyar_version: String,
    pub children: i64,
    pub photos: i64,
    pub iris_templates: i64,
    /// Each file's path inside the backup, size and SHA-256 (hex).
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What a backup or a restore went through.
#[derive(Debug)]
pub struct Summary {
    pub children: i64,
    pub photos: i64,
    pub iris_templates: i64,
    pub media_objects: usize,
    pub key_included: bool,
}

/// The passphrase from the environment, checked for length.
pub fn passphrase_from_env() -> anyhow::Result<zeroize::Zeroizing<String>> {
    let text = std::env::var(PASSPHRASE_VAR).map_err(|_| {
        anyhow::anyhow!(
            "set {PASSPHRASE_VAR} to the passphrase that seals the biometric key in the backup"
        )
    })?;
    ensure!(
        text.chars().count() >= MIN_PASSPHRASE_CHARS,
        "{PASSPHRASE_VAR} must have at least {MIN_PASSPHRASE_CHARS} characters"
    );
    Ok(zeroize::Zeroizing::new(text))
}

/// Writes a backup of the installation `config` describes into `out`, which
/// must not exist or be empty. Safe while the server runs.
pub async fn backup(config: &Config, out: &Path, passphrase: &str) -> anyhow::Result<Summary> {
    if config.database_url.is_some() {
        bail!(POSTGRES_REFUSAL);
    }
    ensure!(
        config.sqlite_path().exists(),
        "no database at {}: nothing to back up (is --data-dir right?)",
        config.sqlite_path().display()
    );
    if out.exists() && out.read_dir()?.next().is_some() {
        bail!(
            "{} is not empty: back up into a new directory",
            out.display()
        );
    }
    // The key first: a backup whose templates cannot be opened is no backup.
    let key = current_key_text(config)?;
    crate::private_fs::create_dir(out)?;

    let db = Db::open(None, &config.data_dir).await?;
    let snapshot = out.join(DATABASE);
    sqlx::query("VACUUM INTO $1")
        .bind(snapshot.to_string_lossy().into_owned())
        .execute(db.pool())
        .await
        .context("copying the database (VACUUM INTO)")?;
    crate::private_fs::restrict(&snapshot)?;
    db.close().await;
    let counts = counts(&snapshot).await?;

    let media = Media::open(config)?;
    let mut media_objects = 0;
    for object in media.list("").await? {
        let Some(bytes) = media.get(&object.key).await? else {
            continue; // deleted since it was listed
        };
        let path = out.join(MEDIA).join(&object.key);
        crate::private_fs::create_dir(path.parent().context("a media key names a file")?)?;
        write_private(&path, &bytes)?;
        media_objects += 1;
    }

    let key_included = match &key {
        Some(text) => {
            let sealed = sealed::seal(text.as_bytes(), passphrase)?;
            write_private(&out.join(SEALED_KEY), &serde_json::to_vec_pretty(&sealed)?)?;
            true
        }
        None => false,
    };

    let manifest = Manifest {
        format: FORMAT,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?,
        kudakyar_version: env!("CARGO_PKG_VERSION").to_owned(),
        children: counts.children,
        photos: counts.photos,
        iris_templates: counts.iris_templates,
        files: list_files(out)?,
    };
    write_private(&out.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(Summary {
        children: counts.children,
        photos: counts.photos,
        iris_templates: counts.iris_templates,
        media_objects,
        key_included,
    })
}

/// Rebuilds the installation `config` describes from the backup in `from`.
/// The data dir must hold no database yet.
pub async fn restore(config: &Config, from: &Path, passphrase: &str) -> anyhow::Result<Summary> {
    if config.database_url.is_some() {
        bail!(POSTGRES_REFUSAL);
    }
    if config.sqlite_path().exists() {
        bail!(
            "{} already has a database: restore into a new, empty data directory",
            config.data_dir.display()
        );
    }
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(from.join(MANIFEST)).with_context(|| {
            format!(
                "{} is not a Kudakyar backup (no {MANIFEST})",
                from.display()
            )
        })?)
        .context("reading the backup's manifest")?;
    ensure!(
        manifest.format == FORMAT,
        "this backup has format {}, this version reads format {FORMAT}",
        manifest.format
    );
    // Everything is checked before anything is written.
    for entry in &manifest.files {
        let bytes = std::fs::read(from.join(&entry.path))
            .with_context(|| format!("the backup lacks {}", entry.path))?;
        ensure!(
            hex::encode(Sha256::digest(&bytes)) == entry.sha256,
            "{} in the backup is damaged (its SHA-256 differs from the manifest's)",
            entry.path
        );
    }
    let key = match std::fs::read(from.join(SEALED_KEY)) {
        Ok(bytes) => {
            let sealed: sealed::Sealed =
                serde_json::from_slice(&bytes).context("reading the sealed biometric key")?;
            Some(zeroize::Zeroizing::new(String::from_utf8(sealed::open(
                &sealed, passphrase,
            )?)?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).context("reading the sealed biometric key"),
    };
    if let Some(text) = &key {
        keys::Key::from_base64(text).context("the backup's biometric key")?;
    }

    crate::private_fs::create_dir(&config.data_dir)?;
    let database = config.sqlite_path();
    std::fs::copy(from.join(DATABASE), &database)
        .with_context(|| format!("writing {}", database.display()))?;
    crate::private_fs::restrict(&database)?;
    if let Some(text) = &key {
        keys::write_secret(&keys::key_path(config), text)?;
    }
    let media = Media::open(config)?;
    let media_root = from.join(MEDIA);
    let mut media_objects = 0;
    for entry in manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with("media/"))
    {
        let key = entry.path.trim_start_matches("media/");
        let bytes = std::fs::read(media_root.join(key))?;
        media.put(key, bytes.into()).await?;
        media_objects += 1;
    }

    let db = Db::open(None, &config.data_dir).await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(db.pool())
        .await?;
    db.close().await;
    ensure!(
        check == "ok",
        "the restored database fails its integrity check: {check}"
    );
    Ok(Summary {
        children: manifest.children,
        photos: manifest.photos,
        iris_templates: manifest.iris_templates,
        media_objects,
        key_included: key.is_some(),
    })
}

/// The current biometric key as configured (environment or key file); none
/// when no key was ever made (no iris was enrolled). A rotation in progress
/// must finish first: rows would be sealed under two keys.
fn current_key_text(config: &Config) -> anyhow::Result<Option<zeroize::Zeroizing<String>>> {
    if config.biometric_key_next.is_some() || keys::next_key_path(config).exists() {
        bail!(
            "a biometric key rotation is unfinished: run `kudakyar keys rotate` to the end first"
        );
    }
    if let Some(text) = &config.biometric_key {
        return Ok(Some(zeroize::Zeroizing::new(text.clone())));
    }
    match std::fs::read_to_string(keys::key_path(config)) {
        Ok(text) => Ok(Some(zeroize::Zeroizing::new(text.trim().to_owned()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).context("reading the biometric key file"),
    }
}

struct Counts {
    children: i64,
    photos: i64,
    iris_templates: i64,
}

/// Counts in the snapshot (not the live database), so the manifest says
/// what the backup holds.
async fn counts(snapshot: &Path) -> anyhow::Result<Counts> {
    use sqlx::Connection;
    // Read-only and without the server's pragmas (WAL would write beside it).
    let mut conn = sqlx::sqlite::SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new()
            .filename(snapshot)
            .read_only(true),
    )
    .await
    .context("opening the snapshot")?;
    let mut count = async |table: &str| {
        sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
    };
    let counts = Counts {
        children: count("children").await?,
        photos: count("child_photos").await?,
        iris_templates: count("iris_templates").await?,
    };
    conn.close().await?;
    Ok(counts)
}

/// Every file under `dir` but the manifest, as manifest entries, sorted.
fn list_files(dir: &Path) -> anyhow::Result<Vec<FileEntry>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<FileEntry>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
                continue;
            }
            let rel = relative(root, &path);
            if rel == MANIFEST {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            out.push(FileEntry {
                path: rel,
                bytes: bytes.len() as u64,
                sha256: hex::encode(Sha256::digest(&bytes)),
            });
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// `path` inside `root`, with `/` between the parts on every system.
fn relative(root: &Path, path: &Path) -> String {
    let rel: PathBuf = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::private_fs::create_file(path)?;
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
