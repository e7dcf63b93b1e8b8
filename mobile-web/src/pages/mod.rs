//! One module per screen, plus small pieces they share.
//!
//! - [`login`]: username and password form.
//! - [`home`]: who is logged in and logout, then registration and the outbox.
//! - [`hotline`]: a 123 operator's form for a call.
//! - [`restoring`]: a stored token awaiting its first `/auth/me` answer.
//! - [`register`]: the «register a child» form, queued in the outbox, with
//!   the duplicate-candidates screen when the network allows.
//! - [`outbox`]: the sync bar and the list of this phone's writes, with the
//!   choice between both values of a conflict.
//! - [`search`]: by name or code (offline: the working set) and by iris.
//! - [`child`]: a child's profile, encounters, status and referral.
//! - [`triage`]: the supervisors' queue of reports, and one report.
//! - [`team`]: each worker's caseload, verified visits, overdue follow-ups.
//! - [`centres`]: the area's service centres, open files against capacity.
//! - [`tasks`]: the user's follow-ups due, reports to visit, open referrals.
//! - [`inbox`]: the user's notifications.
//! - [`review`]: duplicate reviews, both records side by side.
//! - [`settings`]: notification settings: push on this device, muted kinds,
//!   quiet hours, digest, the phone for urgent SMS.
//! - [`atlas`]: the presence atlas: map, zoning legend, hot spots, trend,
//!   exports.
//! - [`indicators`]: cohort outcomes, timeliness, re-entry, centre load and
//!   the quarterly report.
//! - [`deferred`]: the screens loaded on demand (split points).
//! - `location`, `shared`: the position field; thumbnails, candidates, rows.

pub mod atlas;
pub mod centres;
pub mod child;
pub mod deferred;
pub mod home;
pub mod hotline;
pub mod inbox;
pub mod indicators;
mod location;
pub mod login;
pub mod outbox;
pub mod register;
pub mod restoring;
pub mod review;
pub mod search;
pub mod settings;
mod shared;
pub mod tasks;
pub mod team;
pub mod triage;

use leptos::html::H1;
use leptos::prelude::*;

use crate::i18n::{ErrorText, t};

/// Moves keyboard and screen-reader focus to a page's heading once it is
/// mounted, so switching screens is announced (the heading has tabindex=-1).
pub fn focus_on_mount(heading: NodeRef<H1>) {
    Effect::new(move |_| {
        if let Some(h1) = heading.get() {
            let _ = h1.focus();
        }
    });
}

/// An error box. `role=alert` makes screen readers read it out when it appears.
#[component]
pub fn ErrorBox(text: ErrorText) -> impl IntoView {
    view! {
        <div class="alert" role="alert">
            <p>{text.message}</p>
            {text.detail.map(|d| view! { <p class="detail" dir="auto">{d}</p> })}
            {text.request_id.map(|id| view! {
                <p class="detail">{t().request_id} ": " <bdi dir="ltr">{id}</bdi></p>
            })}
        </div>
    }
}
