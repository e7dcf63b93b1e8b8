//! Shown when a token was stored without a user (an older or interrupted
//! save): waits for `/auth/me`, and if the server cannot be reached offers a
//! retry, or logging out to start afresh.

use leptos::html::H1;
use leptos::prelude::*;

use super::{ErrorBox, focus_on_mount};
use crate::i18n::{error_text, t};
use crate::session::use_session;

#[component]
pub fn RestoringPage() -> impl IntoView {
    let s = t();
    let session = use_session();
    let logout = Action::new_unsync(move |_: &()| session.logout());
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);

    view! {
        <section class="card" aria-labelledby="restoring-title">
            <h1 id="restoring-title" tabindex="-1" node_ref=heading>{s.app_name}</h1>
            {move || match session.check_error.get() {
                None => view! { <p role="status">{s.loading}</p> }.into_any(),
                Some(err) => view! {
                    <ErrorBox text=error_text(&err, false)/>
                    <button type="button" class="btn primary" on:click=move |_| session.revalidate()>
                        {s.retry}
                    </button>
                    <button type="button" class="btn secondary" on:click=move |_| { logout.dispatch(()); }>
                        {s.logout}
                    </button>
                }.into_any(),
            }}
        </section>
    }
}
