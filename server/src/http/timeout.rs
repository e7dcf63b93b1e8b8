//! The request timeout (`request_timeout_secs`), measured as idleness.
//!
//! A phone uploads a 400 KB photo or a pair of iris captures over a mobile
//! link that may carry 10 KB/s: the upload alone takes longer than any
//! sensible limit on a whole request, and cutting it with 408 made the phone
//! start again from the first byte, forever. So the clock restarts whenever
//! a piece of the request's body arrives: a slow but progressing upload is
//! never cut, while a client that stops sending (or a handler that stops
//! making progress once the body is in) is still answered 408 after the
//! timeout, and the connection's resources are released. A request without
//! a body gets the timeout from its start, as before.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::time::{Instant, sleep_until};

/// Answers 408 once `limit` has passed since the request began or since its
/// body last delivered data, whichever is later.
pub async fn idle_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let last_progress = Arc::new(Mutex::new(Instant::now()));
    let touched = last_progress.clone();
    let req = req.map(|body| {
        Body::new(body.map_frame(move |frame| {
            *touched.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            frame
        }))
    });
    let answer = next.run(req);
    tokio::pin!(answer);
    loop {
        let deadline = *last_progress.lock().unwrap_or_else(|e| e.into_inner()) + limit;
        tokio::select! {
            response = &mut answer => return response,
            () = sleep_until(deadline) => {
                let progressed = *last_progress.lock().unwrap_or_else(|e| e.into_inner()) + limit;
                if progressed <= Instant::now() {
                    // Dropping `answer` abandons the handler, as tower-http's
                    // timeout did; the problem layer writes the 408's body.
                    return StatusCode::REQUEST_TIMEOUT.into_response();
                }
            }
        }
    }
}
