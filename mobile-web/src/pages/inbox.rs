//! The inbox (`/inbox`): the user's notifications, newest first, unread ones
//! marked; opening one marks it read and shows its subject (a report opens
//! in the triage screen, which an assigned worker may read too), and «mark
//! all read» clears the badge. A notification names a kind and a subject,
//! never a child or a place (`kudakyar_api::notifications`).
//!
//! A link leads to the notification settings (`pages::settings`).
//!
//! The list follows the live count ([`crate::inbox`]): when a notification
//! arrives while the inbox is open, the list is read again. Loaded on
//! demand (`pages::deferred`).

use kudakyar_api::notifications::Notification;
use leptos::html::H1;
use leptos::prelude::*;

use super::{ErrorBox, focus_on_mount};
use crate::api;
use crate::dates;
use crate::i18n::{ErrorText, L, error_text, l};
use crate::inbox::use_inbox;
use crate::route::{Link, Route, use_router};
use crate::session::use_session;

/// What a notification's kind says, in the UI language.
pub fn kind_label(kind: &str) -> &'static str {
    l(kind_text(kind))
}

/// The text of a notification's kind (every kind of
/// `kudakyar_api::notifications::KINDS`; a newer one reads «اعلان»).
pub fn kind_text(kind: &str) -> L {
    match kind {
        "sighting_received" => L::KindSightingReceived,
        "sighting_assigned" => L::KindSightingAssigned,
        "follow_up_due" => L::KindFollowUpDue,
        "follow_up_overdue" => L::KindFollowUpOverdue,
        "child_not_seen" => L::KindChildNotSeen,
        "iris_review_opened" => L::KindIrisReviewOpened,
        "referral_decided" => L::KindReferralDecided,
        "centre_nearly_full" => L::KindCentreNearlyFull,
        "child_at_risk" => L::KindChildAtRisk,
        _ => L::KindOther,
    }
}

/// The screen a notification's subject opens, if the app has one.
pub fn subject_route(n: &Notification) -> Option<Route> {
    match n.subject_type.as_str() {
        "sighting" => Some(Route::Report(n.subject_id.clone())),
        "child" => Some(Route::Child(n.subject_id.clone())),
        _ => None,
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_on_mount(heading);
    let session = use_session();
    let inbox = use_inbox();
    let items = RwSignal::new(None::<Vec<Notification>>);
    let error = RwSignal::new(None::<ErrorText>);
    let token = session.token().unwrap_or_default();
    let load = {
        let token = token.clone();
        move || {
            let token = token.clone();
            leptos::task::spawn_local(async move {
                match api::notifications(&token, "limit=50").await {
                    Ok(page) => items.set(Some(page.items)),
                    Err(err) => error.set(Some(error_text(&err, false))),
                }
            });
        }
    };
    // Read at mount, and again whenever the live count changes.
    Effect::new(move |_| {
        inbox.unread.track();
        load();
    });
    let read_all = move |_| {
        let token = token.clone();
        leptos::task::spawn_local(async move {
            match api::mark_read(&token, None).await {
                Ok(()) => inbox.refresh(&token).await,
                Err(err) => error.set(Some(error_text(&err, false))),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="inbox-title">
            <h1 id="inbox-title" tabindex="-1" node_ref=heading>{l(L::InboxTitle)}</h1>
            <p><Link to=Route::Settings>{l(L::SettingsTitle)}</Link></p>
            <button type="button" class="btn secondary" on:click=read_all>{l(L::ReadAll)}</button>
            {move || error.get().map(|text| view! { <ErrorBox text/> })}
            {move || items.get().map(|list| view! {
                {list.is_empty().then(|| view! { <p role="status">{l(L::InboxEmpty)}</p> })}
                <ul class="inbox">
                    {list.into_iter().map(|n| view! { <Entry n/> }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// One notification: a button that marks it read and opens its subject.
#[component]
fn Entry(n: Notification) -> impl IntoView {
    let session = use_session();
    let inbox = use_inbox();
    let router = use_router();
    let unread = n.read_at.is_none();
    let route = subject_route(&n);
    let id = n.id;
    let open = move |_| {
        let token = session.token().unwrap_or_default();
        let route = route.clone();
        leptos::task::spawn_local(async move {
            if unread && api::mark_read(&token, Some(id)).await.is_ok() {
                inbox.refresh(&token).await;
            }
            if let Some(to) = route {
                router.go(to);
            }
        });
    };
    view! {
        <li class="notification" data-kind=n.kind.clone() data-unread=unread.to_string()>
            <button type="button" class="btn link" on:click=open>
                {unread.then(|| view! { <span class="badge">{l(L::Unread)}</span> " " })}
                {n.critical.then(|| view! { <span class="warn">{l(L::Critical)}</span> " " })}
                {kind_label(&n.kind)}
            </button>
            <span class="muted">{dates::instant(&n.created_at)}</span>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use kudakyar_api::notifications::Notification;

    use super::{kind_label, subject_route};
    use crate::route::Route;

    #[test]
    fn notifications_open_their_subject() {
        let mut n = Notification {
            id: 1,
            kind: "sighting_assigned".into(),
            critical: false,
            subject_type: "sighting".into(),
            subject_id: "0b6f1c8e-5a3d-4c1e-9f2a-1234567890ab".into(),
            created_at: "2026-12-06T12:00:00Z".into(),
            read_at: None,
        };
        assert_eq!(subject_route(&n), Some(Route::Report(n.subject_id.clone())));
        n.subject_type = "child".into();
        assert_eq!(subject_route(&n), Some(Route::Child(n.subject_id.clone())));
        n.subject_type = "centre".into();
        assert_eq!(subject_route(&n), None);
        assert_ne!(kind_label("sighting_assigned"), kind_label("new_kind"));
    }
}
