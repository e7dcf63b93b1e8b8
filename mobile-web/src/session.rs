//! Who is logged in, shared by every page through Leptos context.
//!
//! The bearer token and the last known [`User`] are persisted in localStorage
//! so a session survives reloads and app restarts, and the home page can be
//! shown at once (even offline) while `/auth/me` re-checks the token in the
//! background. A 401 from that check means the token expired or was revoked:
//! the session is dropped and the login page says why.
//!
//! localStorage is readable by any script on the origin; the strict CSP (no
//! inline or third-party scripts) is what keeps that acceptable.

use kudakyar_api::{
    auth::LoginRequest,
    users::{Role, User},
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::{self, ApiError};
use crate::{local, workset};

/// Versioned so a future format change can ignore old entries.
const STORAGE_KEY: &str = "kudakyar.session.v1";

/// The session as the UI sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    LoggedOut,
    /// A token was restored but no user was cached: waiting for `/auth/me`.
    Restoring {
        token: String,
    },
    LoggedIn {
        token: String,
        user: User,
    },
}

/// Why the login page is shown instead of the home page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Notice {
    Expired,
    LoggedOut,
}

/// Copyable handle to the session signals; get it with [`use_session`].
#[derive(Clone, Copy)]
pub struct Session {
    pub auth: RwSignal<Auth>,
    pub notice: RwSignal<Option<Notice>>,
    /// The last `/auth/me` check failed for a reason other than 401 (offline,
    /// server error): the cached user is shown, possibly out of date.
    pub check_error: RwSignal<Option<ApiError>>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    token: String,
    user: Option<User>,
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

impl Session {
    /// Reads the stored session, provides it as context and re-checks it.
    pub fn provide() -> Session {
        let auth = match load() {
            None => Auth::LoggedOut,
            Some(Stored { token, user: None }) => Auth::Restoring { token },
            Some(Stored {
                token,
                user: Some(user),
            }) => Auth::LoggedIn { token, user },
        };
        let session = Session {
            auth: RwSignal::new(auth),
            notice: RwSignal::new(None),
            check_error: RwSignal::new(None),
        };
        provide_context(session);
        session.revalidate();
        session
    }

    /// The bearer token, whether or not the user is known yet.
    pub fn token(&self) -> Option<String> {
        match self.auth.get_untracked() {
            Auth::LoggedOut => None,
            Auth::Restoring { token } | Auth::LoggedIn { token, .. } => Some(token),
        }
    }

    /// Asks `/auth/me` whether the token is still good, in the background.
    pub fn revalidate(self) {
        let Some(token) = self.token() else { return };
        // Cleared first so a retry shows "loading" rather than the old error.
        self.check_error.set(None);
        leptos::task::spawn_local(async move {
            match api::me(&token).await {
                Ok(user) => {
                    self.check_error.set(None);
                    self.set_logged_in(token, user);
                }
                Err(ApiError::Unauthorized) => self.drop_session(Some(Notice::Expired)),
                Err(err) => self.check_error.set(Some(err)),
            }
        });
    }

    /// Logs in, then fetches the user through `/auth/me` so the token is
    /// proven to work before the home page shows.
    pub async fn login(self, req: LoginRequest) -> Result<(), ApiError> {
        let resp = api::login(&req).await?;
        let user = match api::me(&resp.token).await {
            Ok(user) => user,
            // Flaky network right after a successful login: the login answer
            // already says who we are, so use it rather than fail.
            Err(ApiError::Network) => resp.user,
            Err(err) => return Err(err),
        };
        self.notice.set(None);
        self.check_error.set(None);
        self.set_logged_in(resp.token, user);
        Ok(())
    }

    /// Revokes the token on the server (after this browser's push
    /// subscription), then forgets it here whatever the answer: on a shared
    /// phone, "log out" must work even offline (the server-side token then
    /// simply expires).
    pub async fn logout(self) {
        if let Some(token) = self.token() {
            // Before the token is revoked: removing the subscription needs it.
            crate::push::forget(Some(token.clone())).await;
            let _ = api::logout(&token).await;
        }
        self.drop_session(Some(Notice::LoggedOut));
    }

    fn set_logged_in(&self, token: String, user: User) {
        save(&Stored {
            token: token.clone(),
            user: Some(user.clone()),
        });
        // The server just answered: bring the offline working set up to date
        // (it skips the fetch when the stored copy is recent), once the first
        // screen has its own data (`settle`). A 123 operator reaches no child
        // record, so keeps none.
        if user.role != Role::HotlineOperator {
            let (t, id, county) = (token.clone(), user.id.clone(), user.county.clone());
            leptos::task::spawn_local(async move {
                crate::settle::settled().await;
                let _ = workset::refresh(t, id, county).await;
            });
        }
        self.auth.set(Auth::LoggedIn { token, user });
    }

    fn drop_session(&self, notice: Option<Notice>) {
        clear();
        // Children's details must not outlive the session on a shared phone,
        // nor its pushes (after a logout the subscription is gone already).
        workset::clear();
        crate::pages::tasks::clear();
        leptos::task::spawn_local(crate::push::forget(None));
        self.check_error.set(None);
        self.notice.set(notice);
        self.auth.set(Auth::LoggedOut);
    }
}

fn load() -> Option<Stored> {
    serde_json::from_str(&local::get(STORAGE_KEY)?).ok()
}

fn save(stored: &Stored) {
    if let Ok(raw) = serde_json::to_string(stored) {
        local::set(STORAGE_KEY, &raw);
    }
}

fn clear() {
    local::remove(STORAGE_KEY);
}
