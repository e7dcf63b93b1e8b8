//! In-memory gallery for 1:N search.
//!
//! Layout: constants, [`SearchParams`], [`Candidate`], [`SearchStats`],
//! [`Gallery`] (add/remove by id, search), then the scan kernels
//! (prefilter over a block of 8 entries, exact stage per survivor).
//!
//! Storage is packed `u64`: every entry's full code and mask
//! ([`Template`], 512 bytes) in one vector, plus a *prefilter* copy of a
//! subsample — 32 of the 128 angular columns, every 4th, 512 bits of code
//! and 512 of mask — stored transposed in blocks of 8 entries so the
//! prefilter processes 8 entries per vector instruction.
//!
//! Search, for a probe:
//! 1. the probe is rotated once per shift (±`max_shift_deg`), and its
//!    subsample taken at every `prefilter_shift_step`-th shift (iris codes
//!    vary slowly across neighbouring columns, so a genuine match one column
//!    off still scores well below chance);
//! 2. **prefilter**: for every entry and those shifts, the raw Hamming
//!    distance on the subsample (when the matcher trims sectors, the least
//!    over every choice of that many subsample words — one word is one
//!    sector — left out: a lower bound of the trimmed subsample distance);
//!    the entry survives if at some shift it is at most
//!    `prefilter_threshold`, or if too few subsample bits were valid to
//!    judge (never prune on no evidence). The threshold sits well above the
//!    decision threshold so genuine matches, whose subsample distance
//!    scatters around their full distance, pass; most impostors (≈0.5) do
//!    not;
//! 3. **exact stage**: survivors are compared on all 2,048 bits at every
//!    shift ([`crate::matcher`]), and those under the decision threshold are
//!    returned, best first, at most `k`.
//!
//! The scan runs over chunks of blocks, in parallel with rayon under the
//! `parallel` feature, compiled for the CPU's fastest popcount
//! ([`crate::simd`]). On CPUs with AVX-512 VPOPCNTDQ (detected at run time)
//! the prefilter is written with explicit intrinsics: word `w` of a block's
//! 8 entries is one aligned 512-bit load, so the scan is a straight
//! streaming pass of vertical XOR/AND/popcount/add (left to itself the
//! compiler vectorised across words instead, with gathers and horizontal
//! sums), and a block stops as soon as all 8 entries have passed.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::matcher::{
    MatchParams, MatchResult, MatchTest, SECTORS, best_over_shifts, sector_counts,
};
use crate::simd::popcount_dispatch;
use crate::template::{BITS_PER_COL, CODE_COLS, Template};

/// Entries per prefilter block (one 512-bit vector of `u64` lanes).
const LANES: usize = 8;
/// Every `PRE_STEP`-th angular column goes into the prefilter subsample.
const PRE_STEP: usize = 4;
const PRE_COLS: usize = CODE_COLS / PRE_STEP;
const PRE_WORDS: usize = PRE_COLS * BITS_PER_COL / 64;
// One subsample word per matcher sector: the prefilter trims the same
// sectors the exact distance does.
const _: () = assert!(PRE_WORDS == SECTORS);
/// Blocks per parallel task.
const CHUNK_BLOCKS: usize = 256;
/// Fixed-point scale for the prefilter comparison d/n ≤ t.
const FIXED: u64 = 1 << 16;

/// Search parameters.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchParams {
    /// At most this many candidates are returned.
    pub k: usize,
    /// Shift range and decision threshold.
    pub matcher: MatchParams,
    /// Raw subsample distance at or below which an entry survives the
    /// prefilter (with the matcher's trimming: of the subsample with some
    /// `trimmed_sectors` sectors left out, see `prefilter_portable`). 0.40
    /// for the whole-template distance; with 2 sectors trimmed 0.36 keeps
    /// every genuine pair the decision accepts on MMU1 and
    /// CASIA-Iris-Interval (9,582 at 0.33) and lets 14 % of their
    /// impostor pairs through to the exact stage, against 8 % untrimmed at
    /// 0.40 (`calibrate` example, BENCHMARKS.md).
    pub prefilter_threshold: f32,
    /// Fewer valid subsample bits than this: the entry always survives.
    pub prefilter_min_bits: u32,
    /// The prefilter tries every n-th shift (1 = all).
    pub prefilter_shift_step: usize,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            k: 10,
            matcher: MatchParams::default(),
            prefilter_threshold: 0.40,
            prefilter_min_bits: 96,
            prefilter_shift_step: 2,
        }
    }
}

/// A gallery entry under the decision threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate<Id> {
    pub id: Id,
    pub result: MatchResult,
}

/// Work done by one search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchStats {
    /// Entries scanned by the prefilter.
    pub scanned: usize,
    /// Entries compared exactly (prefilter survivors).
    pub exact: usize,
}

#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct PreBlock {
    code: [[u64; LANES]; PRE_WORDS],
    mask: [[u64; LANES]; PRE_WORDS],
}

type PreProbe = ([u64; PRE_WORDS], [u64; PRE_WORDS]);

/// Templates by id, searchable 1:N.
pub struct Gallery<Id> {
    ids: Vec<Id>,
    slots: HashMap<Id, usize>,
    full: Vec<Template>,
    pre: Vec<PreBlock>,
}

impl<Id: Clone + Eq + Hash + Send + Sync> Default for Gallery<Id> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Id: Clone + Eq + Hash + Send + Sync> Gallery<Id> {
    pub fn new() -> Self {
        Gallery {
            ids: Vec::new(),
            slots: HashMap::new(),
            full: Vec::new(),
            pre: Vec::new(),
        }
    }

    pub fn with_capacity(n: usize) -> Self {
        Gallery {
            ids: Vec::with_capacity(n),
            slots: HashMap::with_capacity(n),
            full: Vec::with_capacity(n),
            pre: Vec::with_capacity(n.div_ceil(LANES)),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contains(&self, id: &Id) -> bool {
        self.slots.contains_key(id)
    }

    pub fn get(&self, id: &Id) -> Option<&Template> {
        self.slots.get(id).map(|&i| &self.full[i])
    }

    /// Add or replace the template of `id`. Returns true if it replaced one.
    pub fn insert(&mut self, id: Id, t: &Template) -> bool {
        if let Some(&i) = self.slots.get(&id) {
            self.write(i, t);
            return true;
        }
        let i = self.ids.len();
        if i.is_multiple_of(LANES) {
            self.pre.push(PreBlock::default());
        }
        self.ids.push(id.clone());
        self.full.push(Template::empty());
        self.write(i, t);
        self.slots.insert(id, i);
        false
    }

    /// Remove `id`. Returns false if it was not there. The last entry moves
    /// into the freed slot, so storage stays dense.
    pub fn remove(&mut self, id: &Id) -> bool {
        let Some(i) = self.slots.remove(id) else {
            return false;
        };
        let last = self.ids.len() - 1;
        if i != last {
            let moved = self.full[last].clone();
            self.write(i, &moved);
            self.ids.swap(i, last);
            self.slots.insert(self.ids[i].clone(), i);
        }
        self.ids.pop();
        self.full.pop();
        self.clear_lane(last);
        if last.is_multiple_of(LANES) {
            self.pre.pop();
        }
        true
    }

    fn write(&mut self, i: usize, t: &Template) {
        self.full[i] = t.clone();
        let (code, mask) = subsample(t, 0);
        let b = &mut self.pre[i / LANES];
        for w in 0..PRE_WORDS {
            b.code[w][i % LANES] = code[w];
            b.mask[w][i % LANES] = mask[w];
        }
    }

    fn clear_lane(&mut self, i: usize) {
        let b = &mut self.pre[i / LANES];
        for w in 0..PRE_WORDS {
            (b.code[w][i % LANES], b.mask[w][i % LANES]) = (0, 0);
        }
    }

    /// Top-k entries under the threshold, using the prefilter.
    pub fn search(&self, probe: &Template, p: &SearchParams) -> Vec<Candidate<Id>> {
        self.search_with_stats(probe, p, true).0
    }

    /// Same as [`Gallery::search`] without the prefilter: every entry is
    /// compared exactly. The reference for recall.
    pub fn search_exhaustive(&self, probe: &Template, p: &SearchParams) -> Vec<Candidate<Id>> {
        self.search_with_stats(probe, p, false).0
    }

    /// Search and report how much work the prefilter saved.
    pub fn search_with_stats(
        &self,
        probe: &Template,
        p: &SearchParams,
        prefilter: bool,
    ) -> (Vec<Candidate<Id>>, SearchStats) {
        let s = p.matcher.max_shift_cols();
        let scan = Scan {
            rotations: (-s..=s).map(|k| probe.rotated(k)).collect(),
            pre: prefilter_shifts(s, p.prefilter_shift_step)
                .map(|k| subsample(probe, k))
                .collect(),
            shift: s,
            matcher: &p.matcher,
            test: MatchTest::new(&p.matcher),
            threshold: (p.prefilter_threshold.clamp(0.0, 1.0) * FIXED as f32) as u64,
            min_bits: u64::from(p.prefilter_min_bits),
            drop: p.matcher.dropped_sectors(),
            prefilter,
            avx512: crate::simd::has_avx512_popcnt(),
            len: self.len(),
            full: &self.full,
        };
        let chunks = self.pre.chunks(CHUNK_BLOCKS).enumerate();
        let run =
            |(ci, blocks): (usize, &[PreBlock])| scan_blocks(&scan, ci * CHUNK_BLOCKS, blocks);
        #[cfg(feature = "parallel")]
        let parts: Vec<_> = {
            use rayon::prelude::*;
            self.pre
                .par_chunks(CHUNK_BLOCKS)
                .enumerate()
                .map(run)
                .collect()
        };
        #[cfg(not(feature = "parallel"))]
        let parts: Vec<_> = chunks.clone().map(run).collect();
        let _ = chunks;
        let mut stats = SearchStats {
            scanned: self.len(),
            exact: 0,
        };
        let mut hits = Vec::new();
        for (h, exact) in parts {
            stats.exact += exact;
            hits.extend(h);
        }
        hits.sort_by(|a: &(usize, MatchResult), b| {
            a.1.distance.total_cmp(&b.1.distance).then(a.0.cmp(&b.0))
        });
        hits.truncate(p.k);
        let out = hits
            .into_iter()
            .map(|(i, result)| Candidate {
                id: self.ids[i].clone(),
                result,
            })
            .collect();
        (out, stats)
    }
}

popcount_dispatch! {
    /// [`Scan::blocks`] compiled for the CPU's fastest popcount.
    fn scan_blocks(scan: &Scan<'_>, first: usize, blocks: &[PreBlock]) -> (Vec<(usize, MatchResult)>, usize) {
        scan.blocks(first, blocks)
    }
}

/// Everything one scan needs, shared read-only by the worker threads.
struct Scan<'a> {
    rotations: Vec<Template>,
    pre: Vec<PreProbe>,
    shift: i32,
    matcher: &'a MatchParams,
    test: MatchTest,
    threshold: u64,
    min_bits: u64,
    /// Sectors (= subsample words) trimmed, as by the matcher.
    drop: usize,
    prefilter: bool,
    /// Use the AVX-512 kernels (the CPU has them).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    avx512: bool,
    len: usize,
    full: &'a [Template],
}

impl Scan<'_> {
    /// Scan consecutive blocks starting at block `first`: (hits, exact comparisons).
    #[inline(always)]
    fn blocks(&self, first: usize, blocks: &[PreBlock]) -> (Vec<(usize, MatchResult)>, usize) {
        let mut hits = Vec::new();
        let mut exact = 0;
        for (bi, b) in blocks.iter().enumerate() {
            let base = (first + bi) * LANES;
            let pass = if self.prefilter {
                self.prefilter(b)
            } else {
                [true; LANES]
            };
            for (lane, &ok) in pass.iter().enumerate() {
                let i = base + lane;
                if !ok || i >= self.len {
                    continue;
                }
                exact += 1;
                let t = &self.full[i];
                // Integer test first; float distances only for matches.
                if !self.any_match(t) {
                    continue;
                }
                let r =
                    best_over_shifts(&self.rotations, &t.code, &t.mask, self.shift, self.matcher);
                if r.is_match {
                    hits.push((i, r));
                }
            }
        }
        (hits, exact)
    }

    /// The exact stage's integer test: does some rotation match `t`?
    #[inline(always)]
    fn any_match(&self, t: &Template) -> bool {
        #[cfg(target_arch = "x86_64")]
        if self.avx512 {
            // SAFETY: as for the prefilter kernel.
            return unsafe { self.test.any_avx512(&self.rotations, &t.code, &t.mask) };
        }
        self.test.any(&self.rotations, &t.code, &t.mask)
    }

    /// Which of the 8 entries of a block survive the prefilter.
    #[inline(always)]
    fn prefilter(&self, b: &PreBlock) -> [bool; LANES] {
        // The number of sectors left out as a constant, so the kernels keep
        // their slots in registers, and untrimmed they are the plain test.
        macro_rules! by_drop {
            ($f:ident($($a:expr),*)) => {
                match self.drop {
                    0 => $f::<0>($($a),*),
                    1 => $f::<1>($($a),*),
                    2 => $f::<2>($($a),*),
                    3 => $f::<3>($($a),*),
                    4 => $f::<4>($($a),*),
                    5 => $f::<5>($($a),*),
                    6 => $f::<6>($($a),*),
                    _ => $f::<7>($($a),*),
                }
            };
        }
        #[cfg(target_arch = "x86_64")]
        if self.avx512 {
            // SAFETY: `avx512` is set only when the CPU reports AVX-512F and
            // VPOPCNTDQ (and this is reached from the dispatch variant
            // compiled with them, where the call inlines).
            let bits = unsafe {
                by_drop!(prefilter_avx512(
                    &self.pre,
                    b,
                    self.threshold,
                    self.min_bits
                ))
            };
            return std::array::from_fn(|l| bits & (1 << l) != 0);
        }
        by_drop!(prefilter_portable(
            &self.pre,
            b,
            self.threshold,
            self.min_bits
        ))
    }
}

/// The prefilter of one block in portable code (and the reference for the
/// AVX-512 kernel): lanes that have fewer than `min_bits` valid subsample
/// bits, or where at some shift the subsample distance with some `drop`
/// sectors left out is at most t = `threshold / FIXED`.
///
/// Why that passes every entry the matcher's trimming could keep (proof):
/// subsample word w is sector w's quarter (one column in four of sector w,
/// the sectors [`crate::matcher`] trims). Let e_w = d_w·FIXED − t·FIXED·n_w
/// per word (an excess of disagreement over the threshold); the bits kept
/// after leaving out a set S have distance ≤ t exactly when
/// Σ_{w∉S} e_w ≤ 0. Σ_{w∉S} e_w ≥ Σ_w e_w − (sum of the `drop` largest
/// positive e_w) for every S of at most `drop` sectors, with equality for S
/// = those largest; so the test below, Σ e_w − top ≤ 0, holds whenever *any*
/// such S gives a distance ≤ t: the matcher's own choice of sectors (worst
/// fractions), and S = ∅, the untrimmed distance the prefilter tested before
/// trimming (so it passes a superset of what it passed then). Its statistic
/// (see [`prefilter_distance`]) is a lower bound of the trimmed subsample
/// distance, whichever rule picks the sectors. Not a bound of the *full*
/// template's distance — no test that reads a quarter of the bits can be,
/// as the unread ones may all agree — so genuine recall rests on the margin
/// between `prefilter_threshold` and the decision, measured on real pairs
/// (see [`SearchParams::prefilter_threshold`]).
#[inline(always)]
fn prefilter_portable<const DROP: usize>(
    pre: &[PreProbe],
    b: &PreBlock,
    threshold: u64,
    min_bits: u64,
) -> [bool; LANES] {
    let mut pass = [false; LANES];
    for (pc, pm) in pre {
        for (l, ok) in pass.iter_mut().enumerate() {
            let (mut d, mut n) = (0u64, 0u64);
            // The DROP largest positive excesses (slots start at 0).
            let mut top = [0i64; DROP];
            for w in 0..PRE_WORDS {
                let m = b.mask[w][l] & pm[w];
                let (dw, nw) = (
                    u64::from(((b.code[w][l] ^ pc[w]) & m).count_ones()),
                    u64::from(m.count_ones()),
                );
                d += dw;
                n += nw;
                let mut x = (dw * FIXED) as i64 - (threshold * nw) as i64;
                for t in &mut top {
                    (*t, x) = ((*t).max(x), (*t).min(x));
                }
            }
            let e = (d * FIXED) as i64 - (threshold * n) as i64;
            *ok |= e - top.iter().sum::<i64>() <= 0 || n < min_bits;
        }
    }
    pass
}

/// [`Scan::prefilter`] with explicit AVX-512 intrinsics: one 512-bit vector
/// holds word `w` of the 8 entries of a block, so every operation is a
/// straight vertical one on a contiguous, aligned load (no gathers, no
/// horizontal sums); stops as soon as all 8 entries have passed. The
/// trimming is [`prefilter_portable`]'s, lane by lane: each word's excess,
/// kept in `drop` slots by max/min. Returns the passing lanes as bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
#[inline]
unsafe fn prefilter_avx512<const DROP: usize>(
    pre: &[PreProbe],
    b: &PreBlock,
    threshold: u64,
    min_bits: u64,
) -> u8 {
    use std::arch::x86_64::*;
    let mut code = [_mm512_setzero_si512(); PRE_WORDS];
    let mut mask = [_mm512_setzero_si512(); PRE_WORDS];
    for w in 0..PRE_WORDS {
        // SAFETY: PreBlock is 64-byte aligned and each row is 8 × u64 = 64 bytes.
        unsafe {
            code[w] = _mm512_load_si512(b.code[w].as_ptr().cast());
            mask[w] = _mm512_load_si512(b.mask[w].as_ptr().cast());
        }
    }
    let t = _mm512_set1_epi64(threshold as i64);
    let few = _mm512_set1_epi64(min_bits as i64);
    let zero = _mm512_setzero_si512();
    let mut pass: u8 = 0;
    for (pc, pm) in pre {
        let (mut d, mut n) = (zero, zero);
        let mut top = [zero; DROP];
        for w in 0..PRE_WORDS {
            let m = _mm512_and_si512(mask[w], _mm512_set1_epi64(pm[w] as i64));
            let x = _mm512_and_si512(
                _mm512_xor_si512(code[w], _mm512_set1_epi64(pc[w] as i64)),
                m,
            );
            let (dw, nw) = (_mm512_popcnt_epi64(x), _mm512_popcnt_epi64(m));
            d = _mm512_add_epi64(d, dw);
            n = _mm512_add_epi64(n, nw);
            if DROP > 0 {
                // This word's d·FIXED − threshold·n (both < 2^23: exact in
                // the low 32 bits `mul_epu32` reads, signed in 64).
                let mut xs = _mm512_sub_epi64(_mm512_slli_epi64::<16>(dw), _mm512_mul_epu32(t, nw));
                for slot in &mut top {
                    (*slot, xs) = (_mm512_max_epi64(*slot, xs), _mm512_min_epi64(*slot, xs));
                }
            }
        }
        // d · FIXED − threshold · n less the slots (each side < 2^32 · 2^9).
        let mut e = _mm512_sub_epi64(_mm512_slli_epi64::<16>(d), _mm512_mul_epu32(t, n));
        for slot in &top {
            e = _mm512_sub_epi64(e, *slot);
        }
        pass |= _mm512_cmple_epi64_mask(e, zero) | _mm512_cmplt_epu64_mask(n, few);
        if pass == u8::MAX {
            break;
        }
    }
    pass
}

/// The prefilter's view of one comparison: its statistic, the smallest raw
/// subsample distance over the prefilter shifts and over every choice of up
/// to `drop` sectors left out (what [`prefilter_portable`] tests against the
/// threshold; 0 when a choice leaves no bits), and the subsample bits valid
/// at that shift — for calibrating `prefilter_threshold`; the scan computes
/// the same test in bulk.
pub fn prefilter_distance(probe: &Template, entry: &Template, p: &SearchParams) -> (f32, u32) {
    let (ec, em) = subsample(entry, 0);
    let drop = p.matcher.dropped_sectors();
    let mut best = (1.0f32, 0u32);
    for k in prefilter_shifts(p.matcher.max_shift_cols(), p.prefilter_shift_step) {
        let (pc, pm) = subsample(probe, k);
        let s = sector_counts(&pc, &pm, &ec, &em);
        let all: u32 = s.iter().map(|x| x.1).sum();
        // Every subset of sectors, by bits: those of at most `drop` left out.
        for gone in 0u32..1 << SECTORS {
            if gone.count_ones() as usize > drop {
                continue;
            }
            let kept = (0..SECTORS)
                .filter(|w| gone & (1 << w) == 0)
                .fold((0, 0), |(d, n), w| (d + s[w].0, n + s[w].1));
            let h = if kept.1 == 0 {
                0.0
            } else {
                kept.0 as f32 / kept.1 as f32
            };
            if h < best.0 {
                best = (h, all);
            }
        }
    }
    best
}

/// Shifts tried by the prefilter: every `step`-th from −s, always including +s.
fn prefilter_shifts(s: i32, step: usize) -> impl Iterator<Item = i32> {
    let step = step.max(1) as i32;
    let last = if (2 * s) % step == 0 { None } else { Some(s) };
    (-s..=s).step_by(step as usize).chain(last)
}

/// The prefilter subsample of `t` rotated by `shift` columns: column j of the
/// result is column `j·PRE_STEP + shift` of `t`.
fn subsample(t: &Template, shift: i32) -> PreProbe {
    let (mut code, mut mask) = ([0u64; PRE_WORDS], [0u64; PRE_WORDS]);
    let per_word = 64 / BITS_PER_COL;
    for j in 0..PRE_COLS {
        let c = (j as i32 * PRE_STEP as i32 + shift).rem_euclid(CODE_COLS as i32) as usize;
        let col = |words: &[u64]| (words[c / per_word] >> ((c % per_word) * BITS_PER_COL)) & 0xffff;
        code[j / per_word] |= col(&t.code) << ((j % per_word) * BITS_PER_COL);
        mask[j / per_word] |= col(&t.mask) << ((j % per_word) * BITS_PER_COL);
    }
    (code, mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::CODE_BITS;

    /// A random template whose columns drift slowly (each bit flips with
    /// probability 1/5 from one column to the next), like real iris codes,
    /// whose Gabor responses overlap across neighbouring columns.
    /// `noise_of` = Some((base, pct)) instead flips `pct` % of `base`'s bits
    /// (a stand-in for a second capture).
    fn tpl(seed: u64, noise_of: Option<(&Template, u32)>) -> Template {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut t = Template::empty();
        for b in 0..CODE_BITS {
            let r = next();
            let valid = r % 100 >= 25;
            let bit = match noise_of {
                Some((base, pct)) => base.get(b).0 ^ ((r >> 8) % 100 < u64::from(pct)),
                None if b < BITS_PER_COL => (r >> 8) & 1 == 1,
                None => t.get(b - BITS_PER_COL).0 ^ ((r >> 8) % 5 == 0),
            };
            t.set(b, bit, valid);
        }
        t
    }

    #[test]
    fn add_replace_remove_keep_ids_consistent() {
        let mut g: Gallery<u32> = Gallery::new();
        let ts: Vec<Template> = (0..20).map(|i| tpl(i + 1, None)).collect();
        for (i, t) in ts.iter().enumerate() {
            assert!(!g.insert(i as u32, t));
        }
        assert!(g.insert(3, &ts[3]));
        assert_eq!(g.len(), 20);
        assert!(g.remove(&5) && !g.remove(&5));
        assert!(g.remove(&19) && g.remove(&0));
        assert_eq!(g.len(), 17);
        let p = SearchParams::default();
        for i in 1..19u32 {
            let hits = g.search(&ts[i as usize], &p);
            if i == 5 {
                assert!(hits.is_empty());
            } else {
                assert_eq!(hits.len(), 1, "id {i}");
                assert_eq!((hits[0].id, hits[0].result.raw_distance), (i, 0.0));
                assert_eq!(g.get(&i), Some(&ts[i as usize]));
            }
        }
    }

    #[test]
    fn prefilter_loses_no_planted_match_and_prunes_impostors() {
        let n = 3000u64;
        let mut g: Gallery<u64> = Gallery::with_capacity(n as usize);
        let enrolled: Vec<Template> = (0..n).map(|i| tpl(1000 + i, None)).collect();
        for (i, t) in enrolled.iter().enumerate() {
            g.insert(i as u64, t);
        }
        let p = SearchParams::default();
        let mut planted_found = 0;
        for (k, &i) in [7u64, 100, 555, 1234, 2999].iter().enumerate() {
            // A noisy (20–30 % flipped) second capture, rotated by up to ±7 columns.
            let probe = tpl(
                77 + k as u64,
                Some((&enrolled[i as usize], 20 + 2 * k as u32)),
            )
            .rotated(k as i32 * 3 - 6);
            let (fast, st) = g.search_with_stats(&probe, &p, true);
            let (slow, st_all) = g.search_with_stats(&probe, &p, false);
            assert_eq!(fast, slow, "prefilter changed the result for planted {i}");
            planted_found += usize::from(fast.first().is_some_and(|c| c.id == i));
            assert_eq!(st_all.exact, n as usize);
            assert!(
                st.exact < n as usize / 4,
                "prefilter kept {} of {n}",
                st.exact
            );
        }
        assert_eq!(planted_found, 5);
    }

    /// `t` with sectors `gone` (of the 8) set to the complement of `base`'s
    /// bits there: local damage no unrelated eye shows, a lid shadow's
    /// worst case.
    fn damaged(t: &Template, base: &Template, gone: &[usize]) -> Template {
        let per = CODE_BITS / SECTORS;
        let mut t = t.clone();
        for &k in gone {
            for b in k * per..(k + 1) * per {
                t.set(b, !base.get(b).0, t.get(b).1);
            }
        }
        t
    }

    /// The defaults with 2 sectors trimmed, at the prefilter threshold the
    /// trimming is calibrated for.
    fn trimmed_by_2() -> SearchParams {
        let d = SearchParams::default();
        SearchParams {
            matcher: MatchParams {
                trimmed_sectors: 2,
                ..d.matcher
            },
            prefilter_threshold: 0.36,
            ..d
        }
    }

    #[test]
    fn prefilter_statistic_is_a_lower_bound_of_the_trimmed_subsample_distance() {
        let p = trimmed_by_2();
        let drop = p.matcher.dropped_sectors();
        // The whole-template distance and its prefilter threshold.
        let untrimmed = SearchParams {
            matcher: MatchParams {
                trimmed_sectors: 0,
                ..p.matcher.clone()
            },
            ..SearchParams::default()
        };
        for seed in 0..60u64 {
            let a = tpl(300 + seed, None);
            let b = match seed % 3 {
                0 => tpl(400 + seed, None),
                1 => tpl(500 + seed, Some((&a, 10 + seed as u32 % 25))),
                _ => damaged(&tpl(500 + seed, Some((&a, 15))), &a, &[seed as usize % 8]),
            };
            let (stat, _) = prefilter_distance(&b, &a, &p);
            // The matcher's own trimming of the subsample, shift by shift,
            // and the untrimmed statistic of the old prefilter: never below.
            let (ec, em) = subsample(&a, 0);
            for k in prefilter_shifts(p.matcher.max_shift_cols(), p.prefilter_shift_step) {
                let (pc, pm) = subsample(&b, k);
                let (d, n) = crate::matcher::trimmed(&sector_counts(&pc, &pm, &ec, &em), drop);
                assert!(
                    n == 0 || stat <= d as f32 / n as f32,
                    "seed {seed} shift {k}"
                );
            }
            assert!(
                stat <= prefilter_distance(&b, &a, &untrimmed).0,
                "seed {seed}"
            );
            // And the scan's test is exactly "statistic ≤ threshold".
            let mut g: Gallery<u64> = Gallery::new();
            g.insert(0, &a);
            let pre: Vec<PreProbe> = prefilter_shifts(p.matcher.max_shift_cols(), 2)
                .map(|k| subsample(&b, k))
                .collect();
            for (t, want) in [(stat + 1e-4, true), (stat - 1e-4, false)] {
                if t < 0.0 {
                    continue;
                }
                let th = (t * FIXED as f32) as u64;
                assert_eq!(
                    prefilter_portable::<2>(&pre, &g.pre[0], th, 0)[0],
                    want,
                    "seed {seed}: statistic {stat}, threshold {t}"
                );
            }
        }
    }

    #[test]
    fn a_match_with_two_damaged_sectors_survives_the_prefilter() {
        // Two sectors of a 25 %-noisy second capture complemented: the
        // untrimmed subsample distance is over the prefilter threshold (the
        // old prefilter dropped such a pair), the trimmed match is clear.
        let n = 2000u64;
        let mut g: Gallery<u64> = Gallery::with_capacity(n as usize);
        let enrolled: Vec<Template> = (0..n).map(|i| tpl(7000 + i, None)).collect();
        for (i, t) in enrolled.iter().enumerate() {
            g.insert(i as u64, t);
        }
        let p = trimmed_by_2();
        // The whole-template distance and its prefilter threshold.
        let untrimmed = SearchParams {
            matcher: MatchParams {
                trimmed_sectors: 0,
                ..p.matcher.clone()
            },
            ..SearchParams::default()
        };
        for (k, &i) in [3u64, 901, 1999].iter().enumerate() {
            let e = &enrolled[i as usize];
            let noisy = tpl(50 + k as u64, Some((e, 25)));
            let probe = damaged(&noisy, e, &[k, k + 4]).rotated(2 - k as i32);
            assert!(prefilter_distance(&probe, e, &untrimmed).0 > untrimmed.prefilter_threshold);
            let r = crate::compare(&probe, e, &p.matcher);
            assert!(r.is_match, "{r:?}");
            let hits = g.search(&probe, &p);
            assert_eq!(hits.first().map(|c| (c.id, c.result)), Some((i, r)));
            assert_eq!(hits, g.search_exhaustive(&probe, &p));
        }
    }

    #[test]
    fn avx512_prefilter_agrees_with_the_portable_one() {
        if !crate::simd::has_avx512_popcnt() {
            eprintln!("no AVX-512 VPOPCNTDQ on this CPU: nothing to compare");
            return;
        }
        let base: Vec<Template> = (0..LANES as u64).map(|i| tpl(500 + i, None)).collect();
        let mut g: Gallery<u64> = Gallery::new();
        for (i, t) in base.iter().enumerate() {
            // Lanes 0..3 hold noisy copies of the probe's eye, so some pass.
            let t = if i < 4 {
                tpl(900 + i as u64, Some((&base[0], 10 + 8 * i as u32)))
            } else {
                t.clone()
            };
            g.insert(i as u64, &t);
        }
        let pre: Vec<PreProbe> = prefilter_shifts(7, 2)
            .map(|k| subsample(&base[0], k))
            .collect();
        let mut seen_pass = 0;
        let mut check = |drop: usize,
                         want: &dyn Fn(u64, u64) -> [bool; LANES],
                         got: &dyn Fn(u64, u64) -> u8| {
            for t in [0.30f32, 0.40, 0.45, 0.5] {
                for min_bits in [0u64, 96, 400, 600] {
                    let th = (t * FIXED as f32) as u64;
                    let want = want(th, min_bits);
                    assert_eq!(
                        got(th, min_bits),
                        want.iter()
                            .enumerate()
                            .fold(0u8, |a, (l, &ok)| a | (u8::from(ok) << l)),
                        "t {t} min_bits {min_bits} drop {drop}"
                    );
                    seen_pass += want.iter().filter(|&&ok| ok).count();
                }
            }
        };
        let b = &g.pre[0];
        // SAFETY (all four): checked above that the CPU has the features.
        check(
            0,
            &|th, mb| prefilter_portable::<0>(&pre, b, th, mb),
            &|th, mb| unsafe { prefilter_avx512::<0>(&pre, b, th, mb) },
        );
        check(
            1,
            &|th, mb| prefilter_portable::<1>(&pre, b, th, mb),
            &|th, mb| unsafe { prefilter_avx512::<1>(&pre, b, th, mb) },
        );
        check(
            2,
            &|th, mb| prefilter_portable::<2>(&pre, b, th, mb),
            &|th, mb| unsafe { prefilter_avx512::<2>(&pre, b, th, mb) },
        );
        check(
            3,
            &|th, mb| prefilter_portable::<3>(&pre, b, th, mb),
            &|th, mb| unsafe { prefilter_avx512::<3>(&pre, b, th, mb) },
        );
        assert!(seen_pass > 0 && seen_pass < 64 * LANES, "{seen_pass}");
    }

    #[test]
    fn subsample_takes_every_pre_step_th_column() {
        let t = tpl(9, None);
        let (c, m) = subsample(&t, 3);
        for j in 0..PRE_COLS {
            for k in 0..BITS_PER_COL {
                let (cb, mb) = t.get(((j * PRE_STEP + 3) % CODE_COLS) * BITS_PER_COL + k);
                let b = j * BITS_PER_COL + k;
                assert_eq!(
                    (
                        (c[b / 64] >> (b % 64)) & 1 == 1,
                        (m[b / 64] >> (b % 64)) & 1 == 1
                    ),
                    (cb, mb)
                );
            }
        }
    }
}
