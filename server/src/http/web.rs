//! Serves the PWA built by `cargo xtask` (`mobile-web/dist`).
//!
//! File names with a content hash (`app-3f2a…9c.css`) never change meaning, so
//! they are cached for a year as immutable; everything else — `index.html`,
//! the service worker, the manifest — is `no-cache`, so a new release is seen
//! at the next start. `/report` and `/report/status` get the citizens' report
//! page (`report.html`); `/atlas` the app's page with the atlas's files
//! preloaded (`atlas.html`); other unknown paths get `index.html`: the app
//! routes itself. Both pages get the basemap settings filled in
//! (`super::basemap`) for their maps (the atlas, the citizens' picker).

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::error::Error;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub fn service(config: &Config) -> Router {
    match config.web_dir.as_deref() {
        Some(dir) => {
            let config = Arc::new(config.clone());
            let page = |names: &[&str]| {
                let page = Page {
                    paths: names.iter().map(|name| dir.join(name)).collect(),
                    config: config.clone(),
                };
                move || {
                    let page = page.clone();
                    async move { page.serve().await }
                }
            };
            let index = page(&["index.html"]);
            let report = page(&["report.html"]);
            // The app shell with the atlas's own files preloaded (the map
            // module, its chunks and texts), written by the same build.
            let atlas = page(&["atlas.html", "index.html"]);
            Router::new()
                // The pages carry the deployment's basemap settings
                // (`super::basemap`): filled in as they are served.
                .route("/", get(index.clone()))
                .route("/index.html", get(index.clone()))
                // An app route that is also a folder of the build (`atlas/`,
                // the map's files): `ServeDir` would redirect it to `/atlas/`.
                .route("/atlas", get(atlas))
                // The citizens' report page is its own entry (mobile-web/citizen):
                // its paths must not fall back to the workers' app.
                .route("/report", get(report.clone()))
                .route("/report/status", get(report))
                .fallback_service(ServeDir::new(dir).fallback(index.into_service()))
                .layer(axum::middleware::from_fn_with_state(
                    Arc::new(dir.to_path_buf()),
                    cache_control,
                ))
        }
        None => Router::new().fallback(|| async {
            Error::BadRequest("this server has no PWA configured (see `web_dir`)".into())
                .into_response()
        }),
    }
}

/// A page (`index.html`, `report.html`), read as it is asked for (a release
/// replaces the directory under a running server) and filled in: the first
/// of `paths` there is.
#[derive(Clone)]
struct Page {
    paths: Vec<PathBuf>,
    config: Arc<Config>,
}

impl Page {
    async fn serve(&self) -> Response {
        for path in &self.paths {
            match tokio::fs::read_to_string(path).await {
                Ok(page) => {
                    return (
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        super::basemap::fill_page(&page, &self.config),
                    )
                        .into_response();
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    tracing::error!(path = %path.display(), "reading a page: {e}");
                    return Error::NotFound.into_response();
                }
            }
        }
        tracing::error!(paths = ?self.paths, "no page to serve");
        Error::NotFound.into_response()
    }
}

async fn cache_control(State(dir): State<Arc<PathBuf>>, req: Request, next: Next) -> Response {
    let hashed = is_content_hashed(req.uri().path());
    // A hashed name that is not there (an old tab after a release) must not get
    // index.html cached for a year under that name.
    if hashed && !dir.join(req.uri().path().trim_start_matches('/')).is_file() {
        return Error::NotFound.into_response();
    }
    let mut response = next.run(req).await;
    if response.status().is_success() {
        let value = if hashed { IMMUTABLE } else { NO_CACHE };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// True for names carrying a 16-hex-digit content hash after a dash, as
/// `cargo xtask` writes them (`kudakyar-web-0123456789abcdef_bg.wasm`).
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.split('-').skip(1).any(|part| {
        let hex = part.bytes().take_while(u8::is_ascii_hexdigit).count();
        hex == 16 && part.len() > 16
    })
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn recognises_hashed_names() {
        assert!(is_content_hashed("/kudakyar-web-0123456789abcdef_bg.wasm"));
        assert!(is_content_hashed("/app-0123456789abcdef.css"));
        assert!(!is_content_hashed("/index.html"));
        assert!(!is_content_hashed("/sw.js"));
        assert!(!is_content_hashed("/app-0123.css"));
        assert!(!is_content_hashed("/children/0123456789abcdef"));
    }
}
