//! Taking in a report: [`submit`].
//!
//! 1. Validate everything, gathering every field error at once.
//! 2. A report already stored under this id answers like the first time
//!    (200 and the same receipt) when its content is the same, 409 when not —
//!    before any limit is counted, so a phone retrying costs nothing (looked
//!    up before its photo is processed, or by the writer's one lookup for
//!    its batch).
//! 3. The photo (the registry's checks: type by content, pixel cap, EXIF and
//!    GPS stripped) goes to the object store first: a row never points at an
//!    image that is not there.
//! 4. [`write_new`], in a transaction shared with the reports arriving at
//!    the same moment (see [`super::writer`]: one commit, one disk flush,
//!    for all of them), decided together and written with one statement per
//!    table: count each citizen against the limits (and spend a
//!    proof-of-work stamp past the soft limit), group each report into an
//!    incident, flag it, insert it with a fresh receipt code, and add its
//!    first history row, domain events, places in the atlas queue and audit
//!    entry.

use bytes::Bytes;
use kudakyar_api::sightings::{
    NewSighting, ProofOfWork, ReceiptState, SightingReceipt, SightingSource, SightingState,
};
use kudakyar_api::users::Role;
use serde::Serialize;

use super::store::{self, Details};
use super::{abuse, grouping, place, receipt};
use crate::app::AppState;
use crate::atlas::{rollup, subjects as atlas};
use crate::audit::{self, Event, Origin, Who};
use crate::auth::{Actor, policy};
use crate::config::Config;
use crate::db::sql::{Arg, Sql};
use crate::error::{Error, Result, Validator};
use crate::events::{self, DomainEvent, Kind};
use crate::photos::process;

/// How far back a report may say the child was seen.
const MAX_AGE_MS: i64 = 7 * 24 * 3600 * 1000;
/// Clocks of phones run fast: this much "future" is taken as now.
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;
const MAX_DESCRIPTION_CHARS: usize = 1000;

/// A report that passed validation; its serialisation is the digest an
/// identical retry repeats (the content, not the stamp, token or trap).
#[derive(Debug, Clone, Serialize)]
struct Checked {
    id: String,
    source: SightingSource,
    /// The time as sent (none: "now"), so that a retry digests the same.
    seen_at_sent: Option<String>,
    #[serde(skip)]
    seen_at: i64,
    lat: f64,
    lng: f64,
    accuracy_m: Option<f64>,
    children_count: i64,
    details: Details,
    reporter_phone: Option<String>,
    /// SHA-256 of the uploaded photo, when there is one.
    photo_sha256: Option<String>,
}

/// A report ready to be written: checked, its photo stored. What the
/// [`super::writer`] hands to [`write_new`] inside a shared transaction.
#[derive(Debug)]
pub struct Pending {
    checked: Checked,
    digest: String,
    photo_key: Option<String>,
    device_token: Option<String>,
    proof: Option<ProofOfWork>,
    actor: Option<Actor>,
    origin: Origin,
    /// The boundaries as the report was checked against them.
    boundaries: std::sync::Arc<crate::geo::Index>,
}

impl Pending {
    /// A report dated `seen_at_ms`, however long ago, checked in every
    /// other way like one sent to the API: what `kudakyar demo seed` writes
    /// (a year of history, where a real report is at most a week old). No
    /// photo, no client address or device, so no abuse limit counts it.
    pub fn backdated(
        actor: Option<&Actor>,
        new: &NewSighting,
        seen_at_ms: i64,
        boundaries: std::sync::Arc<crate::geo::Index>,
    ) -> Result<Pending> {
        let mut checked = check(actor, new, None, &boundaries)?;
        checked.seen_at = seen_at_ms;
        checked.seen_at_sent = Some(crate::ms_to_rfc3339(seen_at_ms));
        Ok(Pending {
            digest: crate::registry::store::digest(&checked),
            checked,
            photo_key: None,
            device_token: None,
            proof: None,
            actor: actor.cloned(),
            origin: Origin::system(),
            boundaries,
        })
    }
}

impl Pending {
    /// The report's id.
    pub fn id(&self) -> &str {
        &self.checked.id
    }

    /// The digest a retry of it repeats.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Where the report was seen, by the boundaries it was checked against.
    pub async fn place(&self, conn: &mut sqlx::AnyConnection) -> sqlx::Result<place::Place> {
        place::locate(&self.boundaries, conn, self.checked.lat, self.checked.lng).await
    }

    /// The abuse counters a citizen's report counts against: its address's
    /// and its device's. None for a staff member's.
    fn counter_keys(&self) -> Vec<String> {
        if self.checked.source != SightingSource::Citizen {
            return Vec::new();
        }
        let ip = self.origin.client_ip.as_deref();
        let ip = ip.map(|ip| abuse::key("sighting-ip", ip));
        let device = self.device_token.as_deref();
        let device = device.map(|token| abuse::key("sighting-device", token));
        ip.into_iter().chain(device).collect()
    }

    /// What writing the report at `place` may wait for on PostgreSQL, as
    /// [`crate::db::Db::lock_keys`] keys: its id (a copy in another batch), its
    /// counters' rows, its place's incidents. The writer takes a batch's
    /// keys in one order before writing any of it.
    pub fn lock_keys(&self, place: &place::Place) -> Vec<String> {
        let mut keys = vec![
            format!("sighting:{}", self.checked.id),
            grouping::lock_key(place),
        ];
        keys.extend(
            self.counter_keys()
                .iter()
                .map(|key| abuse::counter_lock_key(key)),
        );
        keys
    }
}

/// The rows written reports add beside their own, gathered over a batch
/// and written in one statement per table ([`Trail::write`]) before the
/// batch commits: each report's first history row, its domain events (and
/// the notifications they cause), its places in the atlas queue and its
/// audit entry. One statement each per report would be half of intake's
/// statements.
#[derive(Debug, Default)]
pub struct Trail {
    /// (report, by whom, when): the report's first history row, `new`.
    steps: Vec<(String, Option<String>, i64)>,
    events: Vec<Told>,
    queued: Vec<(atlas::Kind, String)>,
    /// (who, from where, report, detail): a `sighting.create` entry.
    audits: Vec<(Who, Origin, String, serde_json::Value)>,
}

/// A domain event about a new report, held until the batch writes it.
#[derive(Debug)]
struct Told {
    kind: Kind,
    place: place::Place,
    report: String,
    by: Option<String>,
    detail: serde_json::Value,
}

impl Trail {
    /// Writes the rows, in the batch's transaction.
    pub async fn write(self, conn: &mut sqlx::AnyConnection) -> sqlx::Result<()> {
        store::record_steps(
            &mut *conn,
            self.steps
                .iter()
                .map(|(id, by, at)| (id.as_str(), SightingState::New, None, by.as_deref(), *at)),
        )
        .await?;
        let events: Vec<DomainEvent> = self
            .events
            .iter()
            .map(|e| DomainEvent {
                kind: e.kind,
                province: e.place.province.as_deref(),
                county: e.place.county.as_deref(),
                subject_type: "sighting",
                subject_id: &e.report,
                user_id: None,
                actor_id: e.by.as_deref(),
                detail: Some(e.detail.clone()),
            })
            .collect();
        events::record_all(&mut *conn, &events).await?;
        rollup::enqueue_all(
            &mut *conn,
            self.queued.iter().map(|(kind, id)| (*kind, id.as_str())),
        )
        .await?;
        audit::record_all(
            &mut *conn,
            self.audits.iter().map(|(who, origin, id, detail)| {
                (
                    who,
                    origin,
                    Event::new("sighting.create", "sighting", Some(id)).with_detail(detail.clone()),
                )
            }),
        )
        .await
    }
}

/// Takes in a report; `Ok((receipt, false))` when it repeats one already
/// stored. `actor` is `None` for a citizen.
pub async fn submit(
    state: &AppState,
    actor: Option<&Actor>,
    origin: &Origin,
    new: NewSighting,
    photo: Option<Bytes>,
) -> Result<(SightingReceipt, bool)> {
    let boundaries = state.db.boundaries().await?;
    let checked = check(actor, &new, photo.as_deref(), &boundaries)?;
    let digest = crate::registry::store::digest(&checked);
    // A retry with a photo is answered before the photo is processed again;
    // without one, the writer's lookup of its batch answers it.
    let photo_key = match photo {
        Some(bytes) => {
            if let Some(existing) = stored(state.db.pool(), &checked.id, &digest).await? {
                return Ok((existing, false));
            }
            Some(store_photo(state, &checked.id, bytes).await?)
        }
        None => None,
    };
    let pending = Pending {
        checked,
        digest,
        photo_key,
        device_token: new.device_token,
        proof: new.proof,
        actor: actor.cloned(),
        origin: origin.clone(),
        boundaries,
    };
    state.sightings.write(pending).await
}

/// What writing one report of a batch came to: its receipt and whether it
/// was stored now (`false`: a copy of one stored before), or its refusal.
pub type Answer = Result<(SightingReceipt, bool)>;

/// A report taken, on its way into `sightings`.
struct Row<'a> {
    /// Its place in the batch.
    at: usize,
    pending: &'a Pending,
    place: &'a place::Place,
    incident: String,
    device_hash: Option<String>,
    flag: Option<&'static str>,
}

/// Writes the reports of a batch that [`stored_all`] did not find, each
/// placed at its [`Pending::place`], inside the writer's transaction `conn`
/// holding every key their [`Pending::lock_keys`] name. One answer per
/// report, in order; `Err` fails the whole batch (nothing is committed).
///
/// The batch is decided in memory from a few reads, then written with one
/// statement per table rather than several per report (each statement is
/// a round trip to the database's thread, which was most of intake's cost):
///
/// 1. Limits, report by report ([`abuse::Counters`]): a citizen over the
///    hard limit is refused (429), past the soft one must spend a
///    proof-of-work stamp; a refused report counts nothing. A second copy
///    of a report taken earlier in the batch answers as its retry.
/// 2. Incidents ([`grouping::Grouping`]) and the far-apart flag
///    ([`abuse::Tracks`]), each report seeing the batch's earlier ones.
/// 3. The counters, the incidents, then the reports, each with a fresh
///    receipt code (a code drawn twice is drawn again); their history rows,
///    domain events, atlas queue rows and audit entries go into `trail`.
pub async fn write_new(
    config: &Config,
    conn: &mut sqlx::AnyConnection,
    reports: &[(&Pending, &place::Place)],
    trail: &mut Trail,
) -> Result<Vec<Answer>> {
    let now = crate::now_ms();
    let mut answers: Vec<Option<Answer>> = reports.iter().map(|_| None).collect();
    let mut counters = abuse::Counters::read(
        conn,
        reports.iter().flat_map(|(p, _)| p.counter_keys()),
        now,
    )
    .await?;
    let mut taken: Vec<usize> = Vec::with_capacity(reports.len());
    let mut copies: Vec<(usize, usize)> = Vec::new();
    for (at, (p, _)) in reports.iter().enumerate() {
        if let Some(&first) = taken.iter().find(|&&t| reports[t].0.id() == p.id()) {
            copies.push((at, first));
            continue;
        }
        let keys = p.counter_keys();
        let gate = match counters.check(
            &keys,
            config.sighting_soft_limit_per_hour,
            config.sighting_max_per_hour,
        ) {
            Ok(gate) => gate,
            Err(refused) => {
                answers[at] = Some(Err(refused));
                continue;
            }
        };
        if gate == abuse::Gate::NeedsProof {
            match abuse::spend(conn, p.proof.as_ref()).await {
                Ok(()) => {}
                Err(refused @ Error::Validation(_)) => {
                    answers[at] = Some(Err(refused));
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        counters.add(&keys);
        taken.push(at);
    }

    let seen: Vec<(f64, f64, i64)> = taken
        .iter()
        .map(|&at| {
            let c = &reports[at].0.checked;
            (c.lat, c.lng, c.seen_at)
        })
        .collect();
    let mut grouping = grouping::Grouping::read(conn, &seen).await?;
    let devices = taken
        .iter()
        .filter_map(|&at| reports[at].0.device_token.as_deref().map(abuse::hash));
    let mut tracks = abuse::Tracks::read(conn, devices, now).await?;
    let mut rows = Vec::with_capacity(taken.len());
    for &at in &taken {
        let (pending, place) = reports[at];
        let c = &pending.checked;
        let incident = grouping.assign(place, c.lat, c.lng, c.seen_at);
        let device_hash = pending.device_token.as_deref().map(abuse::hash);
        let flag = device_hash
            .as_deref()
            .is_some_and(|d| tracks.far_apart(d, c.lat, c.lng, c.seen_at))
            .then_some("far_apart");
        if let Some(d) = device_hash.as_deref() {
            tracks.add(d, c.lat, c.lng, c.seen_at);
        }
        rows.push(Row {
            at,
            pending,
            place,
            incident,
            device_hash,
            flag,
        });
    }
    counters.write(conn).await?;
    grouping.write(conn).await?;
    let codes = insert(config, conn, &rows, now).await?;

    for (row, code) in rows.iter().zip(codes) {
        let p = row.pending;
        let checked = &p.checked;
        let by = p.actor.as_ref().map(|a| a.user_id.clone());
        let source = store::source_str(checked.source);
        trail.steps.push((checked.id.clone(), by.clone(), now));
        // The atlas counts the report, and its incident (new, or its times moved).
        trail
            .queued
            .push((atlas::Kind::Sighting, checked.id.clone()));
        trail
            .queued
            .push((atlas::Kind::Incident, row.incident.clone()));
        let kinds: &[Kind] = if row.flag.is_some() {
            &[Kind::SightingReceived, Kind::SightingFlagged]
        } else {
            &[Kind::SightingReceived]
        };
        let detail = serde_json::json!({ "source": source, "incident": row.incident });
        for &kind in kinds {
            trail.events.push(Told {
                kind,
                place: row.place.clone(),
                report: checked.id.clone(),
                by: by.clone(),
                detail: detail.clone(),
            });
        }
        let who = p
            .actor
            .as_ref()
            .map(Who::from)
            .unwrap_or_else(|| Who::claimed("citizen"));
        trail
            .audits
            .push((who, p.origin.clone(), checked.id.clone(), detail));
        answers[row.at] = Some(Ok((
            SightingReceipt {
                id: checked.id.clone(),
                receipt_code: code,
                state: ReceiptState::Received,
                received_at: crate::ms_to_rfc3339(now),
            },
            true,
        )));
    }
    for (at, first) in copies {
        let answer = match &answers[first] {
            Some(Ok((receipt, _))) if reports[first].0.digest == reports[at].0.digest => {
                Ok((receipt.clone(), false))
            }
            _ => Err(Error::Conflict {
                detail: "a different report was already stored with this id".into(),
                stored: None,
                conflicts: None,
            }),
        };
        answers[at] = Some(answer);
    }
    Ok(answers
        .into_iter()
        .map(|a| {
            a.unwrap_or_else(|| {
                Err(anyhow::anyhow!("a report of the batch was left unanswered").into())
            })
        })
        .collect())
}

/// Inserts `rows`, 16 to a statement, each with a fresh receipt code; a
/// row not inserted had drawn a code already given (its id is free: the
/// batch holds its lock and found no copy) and is drawn again, up to three
/// times. Answers each row's code.
async fn insert(
    config: &Config,
    conn: &mut sqlx::AnyConnection,
    rows: &[Row<'_>],
    now: i64,
) -> Result<Vec<String>> {
    let mut codes: Vec<Option<String>> = rows.iter().map(|_| None).collect();
    for _draw in 0..3 {
        let waiting: Vec<usize> = (0..rows.len()).filter(|&i| codes[i].is_none()).collect();
        if waiting.is_empty() {
            break;
        }
        for chunk in waiting.chunks(16) {
            let drawn: Vec<String> = chunk.iter().map(|_| receipt::generate()).collect();
            let mut sql = Sql::new(
                "INSERT INTO sightings (id, receipt_code, source, seen_at, lat, lng, accuracy_m,
                     province, county, children_count, details, photo_key, reporter_phone,
                     phone_purge_at, client_hash, device_hash, flag, state, incident_id,
                     create_digest, created_by, created_at, updated_at) VALUES ",
            );
            for (n, (&i, code)) in chunk.iter().zip(&drawn).enumerate() {
                let row = &rows[i];
                let p = row.pending;
                let c = &p.checked;
                let details = serde_json::to_string(&c.details).map_err(anyhow::Error::new)?;
                let phone_purge_at = c
                    .reporter_phone
                    .as_ref()
                    .map(|_| now + i64::from(config.reporter_phone_retention_days) * 86_400_000);
                sql.push(if n == 0 { "(" } else { ", (" });
                for (k, arg) in [
                    Arg::Text(c.id.clone()),
                    Arg::Text(code.clone()),
                    Arg::Text(store::source_str(c.source).to_owned()),
                    Arg::Int(c.seen_at),
                    Arg::Float(c.lat),
                    Arg::Float(c.lng),
                ]
                .into_iter()
                .enumerate()
                {
                    if k > 0 {
                        sql.push(", ");
                    }
                    sql.bind(arg);
                }
                // An optional float goes as text (see `nullable_float`).
                sql.push(", CAST(")
                    .bind(Arg::OptText(crate::db::sql::nullable_float(c.accuracy_m)))
                    .push(" AS DOUBLE PRECISION)");
                for arg in [
                    Arg::OptText(row.place.province.clone()),
                    Arg::OptText(row.place.county.clone()),
                    Arg::Int(c.children_count),
                    Arg::Text(details),
                    Arg::OptText(p.photo_key.clone()),
                    Arg::OptText(c.reporter_phone.clone()),
                    Arg::OptInt(phone_purge_at),
                    Arg::OptText(p.origin.client_ip.as_deref().map(abuse::hash)),
                    Arg::OptText(row.device_hash.clone()),
                    Arg::OptText(row.flag.map(str::to_owned)),
                ] {
                    sql.push(", ").bind(arg);
                }
                sql.push(", 'new'");
                for arg in [
                    Arg::Text(row.incident.clone()),
                    Arg::Text(p.digest.clone()),
                    Arg::OptText(p.actor.as_ref().map(|a| a.user_id.clone())),
                    Arg::Int(now),
                    Arg::Int(now),
                ] {
                    sql.push(", ").bind(arg);
                }
                sql.push(")");
            }
            // No conflict target: a row not inserted drew a code given before.
            sql.push(" ON CONFLICT DO NOTHING RETURNING id");
            let inserted: Vec<String> = sql
                .query()
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| sqlx::Row::try_get(r, "id"))
                .collect::<sqlx::Result<_>>()?;
            for (&i, code) in chunk.iter().zip(drawn) {
                if inserted.contains(&rows[i].pending.checked.id) {
                    codes[i] = Some(code);
                }
            }
        }
    }
    codes
        .into_iter()
        .map(|c| c.ok_or_else(|| anyhow::anyhow!("no free receipt code after three draws").into()))
        .collect()
}

/// What is stored of a report: enough to answer a retry.
#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    id: String,
    create_digest: String,
    receipt_code: String,
    state: String,
    created_at: i64,
}

const STORED_COLUMNS: &str = "id, create_digest, receipt_code, state, created_at";

impl Stored {
    /// The answer to a report sent again with this `digest`: the receipt
    /// when its create had the same, 409 when another.
    pub fn answer(&self, digest: &str) -> Result<SightingReceipt> {
        if self.create_digest != digest {
            return Err(Error::Conflict {
                detail: "a different report was already stored with this id".into(),
                stored: None,
                conflicts: None,
            });
        }
        Ok(SightingReceipt {
            id: self.id.clone(),
            receipt_code: self.receipt_code.clone(),
            state: crate::db::vocab::enum_parse::<SightingState>(&self.state)
                .map_or(ReceiptState::Received, SightingState::receipt),
            received_at: crate::ms_to_rfc3339(self.created_at),
        })
    }
}

/// The receipt of the report stored under `id`, when its create had this
/// digest; 409 when it had another; `None` when there is none.
async fn stored<'e, E>(executor: E, id: &str, digest: &str) -> Result<Option<SightingReceipt>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row: Option<Stored> = sqlx::query_as(&format!(
        "SELECT {STORED_COLUMNS} FROM sightings WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.map(|r| r.answer(digest)).transpose()
}

/// The stored reports of a batch's ids, by id: one lookup for the batch,
/// inside its transaction.
pub async fn stored_all(
    conn: &mut sqlx::AnyConnection,
    batch: &[Pending],
) -> Result<std::collections::HashMap<String, Stored>> {
    use crate::db::sql::Sql;
    let mut sql = Sql::new(&format!(
        "SELECT {STORED_COLUMNS} FROM sightings WHERE id IN "
    ));
    sql.bind_list(batch.iter().map(|p| p.checked.id.clone()));
    let rows: Vec<Stored> = sql.query_as().fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
}

/// Decodes and normalises the photo and stores it under a content-addressed
/// key (a concurrent retry with another file writes elsewhere).
async fn store_photo(state: &AppState, id: &str, bytes: Bytes) -> Result<String> {
    let processed = process::process_off_thread(bytes).await?;
    let sha = crate::photos::upload::sha256_hex(&processed.image);
    let key = format!("sightings/{id}/{}.jpg", &sha[..16]);
    state.media.put(&key, processed.image.into()).await?;
    Ok(key)
}

/// Validates a report; every bad field named at once.
fn check(
    actor: Option<&Actor>,
    new: &NewSighting,
    photo: Option<&[u8]>,
    boundaries: &crate::geo::Index,
) -> Result<Checked> {
    let mut v = Validator::new();
    let id = match uuid::Uuid::parse_str(new.id.trim()) {
        Ok(u) => u.hyphenated().to_string(),
        Err(_) => {
            v.add("id", "must be a UUID");
            String::new()
        }
    };
    let source = match (actor, new.source) {
        (None, None | Some(SightingSource::Citizen)) => SightingSource::Citizen,
        (None, Some(_)) => return Err(Error::Unauthorized),
        (Some(a), None) if a.role == Role::HotlineOperator => SightingSource::Hotline,
        (Some(_), None) => SightingSource::Worker,
        (Some(_), Some(s)) => s,
    };
    if let Some(actor) = actor {
        policy::record_sighting(actor, source)?;
    }
    let now = crate::now_ms();
    let seen_at = match new.seen_at.as_deref() {
        None => now,
        Some(t) => match crate::rfc3339_to_ms(t) {
            None => {
                v.add(
                    "seen_at",
                    "must be an RFC 3339 time, e.g. 2026-11-23T18:30:00+03:30",
                );
                now
            }
            Some(ms) if ms > now + CLOCK_SKEW_MS => {
                v.add("seen_at", "is in the future");
                now
            }
            Some(ms) if ms < now - MAX_AGE_MS => {
                v.add(
                    "seen_at",
                    "is more than 7 days ago: report what you saw this week",
                );
                now
            }
            Some(ms) => ms.min(now),
        },
    };
    crate::geo::check_position(&mut v, new.lat, new.lng);
    if new.lat.is_finite()
        && new.lng.is_finite()
        && !place::in_country(boundaries, new.lat, new.lng)
    {
        v.add(
            "lat",
            "this place is outside Iran: check the position on the map",
        );
    }
    v.check(
        new.accuracy_m
            .is_none_or(|a| a.is_finite() && (0.0..=10_000.0).contains(&a)),
        "accuracy_m",
        "must be 0–10000 metres",
    );
    let children_count = new.children_count.unwrap_or(1);
    v.check(
        (1..=50).contains(&children_count),
        "children_count",
        "must be 1–50",
    );
    let description = new
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    v.check(
        description.is_none_or(|d| d.chars().count() <= MAX_DESCRIPTION_CHARS),
        "description",
        "must be at most 1000 characters",
    );
    let mut age_bands = new.age_bands.clone();
    age_bands.sort_by_key(|b| *b as u8);
    age_bands.dedup();
    let reporter_phone = new
        .reporter_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if let Some(phone) = reporter_phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        v.check(
            (7..=15).contains(&digits)
                && phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-')),
            "reporter_phone",
            "must be a phone number: 7–15 digits, optionally with + and spaces",
        );
        v.check(
            new.phone_consent,
            "phone_consent",
            "must be true to keep a phone number: the reporter agrees to be called back",
        );
    }
    v.check(
        new.device_token.as_deref().is_none_or(|t| {
            (8..=128).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_graphic())
        }),
        "device_token",
        "must be 8–128 printable ASCII characters",
    );
    v.check(
        new.website.as_deref().is_none_or(str::is_empty),
        "website",
        "must be left empty",
    );
    v.finish()?;
    Ok(Checked {
        id,
        source,
        seen_at_sent: new.seen_at.clone(),
        seen_at,
        lat: new.lat,
        lng: new.lng,
        accuracy_m: new.accuracy_m,
        children_count,
        details: Details {
            age_bands,
            sex: new.sex,
            activity: new.activity,
            description: description.map(str::to_string),
        },
        reporter_phone: reporter_phone.map(str::to_string),
        photo_sha256: photo.map(crate::photos::upload::sha256_hex),
    })
}
