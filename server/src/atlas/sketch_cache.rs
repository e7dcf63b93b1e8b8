//! The sketches a server has read, kept in memory by row and stamp.
//!
//! The country's county map over a year merges about thirty sketches a
//! county ([`super::totals`]), most of them dense (4 KB) once the atlas is
//! large: reading those bytes again for every map was most of the map's
//! time (BENCHMARKS.md, the atlas at 10,000,000 events). Yet a past month's
//! or week's row seldom changes — an offline phone's late sync, a merge, a
//! correction — and today's rows are the small ones. So each row of
//! `atlas_totals` carries a **stamp**, drawn anew by whichever server
//! writes the row, and a read
//!
//! 1. selects its rows' sums and stamps (small rows; on SQLite they stay on
//!    the table's own pages, before the sketch),
//! 2. takes from this cache every sketch it holds at the same stamp,
//! 3. reads the bytes of the rest only, and keeps them here.
//!
//! A stamp that changed is a sketch read again, whichever server wrote it,
//! so the cache is never stale by more than the read itself; nothing has to
//! tell it about writes.
//!
//! The cache holds about [`BUDGET`] bytes; past that the least recently used
//! sketches go first. It belongs to a [`crate::db::Db`] and its clones, so
//! two databases in one process (the tests) never share sketches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::sketch::Sketch;
use super::totals::TotalKey;

/// The bytes of sketches (and their keys) one server keeps: the country's
/// counties and provinces by month and week for two years are ≈ 30 MB at
/// their densest, and cells beyond that take their turn.
pub const BUDGET: usize = 64 << 20;

/// What an entry costs besides its sketch: the key's strings, the map's
/// slot, the `Arc`.
const OVERHEAD: usize = 160;

/// See the module doc.
#[derive(Clone)]
pub struct Cache(Arc<Mutex<Inner>>);

struct Inner {
    entries: HashMap<TotalKey, Entry>,
    bytes: usize,
    budget: usize,
    /// Counts lookups, to tell which entries were used last.
    tick: u64,
}

struct Entry {
    stamp: i64,
    sketch: Arc<Sketch>,
    used: u64,
    bytes: usize,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("atlas::sketch_cache::Cache")
    }
}

impl Default for Cache {
    fn default() -> Self {
        Cache::with_budget(BUDGET)
    }
}

impl Cache {
    /// A cache of about `budget` bytes.
    pub fn with_budget(budget: usize) -> Cache {
        Cache(Arc::new(Mutex::new(Inner {
            entries: HashMap::new(),
            bytes: 0,
            budget,
            tick: 0,
        })))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves whole entries
        // behind (every change below is one map operation): keep using it.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The sketch of each row at its stamp, where the cache holds it.
    pub fn get(&self, rows: &[(&TotalKey, i64)]) -> Vec<Option<Arc<Sketch>>> {
        let mut inner = self.inner();
        inner.tick += 1;
        let tick = inner.tick;
        rows.iter()
            .map(|(key, stamp)| {
                let entry = inner.entries.get_mut(*key)?;
                (entry.stamp == *stamp).then(|| {
                    entry.used = tick;
                    entry.sketch.clone()
                })
            })
            .collect()
    }

    /// Keeps sketches just read, replacing older stamps of their rows; the
    /// least recently used go when the budget is passed.
    pub fn put(&self, rows: impl IntoIterator<Item = (TotalKey, i64, Arc<Sketch>)>) {
        let mut inner = self.inner();
        inner.tick += 1;
        let tick = inner.tick;
        for (key, stamp, sketch) in rows {
            let bytes = OVERHEAD + sketch.size();
            let entry = Entry {
                stamp,
                sketch,
                used: tick,
                bytes,
            };
            inner.bytes += bytes;
            if let Some(old) = inner.entries.insert(key, entry) {
                inner.bytes -= old.bytes;
            }
        }
        if inner.bytes > inner.budget {
            inner.shrink();
        }
    }

    /// Bytes held now (tests and the bench).
    pub fn bytes(&self) -> usize {
        self.inner().bytes
    }
}

impl Inner {
    /// Drops the least recently used entries down to three quarters of the
    /// budget, so the sort is paid once per quarter of the budget, not at
    /// every insert.
    fn shrink(&mut self) {
        let target = self.budget / 4 * 3;
        let mut by_use: Vec<(u64, TotalKey)> = self
            .entries
            .iter()
            .map(|(k, e)| (e.used, k.clone()))
            .collect();
        by_use.sort_unstable_by_key(|(used, _)| *used);
        for (_, key) in by_use {
            if self.bytes <= target {
                break;
            }
            if let Some(gone) = self.entries.remove(&key) {
                self.bytes -= gone.bytes;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::periods::Grain;

    fn key(area: &str) -> TotalKey {
        TotalKey {
            level: "county".into(),
            grain: Grain::Month,
            start: 100,
            province: "IR-23".into(),
            area: area.into(),
            county: area.into(),
        }
    }

    #[test]
    fn a_sketch_is_found_only_at_its_stamp() {
        let cache = Cache::default();
        let sketch = Arc::new(Sketch::of(0..100u64));
        cache.put([(key("a"), 7, sketch.clone())]);
        assert_eq!(cache.get(&[(&key("a"), 7)]), vec![Some(sketch)]);
        assert_eq!(cache.get(&[(&key("a"), 8)]), vec![None]);
        assert_eq!(cache.get(&[(&key("b"), 7)]), vec![None]);
        // A newer stamp replaces the entry and its bytes.
        let before = cache.bytes();
        cache.put([(key("a"), 8, Arc::new(Sketch::of([4])))]);
        assert!(cache.bytes() < before);
        assert_eq!(cache.get(&[(&key("a"), 7)]), vec![None]);
    }

    #[test]
    fn the_least_recently_used_go_past_the_budget() {
        let dense = Arc::new(Sketch::of(0..2_000u64));
        let each = OVERHEAD + dense.size();
        let cache = Cache::with_budget(each * 4);
        for area in ["a", "b", "c", "d"] {
            cache.put([(key(area), 1, dense.clone())]);
        }
        // "a" is used again, so "b" and "c" are the oldest when "e" comes.
        assert!(cache.get(&[(&key("a"), 1)])[0].is_some());
        cache.put([(key("e"), 1, dense.clone())]);
        assert!(cache.bytes() <= each * 3);
        let found: Vec<bool> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|k| cache.get(&[(&key(k), 1)])[0].is_some())
            .collect();
        assert_eq!(found, [true, false, false, true, true]);
    }
}
