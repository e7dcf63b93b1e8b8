//! Pieces several pages show: a child's thumbnail, an iris candidate, a
//! child in a list, and the iris file inputs.

use kudakyar_api::children::Child;
use kudakyar_api::iris::IrisCandidate;
use leptos::html::Input;
use leptos::prelude::*;

use crate::i18n::{t, vocabulary};
use crate::route::{Link, Route};
use crate::session::use_session;
use crate::workset;

/// An authenticated thumbnail, fetched (or read from the offline cache)
/// after mount; a plain box until then or when there is none.
#[component]
pub fn Thumb(url: Option<String>, alt: String) -> impl IntoView {
    let src = RwSignal::new(None::<String>);
    if let (Some(url), Some(token)) = (url, use_session().token()) {
        leptos::task::spawn_local(async move {
            src.set(workset::thumbnail(&token, &url).await);
        });
    }
    view! {
        {move || match src.get() {
            Some(src) => view! { <img class="thumb" src=src alt=alt.clone() width="96" height="96"/> }.into_any(),
            None => view! { <span class="thumb" aria-hidden="true"></span> }.into_any(),
        }}
    }
}

/// Persian (۰–۹) and Arabic-Indic (٠–٩) digits as ASCII, the rest as it is:
/// phone keyboards type them.
pub fn ascii_digits(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            '۰'..='۹' => char::from(b'0' + (c as u32 - '۰' as u32) as u8),
            '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
            c => c,
        })
        .collect()
}

/// The name a worker calls a child by, or «unnamed».
pub fn display_name(given: Option<&str>, family: Option<&str>) -> String {
    let name = [given, family]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.trim().is_empty() {
        t().unnamed.to_owned()
    } else {
        name
    }
}

/// An iris candidate: thumbnail, registry code, name and distance, with a
/// link to the record. `children` holds the page's buttons.
#[component]
pub fn CandidateCard(
    candidate: IrisCandidate,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let s = t();
    let name = display_name(
        candidate.given_name.as_deref(),
        candidate.family_name.as_deref(),
    );
    let code = candidate.registry_code.clone();
    view! {
        <li class="candidate" data-code=code>
            <Thumb url=candidate.thumbnail_url.clone() alt=name.clone()/>
            <div>
                <p><Link to=Route::Child(candidate.child_id.clone())>
                    <bdi dir="ltr" class="code">{candidate.registry_code.clone()}</bdi>
                </Link></p>
                <p><bdi>{name}</bdi></p>
                <p class="muted">{s.distance} ": " <bdi dir="ltr">{format!("{:.3}", candidate.distance)}</bdi></p>
                {children.map(|c| c())}
            </div>
        </li>
    }
}

/// A child in a search result: code, name, status; links to the profile.
#[component]
pub fn ChildRow(child: Child) -> impl IntoView {
    let name = display_name(
        child.facts.given_name.as_deref(),
        child.facts.family_name.as_deref(),
    );
    view! {
        <li class="child-row" data-id=child.id.clone()>
            <Link to=Route::Child(child.id.clone())>
                <bdi>{name}</bdi> " · " <bdi dir="ltr" class="code">{child.registry_code.clone()}</bdi>
            </Link>
            <span class="muted">{vocabulary::status(child.status)}</span>
        </li>
    }
}

/// The left and right iris inputs: images from the camera or exported by a
/// scanner app (no `capture` attribute, so both are offered).
#[component]
pub fn IrisInputs(
    prefix: &'static str,
    left: NodeRef<Input>,
    right: NodeRef<Input>,
) -> impl IntoView {
    let s = t();
    let (l, r) = (format!("{prefix}-left"), format!("{prefix}-right"));
    view! {
        <div class="field">
            <label for=l.clone()>{s.iris_left} " (" {s.optional} ")"</label>
            <input id=l type="file" accept="image/*" node_ref=left/>
        </div>
        <div class="field">
            <label for=r.clone()>{s.iris_right} " (" {s.optional} ")"</label>
            <input id=r type="file" accept="image/*" node_ref=right/>
        </div>
    }
}

/// The file chosen in a file input, if any.
pub fn file(input: NodeRef<Input>) -> Option<web_sys::File> {
    input.get_untracked()?.files()?.get(0)
}

/// The engine's reasons for an unusable capture, from a 422's `errors`.
pub fn retake_reasons(err: &crate::api::ApiError) -> Option<String> {
    let crate::api::ApiError::Problem(p) = err else {
        return None;
    };
    let reasons: Vec<&str> = ["left", "right"]
        .iter()
        .filter_map(|eye| p.errors.get(*eye))
        .flatten()
        .map(String::as_str)
        .collect();
    (p.status == 422 && !reasons.is_empty()).then(|| t().retake.replace("{}", &reasons.join("؛ ")))
}

/// Queues the JSON write `method path` about `child_id` in the outbox and
/// tells the worker in `message`: `queued` when it is on the phone, else
/// why not. Returns whether it was stored.
pub async fn queue_write<T: serde::Serialize>(
    body: &T,
    label: &str,
    (method, path): (&str, &str),
    child_id: &str,
    queued: &'static str,
    message: RwSignal<Option<&'static str>>,
) -> bool {
    let stored = match serde_json::to_string(body) {
        Ok(json) => crate::outbox::enqueue_json(label, method, path, &json, Some(child_id))
            .await
            .is_ok(),
        Err(_) => false,
    };
    message.set(Some(if stored { queued } else { t().store_failed }));
    stored
}
