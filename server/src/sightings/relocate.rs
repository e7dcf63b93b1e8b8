//! `kudakyar sightings relocate`: places every report and incident again
//! with [`super::place::locate`], after centres or boundaries changed (the
//! atlas import), and counts what moved. The batched pass is
//! [`crate::geo::backfill::pass`], shared with the encounters' backfill.

use crate::atlas::subjects::Kind;
use crate::audit::{self, Event, Origin, Who};
use crate::db::Db;
use crate::error::Result;
use crate::geo::backfill::{self, Target};

/// What a relocation moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relocated {
    pub sightings: u64,
    pub incidents: u64,
}

/// The tables relocated, in order.
const TABLES: [Target; 2] = [
    Target {
        table: "sightings",
        updated_at: true,
        centre_fallback: true,
        atlas: (Kind::Sighting, "id"),
    },
    Target {
        table: "incidents",
        updated_at: true,
        centre_fallback: true,
        atlas: (Kind::Incident, "id"),
    },
];

/// How many rows a relocation goes through (for a progress bar).
pub async fn total(db: &Db) -> Result<u64> {
    backfill::total(db, &TABLES).await
}

/// Places every report, then every incident, again; `progress` hears how
/// many rows each batch went through. Audited once, as the system.
pub async fn relocate(db: &Db, batch: i64, mut progress: impl FnMut(u64)) -> Result<Relocated> {
    let sightings = backfill::pass(db, TABLES[0], batch, &mut progress).await?;
    let incidents = backfill::pass(db, TABLES[1], batch, &mut progress).await?;
    let done = Relocated {
        sightings,
        incidents,
    };
    audit::record(
        db.pool(),
        &Who::system(),
        &Origin::system(),
        Event::new("sightings.relocate", "sighting", None)
            .with_detail(serde_json::json!({"sightings": sightings, "incidents": incidents})),
    )
    .await?;
    Ok(done)
}
