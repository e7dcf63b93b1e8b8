//! Iris recognition in the registry: the engine (`iris` crate) wired to
//! child records, with biometric data sealed at rest.
//!
//! - [`keys`]: the AES-256-GCM biometric key, its file, and the keyring a
//!   rotation needs.
//! - [`store`]: SQL for templates, their change events and their owners.
//! - [`gallery`]: the in-memory 1:N gallery of each server instance, loaded
//!   at start-up and following changes made by any instance.
//! - [`capture`]: multipart forms of eye images and the engine run.
//! - [`matching`]: search, the fusion rule for two eyes, and scope.
//! - [`enrol`]: storing templates (+ sealed raw captures) and opening
//!   duplicate-review tasks.
//! - [`registration`]: registering a child with iris captures —
//!   deduplication before create, including late offline registrations.
//! - [`reviews`]: the supervisors' duplicate-review queue.
//! - [`maintenance`]: `kudakyar keys rotate`, `kudakyar iris reencode`, the
//!   retention of raw captures and the sweep of orphaned ones.
//! - [`routes`]: the HTTP endpoints.
//!
//! No endpoint, log line or export ever carries a template or a raw capture.

pub mod capture;
pub mod enrol;
pub mod gallery;
pub mod keys;
pub mod maintenance;
pub mod matching;
pub mod registration;
pub mod reviews;
pub mod routes;
pub mod store;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::Db;
use gallery::SharedGallery;
use keys::Keyring;

/// The iris side of [`crate::app::AppState`].
#[derive(Clone)]
pub struct Biometrics {
    keys: Arc<RwLock<Keyring>>,
    pub gallery: SharedGallery,
    /// Engine parameters (quality limits, matcher).
    pub engine: iris::Config,
    /// Distance under which a capture matches a template.
    pub threshold: f32,
    /// The captures analysed at once by this instance (see
    /// [`capture::ANALYSED_AT_ONCE`]); the others wait their turn.
    pub analysing: Arc<tokio::sync::Semaphore>,
}

impl Biometrics {
    /// Loads the key (creating the key file on first start) and the gallery.
    pub async fn open(config: &Config, db: &Db) -> anyhow::Result<Biometrics> {
        // A new key file only for a registry without templates: with
        // templates, a missing key file is an error, never a fresh key.
        let templates: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM iris_templates")
            .fetch_one(db.pool())
            .await?;
        let keyring = Keyring::load(config, templates == 0)?;
        let gallery = SharedGallery::load(db, &keyring).await?;
        let mut engine = iris::Config::default();
        engine.matcher.threshold = config.iris_threshold;
        Ok(Biometrics {
            keys: Arc::new(RwLock::new(keyring)),
            gallery,
            engine,
            threshold: config.iris_threshold,
            analysing: Arc::new(tokio::sync::Semaphore::new(capture::ANALYSED_AT_ONCE)),
        })
    }

    /// The keys in use now.
    pub fn keys(&self) -> Keyring {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the key configuration, so a rotation started by `kudakyar
    /// keys rotate` is followed without a restart. Keeps the old keys if the
    /// files cannot be read (and says so).
    pub fn reload_keys(&self, config: &Config) {
        match Keyring::load(config, false) {
            Ok(fresh) => {
                let mut k = match self.keys.write() {
                    Ok(k) => k,
                    Err(poisoned) => poisoned.into_inner(),
                };
                if fresh.current().id() != k.current().id()
                    || fresh.next().map(|n| n.id().to_string())
                        != k.next().map(|n| n.id().to_string())
                {
                    tracing::info!(
                        current = fresh.current().id(),
                        next = fresh.next().map(|n| n.id()),
                        "biometric keys changed"
                    );
                    *k = fresh;
                }
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "biometric keys could not be re-read")
            }
        }
    }

    /// The instance's background jobs, one round each tick until `stop` is
    /// cancelled: keys and gallery follow other instances' changes; about
    /// hourly, old raw captures are purged and orphaned ones swept.
    ///
    /// A round in progress when `stop` comes runs to its end (a gallery sync
    /// is not cut half-way), and the returned task ends then: the caller
    /// awaits it before closing the database pool, so no job ever meets a
    /// closed pool.
    pub fn spawn_background_jobs(
        &self,
        config: Arc<Config>,
        db: Db,
        media: crate::media::Media,
        stop: CancellationToken,
    ) -> JoinHandle<()> {
        let bio = self.clone();
        let every = Duration::from_millis(config.iris_sync_interval_ms.max(50));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut rounds: u64 = 0;
            loop {
                tokio::select! {
                    biased;
                    () = stop.cancelled() => break,
                    _ = tick.tick() => {}
                }
                rounds += 1;
                bio.reload_keys(&config);
                if let Err(e) = bio.gallery.sync(&db, &bio.keys()).await {
                    tracing::warn!(error = %format!("{e:#}"), "iris gallery sync failed; retrying");
                }
                // Retention of raw captures: at start, then about hourly.
                let hourly = (rounds - 1)
                    .is_multiple_of((3_600_000 / every.as_millis().max(1) as u64).max(1));
                if hourly
                    && let Err(e) =
                        maintenance::purge_captures(&config, &db, &media, crate::now_ms()).await
                {
                    tracing::warn!(error = %format!("{e:#}"), "purging old iris captures failed");
                }
                if hourly
                    && let Err(e) = maintenance::sweep_orphans(&db, &media, crate::now_ms()).await
                {
                    tracing::warn!(error = %format!("{e:#}"), "sweeping orphaned iris captures failed");
                }
            }
            tracing::info!("background jobs stopped");
        })
    }
}
