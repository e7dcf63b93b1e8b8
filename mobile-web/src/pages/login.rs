//! The login form: username, password, one big submit button.
//!
//! The form validates itself (`novalidate`) so messages are in Persian rather
//! than the browser's language. A 429 disables the button and counts down the
//! `Retry-After` seconds, so a worker sees when trying again makes sense.

use std::time::Duration;

use kudakyar_api::auth::LoginRequest;
use leptos::ev::SubmitEvent;
use leptos::html::H1;
use leptos::prelude::*;

use super::{ErrorBox, focus_on_mount};
use crate::api::ApiError;
use crate::i18n::{ErrorText, duration, error_text, t};
use crate::session::{Notice, use_session};

#[component]
pub fn LoginPage() -> impl IntoView {
    let s = t();
    let session = use_session();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let show_password = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorText>);
    // The inputs themselves are wrong (empty, or refused credentials), as
    // opposed to the network or the server: drives `aria-invalid`.
    let bad_input = RwSignal::new(false);
    // Seconds left before the server will accept another attempt.
    let cooldown = RwSignal::new(0u32);

    // `new_unsync`: browser futures are not `Send`; inputs and outputs are.
    let login = Action::new_unsync(move |req: &LoginRequest| session.login(req.clone()));
    let pending = login.pending();

    // React to each finished attempt.
    Effect::new(move |_| {
        if let Some(Err(err)) = login.value().get() {
            if let ApiError::TooManyRequests {
                retry_after: Some(secs),
            } = err
            {
                start_cooldown(cooldown, secs);
            }
            bad_input.set(err == ApiError::Unauthorized);
            error.set(Some(error_text(&err, true)));
        }
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() || cooldown.get_untracked() > 0 {
            return;
        }
        let req = LoginRequest {
            username: username.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        if req.username.is_empty() || req.password.is_empty() {
            bad_input.set(true);
            error.set(Some(ErrorText {
                message: s.fill_both.to_owned(),
                detail: None,
                request_id: None,
            }));
            return;
        }
        error.set(None);
        bad_input.set(false);
        // "Logged out" / "session expired" no longer applies once they retry.
        session.notice.set(None);
        login.dispatch(req);
    };

    let notice = move || {
        session.notice.get().map(|n| {
            let text = match n {
                Notice::Expired => s.session_expired,
                Notice::LoggedOut => s.logged_out,
            };
            view! { <p class="notice" role="status">{text}</p> }
        })
    };
    let button_label = move || match (pending.get(), cooldown.get()) {
        (true, _) => s.logging_in.to_owned(),
        (false, 0) => s.login.to_owned(),
        (false, secs) => s.wait_button.replace("{}", &duration(secs)),
    };
    // Outside `view!`: a `>` inside an attribute would end the tag.
    let blocked = move || pending.get() || cooldown.get() > 0;
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);

    view! {
        <section class="card" aria-labelledby="login-title">
            <h1 id="login-title" tabindex="-1" node_ref=heading>{s.login_title}</h1>
            <p class="lead">{s.tagline}</p>
            {notice}
            <form on:submit=on_submit novalidate>
                <div class="field">
                    <label for="username">{s.username}</label>
                    <input id="username" name="username" type="text" dir="ltr"
                        autocomplete="username" autocapitalize="none" spellcheck="false"
                        required aria-invalid=move || bad_input.get().to_string()
                        bind:value=username/>
                </div>
                <div class="field">
                    <label for="password">{s.password}</label>
                    <input id="password" name="password" dir="ltr"
                        type=move || if show_password.get() { "text" } else { "password" }
                        autocomplete="current-password" required
                        aria-invalid=move || bad_input.get().to_string()
                        bind:value=password/>
                </div>
                <label class="check">
                    <input type="checkbox" bind:checked=show_password/>
                    <span>{s.show_password}</span>
                </label>
                {move || error.get().map(|text| view! { <ErrorBox text/> })}
                <button type="submit" class="btn primary"
                    disabled=blocked
                    aria-busy=move || pending.get().to_string()>
                    {button_label}
                </button>
            </form>
        </section>
    }
}

/// Counts `secs` down to zero, one tick a second. Uses `try_update` because
/// the page may be gone (e.g. after a later successful login) mid-countdown.
fn start_cooldown(cooldown: RwSignal<u32>, secs: u32) {
    cooldown.set(secs);
    fn tick(cooldown: RwSignal<u32>) {
        set_timeout(
            move || {
                let left = cooldown.try_update(|n| {
                    *n = n.saturating_sub(1);
                    *n
                });
                if matches!(left, Some(n) if n > 0) {
                    tick(cooldown);
                }
            },
            Duration::from_secs(1),
        );
    }
    tick(cooldown);
}
