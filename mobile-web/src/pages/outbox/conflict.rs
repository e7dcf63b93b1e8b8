//! A refused update (409): someone else changed the same fields since the
//! worker's copy. Both values are shown per field and the worker picks; the
//! choice becomes a new update based on the server's current version, or,
//! when every pick is the server's value, the item is closed unsent.

use kudakyar_api::children::{ChildUpdate, FieldConflict, Status};
use leptos::prelude::*;

use crate::i18n::{t, vocabulary};
use crate::outbox::{self, Item};

#[component]
pub fn ChooseValues(
    item: Item,
    conflicts: serde_json::Value,
    stored: serde_json::Value,
) -> impl IntoView {
    let s = t();
    let conflicts: Vec<FieldConflict> = serde_json::from_value(conflicts).unwrap_or_default();
    let base_version = stored.get("version").and_then(serde_json::Value::as_i64);
    // The worker's pick per field: `true` keeps their own value.
    let mine = RwSignal::new(vec![true; conflicts.len()]);
    let original: Option<ChildUpdate> = item
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let id = item.id.clone();
    let fields = conflicts.clone();
    let apply = move |_| {
        let picks = mine.get_untracked();
        let replacement = base_version.and_then(|version| {
            let mut update = original.clone()?;
            update.base_version = version;
            for (c, keep_mine) in fields.iter().zip(picks) {
                if !keep_mine {
                    update.changes.remove(&c.field);
                }
            }
            (!update.changes.is_empty()).then(|| serde_json::to_string(&update).ok())?
        });
        let id = id.clone();
        leptos::task::spawn_local(async move {
            let _ = outbox::resolve(&id, replacement.as_deref()).await;
        });
    };
    view! {
        <fieldset class="conflict">
            <legend>{s.conflict_title}</legend>
            {conflicts.into_iter().enumerate().map(|(i, c)| {
                let name = format!("{}-{}", item.id, c.field);
                view! {
                    <div class="choice" data-field=c.field.clone()>
                        <label class="check">
                            <input type="radio" name=name.clone()
                                prop:checked=move || !mine.with(|m| m[i])
                                on:change=move |_| mine.update(|m| m[i] = false)/>
                            {s.keep_stored.replace("{}", &shown(&c.field, &c.stored))}
                        </label>
                        <label class="check">
                            <input type="radio" name=name
                                prop:checked=move || mine.with(|m| m[i])
                                on:change=move |_| mine.update(|m| m[i] = true)/>
                            {s.keep_mine.replace("{}", &shown(&c.field, &c.yours))}
                        </label>
                    </div>
                }
            }).collect_view()}
            <button type="button" class="btn primary" on:click=apply>{s.apply_choice}</button>
        </fieldset>
    }
}

/// A field's value as the worker reads it: statuses by their label, text as
/// it is, anything else as JSON.
fn shown(field: &str, value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(v) if field == "status" => vocabulary::parse::<Status>(v)
            .map_or_else(|| v.clone(), |st| vocabulary::status(st).to_owned()),
        serde_json::Value::String(v) => v.clone(),
        serde_json::Value::Null => t().none.to_owned(),
        other => other.to_string(),
    }
}
