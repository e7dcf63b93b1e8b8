//! The periods a server has added up, kept in memory by each period's
//! checksum.
//!
//! A map over a year adds up about twenty-five periods
//! ([`super::periods::pieces`]) of every area: for the country's counties,
//! ≈ 11,000 rows of `atlas_totals`. Handing that many rows from the
//! database to the server one by one, through the driver, was most of the
//! map's time (BENCHMARKS.md: the sqlite3 shell reads them in 9 ms, the
//! server took 120 ms) — yet a past period seldom changes. So a read
//! ([`super::totals::figures`]) first asks the database for each period's
//! [`Checksum`], in one aggregate over the same rows: how many rows it has
//! and the sum of their stamps modulo the prime 2³¹ − 1 (every write gives a
//! row a new random stamp, [`super::sketch_cache`]). That is a few dozen
//! rows. A period whose checksum is the one held here comes from memory,
//! already added up per area ([`Piece`]); the rest are read and kept.
//!
//! **Why it is never stale.** A row added or deleted changes the count. A
//! row rewritten changes the sum unless its new stamp is congruent to the
//! old modulo the prime: odds of one in 2³¹ per write, and the period's next
//! write corrects it. Rows read after their checksum can only be newer than
//! it: the next read then finds the checksum changed and reads them again.
//! Whichever server wrote the rows, nothing has to tell the cache.
//!
//! A period's rows depend on the read's *shape* — the level and the place
//! conditions (the caller's scope, a series' area, the provinces a box
//! reaches) — so the entries are kept per shape and period. They hold about
//! [`BUDGET`] bytes, the least recently used going first ([`super::lru`]).

use std::sync::Arc;

use super::lru::Lru;
use super::periods::Grain;
use super::sketch::Sketch;
use super::subjects::Measures;

/// The bytes of added-up periods one server keeps: a year of the country's
/// counties is ≈ 1 MB besides the sketches it shares with
/// [`super::sketch_cache`].
pub const BUDGET: usize = 32 << 20;

/// What an area's entry costs besides its name and sketch.
const OVERHEAD: usize = 96;

/// The prime the stamps are summed modulo (see the module doc): sums of
/// every row of a period stay far from `i64`'s limits on both backends.
pub const STAMP_PRIME: i64 = 2_147_483_647;

/// A period's rows, as the database tells them: how many, and the sum of
/// their stamps modulo [`STAMP_PRIME`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    pub rows: i64,
    pub stamps: i64,
}

/// Which entry: the read's shape (see the module doc) and the period.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PieceKey {
    pub shape: Arc<str>,
    pub grain: Grain,
    pub start: i64,
}

/// One period's rows of one shape, added up per area.
#[derive(Debug, Default)]
pub struct Piece {
    pub checksum: Checksum,
    /// By area, each once.
    pub areas: Vec<AreaSum>,
    /// Whether the areas carry their sketches: a read of sums only
    /// (encounters, reports) leaves them out, and a read of children then
    /// reads the period again.
    pub sketches: bool,
}

/// One area's rows of a period, added up.
#[derive(Debug, Default)]
pub struct AreaSum {
    pub area: String,
    pub measures: Measures,
    /// Rows added up: more than one for a cell that straddles a county line.
    pub rows: usize,
    /// The exact distinct children, when the area is one day row.
    pub day_children: Option<i64>,
    /// The union of the rows' sketches (when [`Piece::sketches`]).
    pub sketch: Option<Arc<Sketch>>,
}

impl Piece {
    fn bytes(&self) -> usize {
        self.areas
            .iter()
            .map(|a| OVERHEAD + a.area.len() + a.sketch.as_ref().map_or(0, |s| s.size()))
            .sum()
    }
}

/// See the module doc.
#[derive(Clone)]
pub struct Cache(Lru<PieceKey, Arc<Piece>>);

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("atlas::piece_cache::Cache")
    }
}

impl Default for Cache {
    fn default() -> Self {
        Cache(Lru::with_budget(BUDGET))
    }
}

impl Cache {
    /// The pieces held for `shape` at these periods, whatever their
    /// checksum (the caller compares it).
    pub fn get(&self, shape: &Arc<str>, periods: &[(Grain, i64)]) -> Vec<Option<Arc<Piece>>> {
        let keys: Vec<PieceKey> = periods
            .iter()
            .map(|&(grain, start)| PieceKey {
                shape: shape.clone(),
                grain,
                start,
            })
            .collect();
        self.0.get_all(&keys)
    }

    /// Keeps pieces just read, replacing what was held for their periods.
    pub fn put(
        &self,
        shape: &Arc<str>,
        pieces: impl IntoIterator<Item = ((Grain, i64), Arc<Piece>)>,
    ) {
        self.0
            .put(pieces.into_iter().map(|((grain, start), piece)| {
                let bytes = piece.bytes() + shape.len();
                let key = PieceKey {
                    shape: shape.clone(),
                    grain,
                    start,
                };
                (key, piece, bytes)
            }));
    }

    /// Bytes held now (tests and the bench).
    pub fn bytes(&self) -> usize {
        self.0.bytes()
    }
}
