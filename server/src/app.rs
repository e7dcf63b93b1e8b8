//! Wiring for `kudakyar serve`: the shared [`AppState`] and the server loop
//! with graceful shutdown, which stops the background jobs it started before
//! it closes the database pool.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::biometrics::Biometrics;
use crate::config::Config;
use crate::db::Db;
use crate::http::form::UploadSlots;
use crate::http::metrics::Metrics;
use crate::media::Media;

/// Everything a handler may need, cheap to clone (like realworld-axum-sqlx's
/// `ApiContext`).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub media: Media,
    pub metrics: Metrics,
    pub biometrics: Biometrics,
    pub uploads: UploadSlots,
    /// Exports running now, against the configured caps.
    pub export_slots: crate::exports::Slots,
    /// Bounds the password checks running at once (see [`crate::auth::password`]).
    pub password_checks: crate::auth::password::Checks,
    /// Writes reports in batches that share a commit (see [`crate::sightings::writer`]).
    pub sightings: crate::sightings::writer::Writer,
    /// The server's VAPID key for Web Push (see [`crate::notify::push`]).
    pub vapid: crate::notify::push::Vapid,
    /// The SMS gateway, or why there is none (see [`crate::notify::sms`]).
    pub sms: crate::notify::sms::Status,
    /// The one poll for new notifications every open stream of this
    /// instance waits on (see [`crate::notify::stream`]); [`serve`] runs it.
    pub notify_hub: crate::notify::stream::Hub,
    /// The FCM service account, or why there is none (see [`crate::notify::fcm`]).
    pub fcm: crate::notify::fcm::Status,
    /// Cancelled when [`serve`] begins to shut down, so endless responses
    /// (the notification streams) end and graceful shutdown can finish.
    pub stopping: CancellationToken,
}

impl AppState {
    /// Opens the configured database (applying migrations) and the media store.
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        let db = Db::open(config.database_url.as_deref(), &config.data_dir).await?;
        AppState::with_db(config, db).await
    }

    /// Like [`AppState::open`] with a database already connected (tests use
    /// this to run the same application on SQLite and PostgreSQL).
    pub async fn with_db(config: Config, db: Db) -> anyhow::Result<AppState> {
        db.migrate().await?;
        // With PostgreSQL the data dir still holds keys and (locally) media.
        crate::private_fs::create_dir(&config.data_dir).context("the data directory")?;
        let media = Media::open(&config)?;
        let biometrics = Biometrics::open(&config, &db).await?;
        let export_slots =
            crate::exports::Slots::new(config.export_max_per_user, config.export_max_concurrent);
        let password_checks =
            crate::auth::password::Checks::new(config.login_max_concurrent_checks);
        let uploads = UploadSlots::new(config.max_concurrent_uploads);
        let vapid = crate::notify::push::Vapid::load(&config).context("the VAPID key")?;
        // A bad SMS or FCM setting is reported, not fatal: the rest serves.
        let sms = crate::notify::sms::Status::from_config(&config);
        let fcm = crate::notify::fcm::Status::from_config(&config);
        let config = Arc::new(config);
        let sightings = crate::sightings::writer::Writer::start(db.clone(), config.clone());
        Ok(AppState {
            password_checks,
            uploads,
            export_slots,
            sightings,
            config,
            db,
            media,
            metrics: Metrics::new(),
            biometrics,
            vapid,
            sms,
            notify_hub: crate::notify::stream::Hub::new(),
            fcm,
            stopping: CancellationToken::new(),
        })
    }
}

/// Serves until `shutdown` completes (in production [`shutdown_signal`]:
/// SIGINT or SIGTERM), then stops accepting, lets in-flight requests finish,
/// stops the background jobs (a round in progress ends first) and only then
/// closes the database pool, so nothing touches the pool after it is closed.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = state.db.clone();
    let stop_jobs = CancellationToken::new();
    let jobs = state.biometrics.spawn_background_jobs(
        state.config.clone(),
        db.clone(),
        state.media.clone(),
        stop_jobs.clone(),
    );
    let phone_purge = crate::sightings::retention::spawn(db.clone(), stop_jobs.clone());
    let atlas_rollup = crate::atlas::rollup::spawn(db.clone(), stop_jobs.clone());
    let atlas_hotspots = crate::atlas::hotspots::spawn(db.clone(), stop_jobs.clone());
    let mut jobs = vec![jobs, phone_purge, atlas_rollup, atlas_hotspots];
    jobs.extend(crate::notify::spawn_workers(&state, stop_jobs.clone())?);
    jobs.push(state.notify_hub.spawn(db.pool().clone(), stop_jobs.clone()));
    let indicators = state
        .config
        .indicators_job
        .then(|| crate::indicators::job::spawn(db.clone(), stop_jobs.clone()));
    jobs.extend(indicators);
    let stopping = state.stopping.clone();
    let app = crate::http::router(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    // Open streams end first: graceful shutdown waits for every response.
    .with_graceful_shutdown(async move {
        shutdown.await;
        stopping.cancel();
    })
    .await
    .context("serving HTTP");
    tracing::info!("shutting down: stopping the background jobs");
    stop_jobs.cancel();
    for job in jobs {
        if let Err(e) = job.await {
            tracing::error!(error = %e, "a background job panicked");
        }
    }
    tracing::info!("shutting down: closing the database pool");
    db.close().await;
    served
}

/// Completes at SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
