//! [`Actor`]: the authenticated caller, extracted from `Authorization: Bearer …`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use kudakyar_api::users::Role;

use super::{Scope, session};
use crate::app::AppState;
use crate::error::Error;

/// Who is calling. Handlers that take an `Actor` answer 401 without a live token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub scope: Scope,
    /// The hash of the token used, so logout revokes exactly this session.
    pub token_hash: String,
}

// Every router has `AppState` as its state, so the extractors are written for
// it alone rather than for any state it can be taken from.
impl FromRequestParts<AppState> for Actor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Error::Unauthorized)?;
        session::lookup(&state.db, token)
            .await?
            .ok_or(Error::Unauthorized)
    }
}
