//! The set of children behind a figure, as a mergeable sketch: exact while
//! small, a HyperLogLog once large.
//!
//! The atlas's maps ask for distinct children over a range of days and,
//! for an H3 cell that straddles a county line, over several rows of one
//! area. Exact distinct counts over such unions would read every child
//! behind them (a year of every county is millions of presence rows at the
//! issue's 10,000,000 events), so each rollup row of [`super::totals`]
//! keeps a [`Sketch`] of its children and a union merges sketches:
//!
//! - **Sparse (exact).** Up to [`SPARSE_MAX`] children the sketch is the
//!   sorted set of their 64-bit hashes: merging is a set union and the
//!   count is exact (two children share a 64-bit hash with odds of about
//!   one in 10¹³ at this size). Every figure near the privacy line (fewer
//!   than 5 children) is therefore exact, and so is every area and range
//!   with at most 512 children.
//! - **Dense (HyperLogLog).** Past that the hashes go into 2¹² registers
//!   (precision 12, one byte each) and the count is Ertl's improved
//!   estimator ("New cardinality estimation algorithms for HyperLogLog
//!   sketches", 2017), whose relative standard error is
//!   1.04 / √4096 ≈ [`RELATIVE_ERROR`] (1.6 %) across the whole range, with
//!   no switch-over bias at small counts.
//!
//! A sketch is a function of its set: the same children give the same bytes
//! whatever order they came in or how they were merged, so a rebuild of the
//! rollups equals their incremental upkeep byte for byte. Children are
//! hashed with SHA-256 (its first 8 bytes): stable across versions and
//! platforms, and evenly spread whatever the ids look like.
//!
//! Stored form: one byte naming the form, then the sparse hashes (8 bytes
//! each, little-endian, ascending) or the 4096 registers.

use sha2::Digest;

/// Registers: 2^P.
const P: u32 = 12;
const M: usize = 1 << P;
/// Bits of the hash left after the register index.
const Q: u32 = 64 - P;
/// Hashes kept exactly before the sketch becomes a HyperLogLog: as many as
/// fit in the registers' bytes.
pub const SPARSE_MAX: usize = M / 8;
/// The relative standard error of a dense sketch's count, 1.04 / √m.
pub const RELATIVE_ERROR: f64 = 1.04 / 64.0;

const SPARSE: u8 = 1;
const DENSE: u8 = 2;

/// A set of children (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sketch {
    /// Sorted, distinct hashes: at most [`SPARSE_MAX`].
    Sparse(Vec<u64>),
    /// HyperLogLog registers.
    Dense(Box<[u8; M]>),
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch::Sparse(Vec::new())
    }
}

/// The hash a child goes into a sketch as.
pub fn hash(child_id: &str) -> u64 {
    let digest = sha2::Sha256::digest(child_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// The register a hash raises, and to what: its top P bits pick the
/// register, the rest give the position of their first 1 bit (Q + 1 when
/// they are all 0).
fn register(h: u64) -> (usize, u8) {
    let index = (h >> Q) as usize;
    let rest = h << P;
    let rank = if rest == 0 {
        Q + 1
    } else {
        rest.leading_zeros() + 1
    };
    (index, rank as u8)
}

impl Sketch {
    /// The sketch of a list of hashes.
    pub fn of(hashes: impl IntoIterator<Item = u64>) -> Sketch {
        let mut sketch = Sketch::default();
        sketch.extend(hashes);
        sketch
    }

    /// Adds hashes (already present ones change nothing).
    pub fn extend(&mut self, hashes: impl IntoIterator<Item = u64>) {
        match self {
            Sketch::Sparse(set) => {
                let hashes: Vec<u64> = hashes.into_iter().collect();
                if hashes.len() <= 8 {
                    // A few children (the usual round): insert in place.
                    for h in hashes {
                        if let Err(at) = set.binary_search(&h) {
                            set.insert(at, h);
                        }
                    }
                } else {
                    set.extend(hashes);
                    set.sort_unstable();
                    set.dedup();
                }
                if set.len() > SPARSE_MAX {
                    let mut registers = Box::new([0u8; M]);
                    for h in set.iter() {
                        raise(&mut registers, *h);
                    }
                    *self = Sketch::Dense(registers);
                }
            }
            Sketch::Dense(registers) => {
                for h in hashes {
                    raise(registers, h);
                }
            }
        }
    }

    /// Adds every child of `other`.
    pub fn merge(&mut self, other: &Sketch) {
        match (&mut *self, other) {
            (_, Sketch::Sparse(set)) => self.extend(set.iter().copied()),
            (Sketch::Dense(mine), Sketch::Dense(theirs)) => {
                for (a, b) in mine.iter_mut().zip(theirs.iter()) {
                    *a = (*a).max(*b);
                }
            }
            (Sketch::Sparse(set), Sketch::Dense(theirs)) => {
                let mut registers = theirs.clone();
                for h in set.iter() {
                    raise(&mut registers, *h);
                }
                *self = Sketch::Dense(registers);
            }
        }
    }

    /// Bytes it holds in memory.
    pub fn size(&self) -> usize {
        match self {
            Sketch::Sparse(set) => 8 * set.capacity(),
            Sketch::Dense(_) => M,
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Sketch::Sparse(set) if set.is_empty())
    }

    /// Is [`Sketch::count`] exact?
    pub fn is_exact(&self) -> bool {
        matches!(self, Sketch::Sparse(_))
    }

    /// How many children: exact while sparse, else the estimate rounded.
    pub fn count(&self) -> i64 {
        match self {
            Sketch::Sparse(set) => set.len() as i64,
            Sketch::Dense(registers) => estimate(registers).round() as i64,
        }
    }

    /// The stored form (see the module doc).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Sketch::Sparse(set) => {
                let mut out = Vec::with_capacity(1 + 8 * set.len());
                out.push(SPARSE);
                for h in set {
                    out.extend_from_slice(&h.to_le_bytes());
                }
                out
            }
            Sketch::Dense(registers) => {
                let mut out = Vec::with_capacity(1 + M);
                out.push(DENSE);
                out.extend_from_slice(&registers[..]);
                out
            }
        }
    }

    /// Reads the stored form; `None` for bytes that are not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Sketch> {
        let (&form, rest) = bytes.split_first()?;
        match form {
            SPARSE if rest.len() % 8 == 0 && rest.len() / 8 <= SPARSE_MAX => {
                let set: Vec<u64> = rest
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                    .collect();
                set.windows(2)
                    .all(|w| w[0] < w[1])
                    .then_some(Sketch::Sparse(set))
            }
            DENSE if rest.len() == M && rest.iter().all(|&r| u32::from(r) <= Q + 1) => {
                let mut registers = Box::new([0u8; M]);
                registers.copy_from_slice(rest);
                Some(Sketch::Dense(registers))
            }
            _ => None,
        }
    }
}

fn raise(registers: &mut [u8; M], h: u64) {
    let (index, rank) = register(h);
    if registers[index] < rank {
        registers[index] = rank;
    }
}

/// Ertl's improved estimator: from the histogram of register values,
/// α∞·m² / z, where z is m·τ(1 − C₍q+1₎/m) halved down through C₍q₎ … C₁,
/// plus m·σ(C₀/m) (Cₖ: how many registers hold k).
fn estimate(registers: &[u8; M]) -> f64 {
    let m = M as f64;
    let mut histogram = [0u32; (Q + 2) as usize];
    for &r in registers.iter() {
        histogram[usize::from(r)] += 1;
    }
    let mut z = m * tau((m - f64::from(histogram[(Q + 1) as usize])) / m);
    for k in (1..=Q as usize).rev() {
        z = 0.5 * (z + f64::from(histogram[k]));
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    let alpha_infinity = 1.0 / (2.0 * std::f64::consts::LN_2);
    alpha_infinity * m * m / z
}

/// σ(x) = x + Σ_{k≥1} x^(2^k)·2^(k−1).
fn sigma(x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut x, mut y, mut z) = (x, 1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

/// τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))²·2^−k) / 3.
fn tau(x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut x, mut y, mut z) = (x, 1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn children(range: std::ops::Range<u32>) -> impl Iterator<Item = u64> {
        range.map(|i| hash(&format!("child-{i:08}")))
    }

    #[test]
    fn small_sets_are_exact_and_repeats_count_once() {
        let mut s = Sketch::of(children(0..4));
        s.extend(children(2..6));
        assert!(s.is_exact());
        assert_eq!(s.count(), 6);
        let full = Sketch::of(children(0..SPARSE_MAX as u32));
        assert!(full.is_exact());
        assert_eq!(full.count(), SPARSE_MAX as i64);
        assert!(Sketch::default().is_empty());
    }

    #[test]
    fn large_sets_are_estimated_within_the_stated_error() {
        // Within three standard errors at every size, from just past the
        // sparse limit to a million.
        for n in [SPARSE_MAX as u32 + 1, 2_000, 10_000, 100_000, 1_000_000] {
            let s = Sketch::of(children(0..n));
            assert!(!s.is_exact());
            let error = (s.count() as f64 - f64::from(n)).abs() / f64::from(n);
            assert!(
                error < 3.0 * RELATIVE_ERROR,
                "{n} children counted as {} ({:.2} %)",
                s.count(),
                100.0 * error
            );
        }
    }

    #[test]
    fn a_sketch_depends_on_its_set_not_on_how_it_was_built() {
        // Merged from overlapping parts, sparse into dense and dense into
        // sparse: the same bytes as inserting the union at once.
        let whole = Sketch::of(children(0..3_000));
        let mut a = Sketch::of(children(0..400));
        let b = Sketch::of(children(300..3_000));
        a.merge(&b);
        assert_eq!(a, whole);
        let mut c = Sketch::of(children(1_000..3_000));
        c.merge(&Sketch::of(children(0..1_200)));
        assert_eq!(c, whole);
        let mut d = Sketch::of(children(0..200));
        d.merge(&Sketch::of(children(150..450)));
        assert_eq!(d, Sketch::of(children(0..450)));
        assert!(d.is_exact());
    }

    #[test]
    fn stored_form_round_trips_and_refuses_what_is_not_one() {
        for s in [
            Sketch::default(),
            Sketch::of(children(0..10)),
            Sketch::of(children(0..5_000)),
        ] {
            assert_eq!(Sketch::from_bytes(&s.to_bytes()), Some(s));
        }
        assert_eq!(Sketch::from_bytes(&[]), None);
        assert_eq!(Sketch::from_bytes(&[SPARSE, 1, 2, 3]), None);
        let mut unsorted = vec![SPARSE];
        unsorted.extend_from_slice(&2u64.to_le_bytes());
        unsorted.extend_from_slice(&1u64.to_le_bytes());
        assert_eq!(Sketch::from_bytes(&unsorted), None);
        assert_eq!(Sketch::from_bytes(&[DENSE; 10]), None);
        assert_eq!(Sketch::from_bytes(&[9]), None);
    }
}
