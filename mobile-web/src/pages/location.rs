//! Where the worker is: the phone's GPS fix with its accuracy shown, and a
//! manual position when the fix is poor or missing (GPS needs no network).

use kudakyar_api::children::{NewEncounter, PositionSource};
use leptos::prelude::*;

use crate::i18n::{digits, t};
use crate::outbox::{self, Position};

/// Worse than this, the worker is offered the manual fields.
const POOR_ACCURACY_M: f64 = 100.0;

/// A position field bound to `position`; asks the phone for a fix on mount.
#[component]
pub fn LocationField(position: RwSignal<Option<Position>>) -> impl IntoView {
    let s = t();
    let locating = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let lat = RwSignal::new(String::new());
    let lng = RwSignal::new(String::new());
    let invalid = RwSignal::new(false);
    let locate = move || {
        locating.set(true);
        failed.set(false);
        leptos::task::spawn_local(async move {
            let fix = outbox::current_position().await;
            locating.set(false);
            failed.set(fix.is_none());
            if let Some(p) = fix {
                lat.set(format!("{:.6}", p.lat));
                lng.set(format!("{:.6}", p.lng));
                position.set(Some(p));
            }
        });
    };
    locate();
    let poor = move || {
        failed.get()
            || position
                .get()
                .is_some_and(|p| p.accuracy.is_none_or(|a| a > POOR_ACCURACY_M))
    };
    // Typed coordinates replace the fix (accuracy unknown: none is claimed).
    let manual = move || {
        let parsed = (
            parse_coord(&lat.get_untracked()),
            parse_coord(&lng.get_untracked()),
        );
        match parsed {
            (Some(lat), Some(lng))
                if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) =>
            {
                invalid.set(false);
                position.set(Some(Position {
                    lat,
                    lng,
                    accuracy: None,
                }));
            }
            (None, None) => invalid.set(false),
            _ => invalid.set(true),
        }
    };
    view! {
        <fieldset class="location">
            <legend>{s.location}</legend>
            <p role="status">
                {move || {
                    let line = if locating.get() {
                        s.locating.to_owned()
                    } else if let Some(p) = position.get() {
                        let accuracy = p
                            .accuracy
                            .map(|a| s.accuracy.replace("{}", &digits(a.round() as u32)));
                        format!("{:.5}, {:.5} {}", p.lat, p.lng, accuracy.unwrap_or_default())
                    } else {
                        s.no_position.to_owned()
                    };
                    if poor() { format!("{line} {}", s.poor_gps) } else { line }
                }}
            </p>
            <button type="button" class="btn secondary" on:click=move |_| locate()>{s.locate}</button>
            // Always in the page and closed until the worker opens it, so a
            // failed fix does not push the form down as the page loads.
            <details class="manual">
                <summary>{s.enter_position}</summary>
                <div class="pair">
                    <div class="field">
                        <label for="loc-lat">{s.latitude}</label>
                        <input id="loc-lat" type="text" inputmode="decimal" dir="ltr" bind:value=lat
                            on:change=move |_| manual()/>
                    </div>
                    <div class="field">
                        <label for="loc-lng">{s.longitude}</label>
                        <input id="loc-lng" type="text" inputmode="decimal" dir="ltr" bind:value=lng
                            on:change=move |_| manual()/>
                    </div>
                </div>
                {move || invalid.get().then(|| view! { <p class="warn" role="alert">{s.bad_position}</p> })}
            </details>
        </fieldset>
    }
}

/// «Seen here, now»: an encounter at `pos` with nothing else recorded.
pub fn seen_here(pos: Position) -> NewEncounter {
    NewEncounter {
        id: Some(outbox::new_id()),
        at: outbox::now_rfc3339(),
        lat: pos.lat,
        lng: pos.lng,
        accuracy_m: pos.accuracy,
        activity: None,
        accompanied_by_adult: None,
        services: Vec::new(),
        notes: None,
        next_follow_up: None,
        position_source: Some(if pos.accuracy.is_some() {
            PositionSource::Gps
        } else {
            PositionSource::Typed
        }),
        // Queued now: the outbox holds every write until it can be sent.
        queued_at: Some(outbox::now_rfc3339()),
        iris_identification: None,
    }
}

/// A coordinate typed in any digits, with `.` or the Persian decimal `٫`.
fn parse_coord(raw: &str) -> Option<f64> {
    let ascii: String = kudakyar_api::names::normalise(raw)
        .chars()
        .map(|c| if c == '٫' { '.' } else { c })
        .collect();
    ascii.parse().ok().filter(|v: &f64| v.is_finite())
}

#[cfg(test)]
mod tests {
    #[test]
    fn coordinates_in_persian_digits() {
        assert_eq!(super::parse_coord("۳۵٫۶۸۹۲"), Some(35.6892));
        assert_eq!(super::parse_coord(" 51.389 "), Some(51.389));
        assert_eq!(super::parse_coord("x"), None);
    }
}
