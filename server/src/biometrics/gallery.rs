//! The in-memory gallery every server instance searches, kept in step with
//! the database.
//!
//! At start-up [`SharedGallery::load`] opens (decrypts) every live template,
//! in parallel. Afterwards each instance follows `iris_events`, the table
//! every enrolment, re-encoding and removal writes to
//! ([`SharedGallery::sync`], run every `iris_sync_interval_ms` and right
//! after this instance's own writes). An event only names a template: applying
//! it reads the template's current row and makes the gallery agree (present
//! and live → inserted or replaced; removed → dropped), so applying an event
//! twice, or out of order, is harmless.
//!
//! On PostgreSQL, sequence numbers are taken before commit, so a later event
//! can become visible before an earlier one. The follower therefore does not
//! move its low-water mark past a missing number until [`GAP_PATIENCE`] has
//! passed (after which the number is taken to belong to a rolled-back
//! transaction), and re-reads everything after the mark.
//!
//! A template that does not open (a corrupted row, a key gone missing) is
//! left out of the gallery and logged, never an error of the sync: one bad
//! row must not stop every later enrolment from being followed. The ids left
//! out are kept ([`SharedGallery::unreadable`]) for `/metrics` and
//! `/api/v1/ready`; a later event that makes the row open again takes it back.
//!
//! Entries are keyed by template id; which child a template belongs to is
//! read from the database when a search returns it, so a merge (which moves
//! templates to the surviving record) needs no gallery change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use iris::{Candidate, Gallery, SearchParams, Template};

use super::keys::Keyring;
use super::store;
use crate::db::Db;

/// How long a missing event number is waited for.
pub const GAP_PATIENCE: Duration = Duration::from_secs(10);
/// Templates opened per batch at start-up.
const LOAD_PAGE: i64 = 20_000;
/// Events read per sync round.
const EVENT_PAGE: i64 = 5_000;

#[derive(Default)]
struct Follow {
    /// Every event at or below this number has been applied.
    low_water: i64,
    /// Applied events above the low-water mark.
    applied: BTreeSet<i64>,
    /// Missing numbers below the highest applied one, and since when.
    missing: BTreeMap<i64, Instant>,
}

/// A gallery shared by the handlers of one server process.
#[derive(Clone)]
pub struct SharedGallery {
    gallery: Arc<RwLock<Gallery<String>>>,
    follow: Arc<tokio::sync::Mutex<Follow>>,
    /// Live templates that did not open, by id.
    unreadable: Arc<std::sync::Mutex<BTreeSet<String>>>,
}

impl Default for SharedGallery {
    fn default() -> Self {
        SharedGallery {
            gallery: Arc::new(RwLock::new(Gallery::new())),
            follow: Arc::new(tokio::sync::Mutex::new(Follow::default())),
            unreadable: Arc::default(),
        }
    }
}

impl SharedGallery {
    /// Opens every live template into a new gallery. Events from the last
    /// minute are replayed by the first [`SharedGallery::sync`], covering
    /// enrolments committed while the load ran.
    pub async fn load(db: &Db, keys: &Keyring) -> anyhow::Result<SharedGallery> {
        let started = Instant::now();
        let low_water = store::settled_seq(db.pool(), crate::now_ms() - 60_000).await?;
        let mut gallery = Gallery::new();
        let mut after = String::new();
        let mut unreadable = BTreeSet::new();
        loop {
            let rows = store::page(db.pool(), &after, LOAD_PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            let keys = keys.clone();
            let opened = tokio::task::spawn_blocking(move || open_all(&keys, rows)).await?;
            for item in opened {
                match item {
                    Ok((id, t)) => {
                        gallery.insert(id, &t);
                    }
                    Err((id, e)) => {
                        tracing::error!(template = %id, error = %format!("{e:#}"), "an iris template could not be opened; left out of the gallery");
                        unreadable.insert(id);
                    }
                }
            }
        }
        let failed = unreadable.len();
        if failed > 0 && gallery.is_empty() {
            anyhow::bail!(
                "none of the {failed} iris templates opens with the biometric key {}: \
                 is KUDAKYAR_BIOMETRIC_KEY (or the key file) the one they were sealed with?",
                keys.current().id()
            );
        }
        tracing::info!(
            templates = gallery.len(),
            failed,
            ms = started.elapsed().as_millis() as u64,
            "iris gallery loaded"
        );
        Ok(SharedGallery {
            gallery: Arc::new(RwLock::new(gallery)),
            follow: Arc::new(tokio::sync::Mutex::new(Follow {
                low_water,
                ..Follow::default()
            })),
            unreadable: Arc::new(std::sync::Mutex::new(unreadable)),
        })
    }

    pub fn len(&self) -> usize {
        self.gallery.read().map(|g| g.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many live templates did not open and are left out of the gallery.
    pub fn unreadable(&self) -> usize {
        match self.unreadable.lock() {
            Ok(u) => u.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }

    fn set_unreadable(&self, id: &str, unreadable: bool) {
        let mut u = match self.unreadable.lock() {
            Ok(u) => u,
            Err(poisoned) => poisoned.into_inner(),
        };
        if unreadable {
            u.insert(id.to_string());
        } else {
            u.remove(id);
        }
    }

    /// 1:N search on a blocking thread (tens of milliseconds on a large gallery).
    pub async fn search(
        &self,
        probe: Template,
        params: SearchParams,
    ) -> anyhow::Result<Vec<Candidate<String>>> {
        let gallery = self.gallery.clone();
        let hits = tokio::task::spawn_blocking(move || {
            let g = gallery
                .read()
                .map_err(|_| anyhow::anyhow!("iris gallery lock poisoned"))?;
            anyhow::Ok(g.search(&probe, &params))
        })
        .await??;
        Ok(hits)
    }

    /// Applies every event not applied yet; returns how many were applied.
    pub async fn sync(&self, db: &Db, keys: &Keyring) -> anyhow::Result<usize> {
        let mut follow = self.follow.lock().await;
        let mut applied = 0;
        loop {
            let events = store::events_after(db.pool(), follow.low_water, EVENT_PAGE).await?;
            let fresh: Vec<_> = events
                .iter()
                .filter(|e| !follow.applied.contains(&e.seq))
                .cloned()
                .collect();
            for e in &fresh {
                self.reconcile(db, keys, &e.template_id).await?;
                follow.applied.insert(e.seq);
                follow.missing.remove(&e.seq);
                applied += 1;
            }
            advance(&mut follow, Instant::now());
            if (events.len() as i64) < EVENT_PAGE || fresh.is_empty() {
                break;
            }
        }
        Ok(applied)
    }

    /// Makes the gallery agree with the template's row. A row that does not
    /// open is dropped from the gallery and counted, not an error (see the
    /// module's documentation); only the database failing is.
    async fn reconcile(&self, db: &Db, keys: &Keyring, id: &str) -> anyhow::Result<()> {
        let template = match store::sealed(db.pool(), id).await? {
            Some(stored) => match open_template(keys, id, &stored.key_id, &stored.sealed) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::error!(template = %id, error = %format!("{e:#}"), "an iris template could not be opened; left out of the gallery");
                    self.set_unreadable(id, true);
                    None
                }
            },
            None => {
                self.set_unreadable(id, false);
                None
            }
        };
        if template.is_some() {
            self.set_unreadable(id, false);
        }
        let mut g = self
            .gallery
            .write()
            .map_err(|_| anyhow::anyhow!("iris gallery lock poisoned"))?;
        g.remove(&id.to_string());
        if let Some(t) = template {
            g.insert(id.to_string(), &t);
        }
        Ok(())
    }
}

/// Moves the low-water mark over contiguous applied numbers, and over
/// numbers missing for longer than [`GAP_PATIENCE`].
fn advance(f: &mut Follow, now: Instant) {
    let Some(&highest) = f.applied.iter().next_back() else {
        return;
    };
    for seq in f.low_water + 1..highest {
        if !f.applied.contains(&seq) {
            f.missing.entry(seq).or_insert(now);
        }
    }
    loop {
        let next = f.low_water + 1;
        if f.applied.remove(&next) {
            f.low_water = next;
        } else if f
            .missing
            .get(&next)
            .is_some_and(|since| now.duration_since(*since) >= GAP_PATIENCE)
        {
            f.missing.remove(&next);
            f.low_water = next;
        } else {
            break;
        }
    }
}

fn open_template(
    keys: &Keyring,
    id: &str,
    key_id: &str,
    sealed: &[u8],
) -> anyhow::Result<Template> {
    let bytes = keys.open(key_id, id, sealed)?;
    Ok(Template::from_bytes(&bytes)?)
}

type Opened = Result<(String, Template), (String, anyhow::Error)>;

fn open_all(keys: &Keyring, page: Vec<store::SealedTemplate>) -> Vec<Opened> {
    use rayon::prelude::*;
    page.into_par_iter()
        .map(|t| match open_template(keys, &t.id, &t.key_id, &t.sealed) {
            Ok(opened) => Ok((t.id, opened)),
            Err(e) => Err((t.id, e)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(low: i64, applied: &[i64]) -> Follow {
        Follow {
            low_water: low,
            applied: applied.iter().copied().collect(),
            missing: BTreeMap::new(),
        }
    }

    #[test]
    fn the_mark_moves_over_contiguous_events_only() {
        let now = Instant::now();
        let mut f = follow(3, &[4, 5, 7]);
        advance(&mut f, now);
        assert_eq!(f.low_water, 5, "6 is missing");
        assert!(f.missing.contains_key(&6));
        // 6 arrives late (committed after 7): the mark moves on.
        f.applied.insert(6);
        f.missing.remove(&6);
        advance(&mut f, now);
        assert_eq!(f.low_water, 7);
        assert!(f.applied.is_empty());
    }

    #[test]
    fn a_number_missing_for_long_is_given_up() {
        let start = Instant::now();
        let mut f = follow(0, &[2]);
        advance(&mut f, start);
        assert_eq!(f.low_water, 0);
        advance(&mut f, start + GAP_PATIENCE);
        assert_eq!(f.low_water, 2, "1 was rolled back");
    }
}
