//! The home screen: who is logged in and a logout button, then the «register
//! a child» form (not for 123 operators) and this phone's outbox.
//!
//! Shows the cached user at once; [`crate::session::Session::revalidate`]
//! refreshes it, and if that check could not reach the server a banner says
//! the data may be stale (with a retry).

use kudakyar_api::users::{Role, User};
use leptos::html::H1;
use leptos::prelude::*;

use super::{deferred, focus_on_mount};
use crate::api::ApiError;
use crate::i18n::{digits, error_text, province_name, t, vocabulary};
use crate::outbox::{self, use_outbox};
use crate::session::{Auth, use_session};

#[component]
pub fn HomePage() -> impl IntoView {
    let s = t();
    let session = use_session();
    let user = Memo::new(move |_| match session.auth.get() {
        Auth::LoggedIn { user, .. } => Some(user),
        _ => None,
    });
    // A 123 operator reaches no child record: no registration form.
    let registers = Memo::new(move |_| user.get().is_some_and(|u| u.role != Role::HotlineOperator));
    let outbox = use_outbox();
    // Unsent work is never dropped: it stays on the phone for this user's
    // next login, but the worker is told so and may stay to send it first.
    let logout = Action::new_unsync(move |_: &()| async move {
        let unsent = outbox.unsent();
        if unsent > 0 {
            let question = s.logout_unsent.replace("{}", &digits(unsent as u32));
            if !window().confirm_with_message(&question).unwrap_or(false) {
                return;
            }
        }
        outbox::logout().await;
        session.logout().await;
    });
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    // The outbox list is built in the next frame, not in the task that
    // starts the app: on a slow phone one long task would keep the page
    // from answering a tap for a quarter of a second (Lighthouse's TBT).
    let later = RwSignal::new(false);
    request_animation_frame(move || later.set(true));

    let stale = move || {
        session.check_error.get().map(|err| {
            let text = match err {
                ApiError::Network => s.stale_user.to_owned(),
                other => error_text(&other, false).message,
            };
            view! {
                <div class="notice" role="status">
                    <p>{text}</p>
                    <button type="button" class="btn link" on:click=move |_| session.revalidate()>
                        {s.retry}
                    </button>
                </div>
            }
        })
    };

    view! {
        <section class="card" aria-labelledby="home-title">
            <h1 id="home-title" tabindex="-1" node_ref=heading>{s.home_title}</h1>
            {stale}
            {move || user.get().map(|u| view! { <UserCard user=u/> })}
            <button type="button" class="btn secondary"
                disabled=move || logout.pending().get()
                on:click=move |_| { logout.dispatch(()); }>
                {move || if logout.pending().get() { s.logging_out } else { s.logout }}
            </button>
        </section>
        // The card's title and lead are drawn at once (the page's largest
        // text, so the first paint is its largest); the form's code follows.
        {move || registers.get().then(|| view! {
            <section class="card" aria-labelledby="register-title">
                <h2 id="register-title">{s.register_title}</h2>
                <p class="lead">{s.register_lead}</p>
                <deferred::Register/>
            </section>
        })}
        {move || later.get().then(|| view! { <deferred::Outbox/> })}
    }
}

/// Name, username, role and scope as a description list.
#[component]
fn UserCard(user: User) -> impl IntoView {
    let s = t();
    let name = user
        .display_name
        .clone()
        .unwrap_or_else(|| user.username.clone());
    let province = match user.province.as_deref() {
        None => s.whole_country.to_owned(),
        Some(code) => province_name(code).map_or_else(|| code.to_owned(), str::to_owned),
    };
    view! {
        <dl class="who">
            <div><dt>{s.name}</dt><dd>{name}</dd></div>
            <div><dt>{s.username}</dt><dd><bdi dir="ltr">{user.username}</bdi></dd></div>
            <div><dt>{s.role}</dt><dd>{vocabulary::role(user.role)}</dd></div>
            <div><dt>{s.province}</dt><dd>{province}</dd></div>
            {user.county.map(|c| view! {
                <div><dt>{s.county}</dt><dd><bdi dir="ltr">{c}</bdi></dd></div>
            })}
        </dl>
    }
}
