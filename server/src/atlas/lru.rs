//! [`Lru`]: a map in memory of about a given number of bytes, the least
//! recently used entries dropped first: what [`super::sketch_cache`] and
//! [`super::piece_cache`] keep their entries in.
//!
//! One mutex around a `HashMap`; a lookup stamps the entry with a tick, and
//! past the budget the entries are sorted by tick and the oldest go, down to
//! three quarters of the budget, so the sort is paid once per quarter of the
//! budget and not at every insert. Entries are cheap to clone (an `Arc` or
//! two): a reader takes its copy and lets the lock go at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// See the module doc. Clones share the entries.
pub struct Lru<K, V>(Arc<Mutex<Inner<K, V>>>);

struct Inner<K, V> {
    entries: HashMap<K, Entry<V>>,
    bytes: usize,
    budget: usize,
    /// Counts lookups, to tell which entries were used last.
    tick: u64,
}

struct Entry<V> {
    value: V,
    used: u64,
    bytes: usize,
}

impl<K, V> Clone for Lru<K, V> {
    fn clone(&self) -> Self {
        Lru(self.0.clone())
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    /// An empty map of about `budget` bytes.
    pub fn with_budget(budget: usize) -> Self {
        Lru(Arc::new(Mutex::new(Inner {
            entries: HashMap::new(),
            bytes: 0,
            budget,
            tick: 0,
        })))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic elsewhere while holding the lock leaves whole entries
        // behind (every change is one map operation): keep using it.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value of each key, where there is one, under one lock.
    pub fn get_all<'k>(&self, keys: impl IntoIterator<Item = &'k K>) -> Vec<Option<V>>
    where
        K: 'k,
    {
        let mut inner = self.inner();
        inner.tick += 1;
        let tick = inner.tick;
        keys.into_iter()
            .map(|key| {
                let entry = inner.entries.get_mut(key)?;
                entry.used = tick;
                Some(entry.value.clone())
            })
            .collect()
    }

    /// Keeps `(key, value, bytes)` entries, replacing older values of their
    /// keys; the least recently used go when the budget is passed.
    pub fn put(&self, entries: impl IntoIterator<Item = (K, V, usize)>) {
        let mut inner = self.inner();
        inner.tick += 1;
        let tick = inner.tick;
        for (key, value, bytes) in entries {
            inner.bytes += bytes;
            let entry = Entry {
                value,
                used: tick,
                bytes,
            };
            if let Some(old) = inner.entries.insert(key, entry) {
                inner.bytes -= old.bytes;
            }
        }
        if inner.bytes > inner.budget {
            inner.shrink();
        }
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.inner().bytes
    }
}

impl<K: Hash + Eq + Clone, V> Inner<K, V> {
    fn shrink(&mut self) {
        let target = self.budget / 4 * 3;
        let mut by_use: Vec<(u64, K)> = self
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

    #[test]
    fn the_least_recently_used_go_past_the_budget() {
        let lru: Lru<&str, u32> = Lru::with_budget(400);
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            lru.put([(key, i as u32, 100)]);
        }
        // "a" is used again, so "b" and "c" are the oldest when "e" comes.
        assert_eq!(lru.get_all([&"a"]), vec![Some(0)]);
        lru.put([("e", 4, 100)]);
        assert!(lru.bytes() <= 300, "{}", lru.bytes());
        let found = lru.get_all(&["a", "b", "c", "d", "e"]);
        assert_eq!(found, [Some(0), None, None, Some(3), Some(4)]);
    }

    #[test]
    fn a_new_value_replaces_the_old_and_its_bytes() {
        let lru: Lru<&str, u32> = Lru::with_budget(1_000);
        lru.put([("a", 1, 500)]);
        lru.put([("a", 2, 20)]);
        assert_eq!(lru.bytes(), 20);
        assert_eq!(lru.get_all(&["a", "b"]), vec![Some(2), None]);
    }
}
