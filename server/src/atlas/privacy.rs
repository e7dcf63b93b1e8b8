//! What the atlas never shows.
//!
//! - **No exact point.** The rollups keep days, areas and H3 cells only (an
//!   event's point becomes its resolution-9 cell before anything is stored,
//!   see [`super::subjects`]), so no atlas endpoint can return one.
//! - **Small figures.** An area or period whose figure rests on 1–4
//!   distinct children (or reports, or incidents, for those measures: its
//!   *basis*, see [`super::query`]) comes back as the string `"suppressed"`
//!   — never 0, which would say "nobody" — for roles below supervisor
//!   ([`crate::auth::policy::sees_small_atlas_figures`]) and in every CSV or
//!   GeoJSON download, whoever asks. A figure of 0 is shown as 0: there is
//!   nobody to protect.
//! - **Scope.** Provincial staff (and anyone confined to a province or a
//!   county) see only the figures of their province (county): every read
//!   filters the rollups by the place columns; an area outside the scope is
//!   a 404.

use super::query::Figure;

/// Figures resting on fewer than this many children (reports) are suppressed.
pub const MIN_BASIS: i64 = 5;

/// The marker a suppressed figure carries instead of a number.
pub const SUPPRESSED: &str = "suppressed";

/// Is this figure hidden when suppression applies?
pub fn hides(fig: &Figure) -> bool {
    fig.basis > 0 && fig.basis < MIN_BASIS
}

/// The figure as the API shows it: a number, or [`SUPPRESSED`].
pub fn shown(fig: &Figure, suppress: bool) -> serde_json::Value {
    if suppress && hides(fig) {
        serde_json::Value::from(SUPPRESSED)
    } else {
        serde_json::Value::from(fig.value)
    }
}
