//! Serves the PWA built by `cargo xtask` (`mobile-web/dist`).
//!
//! File names with a content hash (`app-3f2a…9c.css`) never change meaning, so
//! they are cached for a year as immutable; everything else — `index.html`,
//! the service worker, the manifest — is `no-cache`, so a new release is seen
//! at the next start. `/report` and `/report/status` get the citizens' report
//! page (`report.html`); other unknown paths get `index.html`: the app routes
//! itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

use crate::error::Error;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub fn service(dir: Option<&Path>) -> Router {
    match dir {
        Some(dir) => Router::new()
            // The citizens' report page is its own entry (mobile-web/citizen):
            // its paths must not fall back to the workers' app.
            .route_service("/report", ServeFile::new(dir.join("report.html")))
            .route_service("/report/status", ServeFile::new(dir.join("report.html")))
            .fallback_service(ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html"))))
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(dir.to_path_buf()),
                cache_control,
            )),
        None => Router::new().fallback(|| async {
            Error::BadRequest("this server has no PWA configured (see `web_dir`)".into())
                .into_response()
        }),
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
