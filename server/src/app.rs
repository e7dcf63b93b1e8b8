//! Wiring for `kudakyar serve`: the shared [`AppState`] and the server loop
//! with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::biometrics::Biometrics;
use crate::config::Config;
use crate::db::Db;
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
    /// Bounds the password checks running at once (see [`crate::auth::password`]).
    pub password_checks: crate::auth::password::Checks,
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
        let password_checks =
            crate::auth::password::Checks::new(config.login_max_concurrent_checks);
        Ok(AppState {
            password_checks,
            config: Arc::new(config),
            db,
            media,
            metrics: Metrics::new(),
            biometrics,
        })
    }
}

/// Serves until SIGINT or SIGTERM, then stops accepting, lets in-flight
/// requests finish and closes the database pool.
pub async fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    let db = state.db.clone();
    state
        .biometrics
        .spawn_follower(state.config.clone(), db.clone(), state.media.clone());
    let app = crate::http::router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving HTTP")?;
    tracing::info!("shutting down: closing the database pool");
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
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
