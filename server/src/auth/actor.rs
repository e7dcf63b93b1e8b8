//! [`Actor`]: the authenticated caller, extracted from `Authorization: Bearer …`.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use kudakyar_api::users::Role;

use super::{Scope, policy, session};
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
        let actor = session::lookup(&state.db, token)
            .await?
            .ok_or(Error::Unauthorized)?;
        policy::reach(&actor, parts.uri.path())?;
        Ok(actor)
    }
}

/// `Option<Actor>`, for endpoints open to everyone that do more for staff
/// (a citizen's report needs no account): no `Authorization` header is
/// `None`; a header with a dead or malformed token is still 401, never
/// silently anonymous.
impl OptionalFromRequestParts<AppState> for Actor {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Error> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(None);
        }
        <Actor as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}
