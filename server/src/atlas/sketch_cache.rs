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
//! sketches go first ([`super::lru`]). It belongs to a [`crate::db::Db`] and its clones, so
//! two databases in one process (the tests) never share sketches.

use std::sync::Arc;

use super::lru::Lru;
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
pub struct Cache(Lru<TotalKey, (i64, Arc<Sketch>)>);

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
        Cache(Lru::with_budget(budget))
    }

    /// The sketch of each row at its stamp, where the cache holds it.
    pub fn get(&self, rows: &[(&TotalKey, i64)]) -> Vec<Option<Arc<Sketch>>> {
        self.0
            .get_all(rows.iter().map(|(key, _)| *key))
            .into_iter()
            .zip(rows)
            .map(|(held, (_, stamp))| {
                held.and_then(|(held_stamp, sketch)| (held_stamp == *stamp).then_some(sketch))
            })
            .collect()
    }

    /// Keeps sketches just read, replacing older stamps of their rows; the
    /// least recently used go when the budget is passed.
    pub fn put(&self, rows: impl IntoIterator<Item = (TotalKey, i64, Arc<Sketch>)>) {
        self.0.put(rows.into_iter().map(|(key, stamp, sketch)| {
            let bytes = OVERHEAD + sketch.size();
            (key, (stamp, sketch), bytes)
        }));
    }

    /// Bytes held now (tests and the bench).
    pub fn bytes(&self) -> usize {
        self.0.bytes()
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
}
