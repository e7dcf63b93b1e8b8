//! Long-running operations on biometric data, run from the CLI:
//! `kudakyar keys rotate`, `kudakyar iris reencode`, and the retention of
//! raw captures and the sweep of orphaned ones (both also run about hourly by
//! each server).
//!
//! Each works row by row, every row in its own short transaction, and can be
//! interrupted and run again: a row already done is recognised (by its key
//! id, or its engine version) and skipped.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::Row;

use super::capture::quality_of;
use super::keys::{self, Key, Keyring};
use super::store::{self, SealedTemplate};
use crate::config::Config;
use crate::db::Db;
use crate::media::Media;

const PAGE: i64 = 500;

fn bar(total: i64, what: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(total.max(0) as u64);
    bar.set_style(ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what}, {{eta}} left"
    ))?);
    if std::env::var_os("KUDAKYAR_NO_PROGRESS").is_some() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    Ok(bar)
}

async fn live_templates(db: &Db) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM iris_templates WHERE removed_at IS NULL")
            .fetch_one(db.pool())
            .await?,
    )
}

/// Live templates a page of `PAGE` at a time, by id: no transaction is held
/// across a long run, and a row is read once however the table changes.
struct Pages<'a> {
    db: &'a Db,
    after: String,
}

impl<'a> Pages<'a> {
    fn new(db: &'a Db) -> Self {
        Pages {
            db,
            after: String::new(),
        }
    }

    async fn next(&mut self) -> anyhow::Result<Option<Vec<SealedTemplate>>> {
        let rows = store::page(self.db.pool(), &self.after, PAGE).await?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.after.clone_from(&last.id);
        Ok(Some(rows))
    }
}

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    pub templates: u64,
    pub captures: u64,
    pub new_key: String,
}

/// Re-seals every template and raw capture with the next key, then makes it
/// the current key. With a key file the next key is created as
/// `biometric.key.next` (running servers pick it up and seal new rows with
/// it); with `KUDAKYAR_BIOMETRIC_KEY` the next key must be given as
/// `KUDAKYAR_BIOMETRIC_KEY_NEXT`, and the operator swaps the variables after.
pub async fn rotate(config: &Config, db: &Db, media: &Media) -> anyhow::Result<Rotated> {
    let mut ring = Keyring::load(config, false)?;
    if ring.next().is_none() {
        if config.biometric_key.is_some() {
            anyhow::bail!(
                "the key comes from KUDAKYAR_BIOMETRIC_KEY: set KUDAKYAR_BIOMETRIC_KEY_NEXT to a new \
                 key (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) and run again"
            );
        }
        let (_, text) = Key::generate()?;
        keys::write_secret(&keys::next_key_path(config), &text)?;
        ring = Keyring::load(config, false)?;
    }
    let next = ring.next().cloned().context("the next key")?;
    // Give running servers a moment to start sealing with the next key, so
    // nothing new is sealed with the old one behind the rotation's back.
    tokio::time::sleep(std::time::Duration::from_millis(
        2 * config.iris_sync_interval_ms,
    ))
    .await;
    let mut done = Rotated {
        new_key: next.id().to_string(),
        ..Default::default()
    };
    let progress = bar(live_templates(db).await?, "templates re-sealed")?;
    // A server that has not picked up the next key yet may still seal a row
    // with the old one behind the pass: before the old key is retired, no
    // live row may still need it. Another pass re-seals such rows.
    let mut pass = 0;
    loop {
        reseal_pass(db, media, &ring, &next, &progress, &mut done).await?;
        let left = under_other_keys(db, next.id()).await?;
        if left == 0 {
            break;
        }
        pass += 1;
        if pass >= RESEAL_PASSES {
            anyhow::bail!(
                "{left} iris templates are still sealed with another key than {} after {pass} passes; \
                 the old key is kept: run `kudakyar keys rotate` again",
                next.id()
            );
        }
        tracing::info!(
            left,
            "templates sealed with the old key behind the rotation; another pass"
        );
    }
    progress.finish();
    if config.biometric_key.is_none() {
        // The old key is kept beside, named by its id, until the operator
        // deletes it; the next key becomes the key.
        let old = keys::key_path(config);
        let retired = config
            .data_dir
            .join(format!("biometric.key.retired-{}", ring.current().id()));
        std::fs::copy(&old, &retired).context("keeping the old key")?;
        std::fs::rename(keys::next_key_path(config), &old).context("installing the new key")?;
    }
    Ok(done)
}

/// Passes a rotation makes before it gives up on rows still sealed with an
/// old key (each pass only meets rows written during the previous one).
const RESEAL_PASSES: usize = 5;

/// Live templates sealed with another key than `key_id`.
async fn under_other_keys(db: &Db, key_id: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM iris_templates WHERE removed_at IS NULL AND key_id <> $1",
    )
    .bind(key_id)
    .fetch_one(db.pool())
    .await?)
}

/// One pass of a rotation over every live template, re-sealing those not
/// under `next` yet (and their raw captures).
async fn reseal_pass(
    db: &Db,
    media: &Media,
    ring: &Keyring,
    next: &Key,
    progress: &ProgressBar,
    done: &mut Rotated,
) -> anyhow::Result<()> {
    let mut pages = Pages::new(db);
    while let Some(rows) = pages.next().await? {
        for row in &rows {
            let SealedTemplate {
                id,
                key_id,
                sealed,
                capture_key,
                ..
            } = row;
            progress.inc(1);
            if key_id == next.id() {
                continue;
            }
            let template = ring.open(key_id, id, sealed)?;
            // The capture first: a crash after it leaves the row under the
            // old key, and the next run re-seals both again.
            if let Some(object) = capture_key
                && let Some(bytes) = media.get(object).await?
            {
                let raw = ring
                    .open(key_id, id, &bytes)
                    .or_else(|_| next.open(id, &bytes))?;
                media.put(object, next.seal(id, &raw).into()).await?;
                done.captures += 1;
            }
            sqlx::query(
                "UPDATE iris_templates SET sealed_template = $1, key_id = $2 WHERE id = $3 AND key_id = $4",
            )
            .bind(next.seal(id, &template))
            .bind(next.id())
            .bind(id)
            .bind(key_id)
            .execute(db.pool())
            .await?;
            done.templates += 1;
        }
    }
    Ok(())
}

/// What a re-encoding did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reencoded {
    pub templates: u64,
    /// Rows without a capture (retention ended) or whose capture the
    /// current engine refuses: their template is kept as it is.
    pub kept: u64,
}

/// Re-extracts templates from the sealed raw captures with this engine
/// (`all`: also those already made by it). Every change is an `update`
/// event, so every server's gallery follows.
pub async fn reencode(
    config: &Config,
    db: &Db,
    media: &Media,
    all: bool,
) -> anyhow::Result<Reencoded> {
    let ring = Keyring::load(config, false)?;
    let mut engine = iris::Config::default();
    engine.matcher.threshold = config.iris_threshold;
    let progress = bar(live_templates(db).await?, "templates")?;
    let mut done = Reencoded::default();
    let mut pages = Pages::new(db);
    while let Some(rows) = pages.next().await? {
        for row in &rows {
            progress.inc(1);
            let SealedTemplate {
                id,
                key_id,
                capture_key,
                engine_version,
                ..
            } = row;
            if !all && engine_version == store::engine_version() {
                continue;
            }
            let Some(bytes) = (match capture_key {
                Some(k) => media.get(k).await?,
                None => None,
            }) else {
                done.kept += 1;
                continue;
            };
            let raw = ring
                .open(key_id, id, &bytes)
                .or_else(|_| ring.sealing().open(id, &bytes))?;
            let cfg = engine.clone();
            let capture = match tokio::task::spawn_blocking(move || iris::enrol(&raw, &cfg)).await?
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(template = %id, reason = %e, "capture refused by this engine; template kept");
                    done.kept += 1;
                    continue;
                }
            };
            let key = ring.sealing();
            let now = crate::now_ms();
            let mut tx = db.begin_write().await?;
            sqlx::query(
                "UPDATE iris_templates SET sealed_template = $1, key_id = $2, quality = $3,
                    engine_version = $4 WHERE id = $5",
            )
            .bind(key.seal(id, &capture.template.to_bytes()))
            .bind(key.id())
            .bind(serde_json::to_string(&quality_of(&capture.quality)).unwrap_or_default())
            .bind(store::engine_version())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            store::event(&mut tx, id, "update", now).await?;
            tx.commit().await?;
            done.templates += 1;
        }
    }
    progress.finish();
    Ok(done)
}

/// Deletes sealed raw captures older than the retention period (templates
/// stay matchable; they just can no longer be re-encoded). Returns how many.
pub async fn purge_captures(
    config: &Config,
    db: &Db,
    media: &Media,
    now: i64,
) -> anyhow::Result<u64> {
    if config.iris_capture_retention_days == 0 {
        return Ok(0);
    }
    let cutoff = now - i64::from(config.iris_capture_retention_days) * 86_400_000;
    let rows = sqlx::query(
        "SELECT id, capture_key FROM iris_templates
         WHERE capture_key IS NOT NULL AND created_at < $1 ORDER BY created_at LIMIT 10000",
    )
    .bind(cutoff)
    .fetch_all(db.pool())
    .await?;
    let mut purged = 0;
    for row in &rows {
        let id: String = row.try_get(0)?;
        let key: String = row.try_get(1)?;
        media.delete(&key).await?;
        sqlx::query("UPDATE iris_templates SET capture_key = NULL WHERE id = $1")
            .bind(&id)
            .execute(db.pool())
            .await?;
        purged += 1;
    }
    if purged > 0 {
        tracing::info!(purged, "raw iris captures past retention deleted");
    }
    Ok(purged)
}

/// Sealed captures younger than this are never swept: an enrolment writes its
/// capture to the object store a moment before the row that points to it.
pub const ORPHAN_GRACE_MS: i64 = 24 * 3_600_000;

/// Deletes objects under `iris/` that no template row points to and that are
/// older than [`ORPHAN_GRACE_MS`] (left by a crash between the object and its
/// row, or by a retry racing a removal): retention only ever finds captures
/// through their rows. Returns how many were deleted.
pub async fn sweep_orphans(db: &Db, media: &Media, now: i64) -> anyhow::Result<u64> {
    let mut swept = 0;
    for object in media.list("iris").await? {
        if object.modified_ms > now - ORPHAN_GRACE_MS {
            continue;
        }
        let referenced: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM iris_templates WHERE capture_key = $1")
                .bind(&object.key)
                .fetch_optional(db.pool())
                .await?;
        if referenced.is_none() {
            media.delete(&object.key).await?;
            swept += 1;
        }
    }
    if swept > 0 {
        tracing::info!(swept, "orphaned iris captures deleted");
    }
    Ok(swept)
}
