//! Matching two templates: fractional Hamming distance with rotation
//! compensation, optionally trimmed of the sectors that disagree most,
//! normalised for the number of bits compared.
//!
//! Layout: [`MatchParams`], [`MatchResult`], [`compare`], then the shared
//! counting primitives used by the gallery and evaluation
//! (`sector_counts`, [`trimmed`], `normalised`, `MatchTest`).
//!
//! For each column shift s in ±`max_shift_deg` (one column = 2.8125°), the
//! bits valid in both templates are counted per angular sector ([`SECTORS`]
//! equal sectors of 45°): d_k disagreeing of n_k compared in sector k. The
//! `trimmed_sectors` sectors whose fraction d_k / n_k is highest are left
//! out (none by default, see [`MatchParams::trimmed_sectors`]), and the raw
//! distance is HD = Σ d_k / Σ n_k over the others: the fraction of
//! disagreeing bits among those valid in both. A comparison over few bits
//! is less trustworthy, so, as Daugman and open-iris do, it is pulled
//! towards 0.5 (chance): HD_n = 0.5 − (0.5 − HD)·√(n / n_ref), with n = Σ
//! n_k over the kept sectors and n_ref = `reference_bits`. The result is
//! the shift with the smallest HD_n. Two templates match when HD_n ≤
//! `threshold`; the default threshold comes from `kudakyar iris evaluate`
//! on synthetic data and should be re-calibrated on real captures.

use serde::{Deserialize, Serialize};

use crate::simd::popcount_dispatch;
use crate::template::{DEGREES_PER_COL, Template, WORDS};

/// Equal angular sectors the distance can be trimmed over: 16 code columns
/// (45°, 4 words) each, so a sector is whole words of the template and of
/// the gallery's prefilter subsample (one word there). 8 rather than 4 or
/// 16: 4 less 1 and 16 less 4–6 did no better on MMU1 (`encsweep`,
/// BENCHMARKS.md).
pub const SECTORS: usize = 8;

/// Matching parameters (configuration, not code).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MatchParams {
    /// Largest eye rotation compensated, in degrees either way. 25° (9
    /// columns): a handheld scanner or phone in the street is held tilted
    /// either way between two captures of one eye, so their relative
    /// rotation reaches twice a single capture's tilt; at ±20° (7 columns)
    /// such pairs were the largest group of false non-matches. The wider
    /// search costs 19 rotations instead of 15 and leaves the impostor
    /// distances at the calibrated threshold unchanged (FMR 1e-4 at
    /// 0.346–0.352 at ±20° and ±25° alike on three held-apart synthetic
    /// sets).
    pub max_shift_deg: f32,
    /// Decision threshold on the normalised distance.
    pub threshold: f32,
    /// Bits compared at which no normalisation applies (n_ref).
    pub reference_bits: f32,
    /// Sectors (of [`SECTORS`]) left out at each rotation: those whose
    /// bits disagree most, a trimmed estimator against local disagreement
    /// (a lid or lashes the mask missed over one sector, one sector
    /// distorted by gaze). 0, the whole-template distance, by default: 2
    /// lowers the EER on every set (MMU1 0.93 → 0.57 %, CASIA-Iris-Interval
    /// 0.11 → 0.07 %) but trims impostors as well, and at the false-match
    /// rate the default threshold holds on real captures (≈ 1e-5 over both
    /// sets pooled) it gains nothing — FNMR 0.42 % untrimmed at 0.33, 0.44 %
    /// trimmed at 0.315, the same FMR — while the closest impostor pairs
    /// come closer (4 of 4.6 million under 0.29, none untrimmed under 0.30)
    /// and the 1:N prefilter must let through more impostors to keep its
    /// recall (BENCHMARKS.md, "Iris engine", 2026-12-07 "trimmed distance").
    /// With 2, set the threshold ≈ 0.015 lower for the same FMR and the
    /// prefilter threshold to 0.36 ([`crate::gallery::SearchParams`]).
    /// At most [`SECTORS`] − 1.
    #[serde(default = "default_trimmed_sectors")]
    pub trimmed_sectors: usize,
}

fn default_trimmed_sectors() -> usize {
    MatchParams::default().trimmed_sectors
}

impl Default for MatchParams {
    fn default() -> Self {
        MatchParams {
            max_shift_deg: 25.0,
            threshold: 0.33,
            reference_bits: 1024.0,
            trimmed_sectors: 0,
        }
    }
}

impl MatchParams {
    /// Largest shift in code columns.
    pub fn max_shift_cols(&self) -> i32 {
        (self.max_shift_deg / DEGREES_PER_COL).round().max(0.0) as i32
    }

    /// Sectors left out, bounded so that one is always kept.
    pub fn dropped_sectors(&self) -> usize {
        self.trimmed_sectors.min(SECTORS - 1)
    }
}

/// Outcome of one comparison.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct MatchResult {
    /// Normalised fractional Hamming distance over the kept sectors (0
    /// identical, ≈0.5 unrelated).
    pub distance: f32,
    /// Fraction of disagreeing bits (kept sectors) before normalisation.
    pub raw_distance: f32,
    /// Best shift in columns: probe column c + shift ↔ reference column c.
    pub shift: i32,
    pub shift_degrees: f32,
    /// Bits valid in both templates in the kept sectors.
    pub bits_compared: u32,
    pub is_match: bool,
}

/// Compare a probe with a reference template.
pub fn compare(probe: &Template, reference: &Template, p: &MatchParams) -> MatchResult {
    let s = p.max_shift_cols();
    let rotations: Vec<Template> = (-s..=s).map(|k| probe.rotated(k)).collect();
    best_over_shifts_fast(&rotations, &reference.code, &reference.mask, s, p)
}

popcount_dispatch! {
    /// [`best_over_shifts`] compiled for the CPU's fastest popcount.
    pub(crate) fn best_over_shifts_fast(
        rotations: &[Template],
        code: &[u64; WORDS],
        mask: &[u64; WORDS],
        s: i32,
        p: &MatchParams,
    ) -> MatchResult {
        best_over_shifts(rotations, code, mask, s, p)
    }
}

/// Best result of pre-rotated probes (`rotations[i]` is shift `i − s`)
/// against one reference.
#[inline(always)]
pub(crate) fn best_over_shifts(
    rotations: &[Template],
    code: &[u64; WORDS],
    mask: &[u64; WORDS],
    s: i32,
    p: &MatchParams,
) -> MatchResult {
    let mut best = MatchResult {
        distance: f32::INFINITY,
        raw_distance: 0.5,
        shift: 0,
        shift_degrees: 0.0,
        bits_compared: 0,
        is_match: false,
    };
    let drop = p.dropped_sectors();
    for (i, r) in rotations.iter().enumerate() {
        let (d, n) = kept_counts(&r.code, &r.mask, code, mask, drop);
        let (hd, raw) = normalised(d, n, p.reference_bits);
        if hd < best.distance {
            let shift = i as i32 - s;
            best = MatchResult {
                distance: hd,
                raw_distance: raw,
                shift,
                shift_degrees: shift as f32 * DEGREES_PER_COL,
                bits_compared: n,
                is_match: hd <= p.threshold,
            };
        }
    }
    best
}

/// A division- and root-free form of "some shift has HD_n ≤ threshold":
/// HD_n ≤ T ⟺ n − 2d ≥ 2(0.5 − T)·√(n_ref)·√n ⟺ (n − 2d > 0 and
/// (n − 2d)² ≥ k·n) with k = 4(0.5 − T)²·n_ref, on the trimmed counts (d,
/// n) of [`trimmed`]. Lets the gallery reject a prefilter survivor with
/// integer counts only.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatchTest {
    k: f64,
    drop: usize,
}

impl MatchTest {
    pub(crate) fn new(p: &MatchParams) -> MatchTest {
        let m = (0.5 - f64::from(p.threshold)).max(0.0);
        MatchTest {
            k: 4.0 * m * m * f64::from(p.reference_bits),
            drop: p.dropped_sectors(),
        }
    }

    /// The test on (disagreeing, jointly valid) counts.
    #[inline(always)]
    pub(crate) fn passes(&self, d: u64, n: u64) -> bool {
        let x = n as i64 - 2 * d as i64;
        x > 0 && (x * x) as f64 >= self.k * n as f64
    }

    /// The test on one rotation's per-sector counts.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn passes_sectors(&self, sectors: &[(u32, u32); SECTORS]) -> bool {
        let (d, n) = trimmed(sectors, self.drop);
        self.passes(u64::from(d), u64::from(n))
    }

    /// [`MatchTest::any`] with explicit AVX-512 intrinsics: the reference's
    /// code and mask stay in eight 512-bit registers while every rotation
    /// streams past them (vertical popcounts; each word's disagreeing count
    /// in the low and valid count in the high 32 bits of its lane, so one
    /// add carries both), then, when sectors are trimmed, three rounds of
    /// pairwise lane sums leave the 8 sectors' counts in one vector, in
    /// sector order, for [`trimmed`]; untrimmed, one horizontal sum.
    ///
    /// # Safety
    /// The CPU must support AVX-512F and VPOPCNTDQ.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    #[inline]
    pub(crate) unsafe fn any_avx512(
        &self,
        rotations: &[Template],
        code: &[u64; WORDS],
        mask: &[u64; WORDS],
    ) -> bool {
        use std::arch::x86_64::*;
        const V: usize = WORDS / 8;
        // The lane sums below fold 4 vectors of 8 words into 8 sectors of 4.
        const _: () = assert!(V == 4 && SECTORS == 8);
        let load = |w: &[u64; WORDS], k: usize| {
            // SAFETY: k < V, so the 8 words at 8k are inside the array.
            unsafe { _mm512_loadu_si512(w.as_ptr().add(8 * k).cast()) }
        };
        let ec: [__m512i; V] = std::array::from_fn(|k| load(code, k));
        let em: [__m512i; V] = std::array::from_fn(|k| load(mask, k));
        // pairs(a, b) = [a0+a1, a2+a3, a4+a5, a6+a7, b0+b1, …, b6+b7].
        let even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
        let odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
        #[target_feature(enable = "avx512f")]
        #[inline]
        fn pairs(a: __m512i, b: __m512i, even: __m512i, odd: __m512i) -> __m512i {
            _mm512_add_epi64(
                _mm512_permutex2var_epi64(a, even, b),
                _mm512_permutex2var_epi64(a, odd, b),
            )
        }
        // Each word's (disagreeing, valid) counts in the low and high 32 bits
        // of its lane. A nested function, not a closure, so that it inlines
        // into this AVX-512 code.
        #[target_feature(enable = "avx512f,avx512vpopcntdq")]
        #[inline]
        fn packed(r: &Template, ec: [__m512i; V], em: [__m512i; V]) -> [__m512i; V] {
            let mut c = [_mm512_setzero_si512(); V];
            for k in 0..V {
                // SAFETY: k < V, so the 8 words at 8k are inside the arrays.
                let (rc, rm) = unsafe {
                    (
                        _mm512_loadu_si512(r.code.as_ptr().add(8 * k).cast()),
                        _mm512_loadu_si512(r.mask.as_ptr().add(8 * k).cast()),
                    )
                };
                let m = _mm512_and_si512(rm, em[k]);
                let x = _mm512_and_si512(_mm512_xor_si512(rc, ec[k]), m);
                c[k] = _mm512_add_epi64(
                    _mm512_popcnt_epi64(x),
                    _mm512_slli_epi64::<32>(_mm512_popcnt_epi64(m)),
                );
            }
            c
        }
        if self.drop == 0 {
            // Untrimmed, only the template's totals matter.
            for r in rotations {
                let c = packed(r, ec, em);
                let all =
                    _mm512_add_epi64(_mm512_add_epi64(c[0], c[1]), _mm512_add_epi64(c[2], c[3]));
                let v = _mm512_reduce_add_epi64(all) as u64;
                if self.passes(v & 0xffff_ffff, v >> 32) {
                    return true;
                }
            }
            return false;
        }
        for r in rotations {
            let c = packed(r, ec, em);
            let s = pairs(
                pairs(c[0], c[1], even, odd),
                pairs(c[2], c[3], even, odd),
                even,
                odd,
            );
            let mut lanes = [0u64; SECTORS];
            // SAFETY: `lanes` is 8 u64, one 512-bit store.
            unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), s) };
            if self.passes_sectors(&lanes.map(|v| (v as u32, (v >> 32) as u32))) {
                return true;
            }
        }
        false
    }

    /// True when some rotation matches `code`/`mask` under the threshold.
    #[inline(always)]
    pub(crate) fn any(
        &self,
        rotations: &[Template],
        code: &[u64; WORDS],
        mask: &[u64; WORDS],
    ) -> bool {
        rotations.iter().any(|r| {
            let (d, n) = kept_counts(&r.code, &r.mask, code, mask, self.drop);
            self.passes(u64::from(d), u64::from(n))
        })
    }
}

/// (disagreeing, jointly valid) bit counts over the sectors kept when
/// `drop` are trimmed ([`trimmed`]); untrimmed, one pass over the words
/// without the per-sector bookkeeping, which costs the 1:1 comparison ≈ 60 %
/// when nothing is left out.
#[inline(always)]
pub(crate) fn kept_counts<const N: usize>(
    ac: &[u64; N],
    am: &[u64; N],
    bc: &[u64; N],
    bm: &[u64; N],
    drop: usize,
) -> (u32, u32) {
    if drop > 0 {
        return trimmed(&sector_counts(ac, am, bc, bm), drop);
    }
    let (mut d, mut n) = (0u32, 0u32);
    for i in 0..N {
        let m = am[i] & bm[i];
        d += ((ac[i] ^ bc[i]) & m).count_ones();
        n += m.count_ones();
    }
    (d, n)
}

/// (disagreeing, jointly valid) bit counts per sector; sector k is words
/// k·N/[`SECTORS`] … of the arrays (the template, or the gallery's
/// subsample of 8 words).
#[inline(always)]
pub(crate) fn sector_counts<const N: usize>(
    ac: &[u64; N],
    am: &[u64; N],
    bc: &[u64; N],
    bm: &[u64; N],
) -> [(u32, u32); SECTORS] {
    const { assert!(N.is_multiple_of(SECTORS)) };
    let per = N / SECTORS;
    let mut s = [(0u32, 0u32); SECTORS];
    for i in 0..N {
        let m = am[i] & bm[i];
        let e = &mut s[i / per];
        e.0 += ((ac[i] ^ bc[i]) & m).count_ones();
        e.1 += m.count_ones();
    }
    s
}

/// (disagreeing, compared) summed over the sectors kept when the `drop`
/// whose disagreement fraction d/n is highest are left out; of two sectors
/// with one fraction the one with fewer bits goes, keeping more evidence
/// (sectors equal in both are interchangeable: the sums do not depend on
/// which goes). Only sectors where some bits disagree are ever left out:
/// leaving out one where all agree would discard agreeing evidence and
/// nothing else. Computed as an insertion of each sector into `drop` slots,
/// worst first.
#[inline(always)]
pub fn trimmed(sectors: &[(u32, u32); SECTORS], drop: usize) -> (u32, u32) {
    let drop = drop.min(SECTORS - 1);
    if drop == 0 {
        return sectors.iter().fold((0, 0), |(d, n), s| (d + s.0, n + s.1));
    }
    let mut slots = [(0u32, 0u32); SECTORS];
    let (mut d, mut n) = (0u32, 0u32);
    for &s in sectors {
        d += s.0;
        n += s.1;
        let mut a = s;
        for slot in &mut slots[..drop] {
            if worse(a, *slot) {
                std::mem::swap(&mut a, slot);
            }
        }
    }
    for s in &slots[..drop] {
        d -= s.0;
        n -= s.1;
    }
    (d, n)
}

/// Sector `a` goes before `b`: a has some disagreement, and d_a/n_a >
/// d_b/n_b (cross-multiplied; an empty slot (0, 0) counts as 0/1), or the
/// fractions are equal and a has fewer bits.
#[inline(always)]
fn worse(a: (u32, u32), b: (u32, u32)) -> bool {
    let (l, r) = (
        u64::from(a.0) * u64::from(b.1.max(1)),
        u64::from(b.0) * u64::from(a.1),
    );
    a.0 > 0 && (l > r || (l == r && a.1 < b.1))
}

/// (normalised, raw) distance from counts: `d` disagreeing bits of `n`
/// compared, scaled towards 0.5 by how few bits were compared against
/// `reference_bits` (Daugman's score normalisation).
#[inline(always)]
pub fn normalised(d: u32, n: u32, reference_bits: f32) -> (f32, f32) {
    if n == 0 {
        return (0.5, 0.5);
    }
    let raw = d as f32 / n as f32;
    let hd = 0.5 - (0.5 - raw) * (n as f32 / reference_bits).sqrt();
    (hd.clamp(0.0, 1.0), raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::CODE_BITS;

    fn random(seed: u64, valid_every: usize) -> Template {
        let mut t = Template::empty();
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        for b in 0..CODE_BITS {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t.set(b, x & 1 == 1, b % valid_every != 0);
        }
        t
    }

    #[test]
    fn identical_rotated_and_unrelated() {
        let a = random(1, 5);
        let p = MatchParams::default();
        let same = compare(&a, &a, &p);
        assert_eq!((same.raw_distance, same.shift), (0.0, 0));
        assert!(same.is_match && same.distance < 0.1);
        // The probe seen with the eye rotated 3 columns is found at shift 3.
        let r = compare(&a.rotated(-3), &a, &p);
        assert_eq!((r.raw_distance, r.shift), (0.0, 3));
        assert!((r.shift_degrees - 8.4375).abs() < 1e-4);
        let b = random(2, 5);
        let u = compare(&a, &b, &p);
        assert!(!u.is_match && u.distance > 0.4, "{u:?}");
        assert!(u.bits_compared > 1000 && u.bits_compared < CODE_BITS as u32);
    }

    #[test]
    fn rotation_beyond_the_range_is_not_compensated() {
        let a = random(3, 7);
        let p = MatchParams {
            max_shift_deg: 10.0,
            ..MatchParams::default()
        };
        assert_eq!(p.max_shift_cols(), 4);
        assert!(compare(&a.rotated(4), &a, &p).is_match);
        assert!(!compare(&a.rotated(9), &a, &p).is_match);
    }

    /// `a` with every `every`-th bit from `from` flipped inside sectors
    /// `sectors` (a stand-in for a second capture with local damage).
    fn flipped(a: &Template, every: usize, from: usize, sectors: &[usize]) -> Template {
        let per = CODE_BITS / SECTORS;
        let mut b = a.clone();
        for &k in sectors {
            for bit in (k * per + from % per..(k + 1) * per).step_by(every) {
                let (v, m) = b.get(bit);
                b.set(bit, !v, m);
            }
        }
        b
    }

    #[test]
    fn integer_match_test_agrees_with_the_distance() {
        let all: Vec<usize> = (0..SECTORS).collect();
        let a = random(5, 4);
        let mut seen = [0usize; 2];
        for drop in [0, 1, 2, 3] {
            for threshold in [0.15f32, 0.25, 0.30, 0.33, 0.36] {
                let p = MatchParams {
                    threshold,
                    trimmed_sectors: drop,
                    ..MatchParams::default()
                };
                let t = MatchTest::new(&p);
                // Uniform noise sweeps the distance; noise in 2 sectors only
                // is what trimming removes.
                for (k, every) in [(0usize, 0usize), (1, 2), (2, 3), (3, 5), (4, 7), (5, 11)] {
                    for damaged in [&all[..], &all[3..5]] {
                        let b = if every == 0 {
                            a.clone()
                        } else {
                            flipped(&a, every, k, damaged)
                        };
                        let r = compare(&a, &b, &p);
                        let want = r.distance <= p.threshold;
                        seen[usize::from(want)] += 1;
                        let rotations = [a.rotated(-1), a.clone(), a.rotated(2)];
                        assert_eq!(t.any(&rotations, &b.code, &b.mask), want, "{r:?}");
                        #[cfg(target_arch = "x86_64")]
                        if crate::simd::has_avx512_popcnt() {
                            // SAFETY: the CPU has the features.
                            let fast = unsafe { t.any_avx512(&rotations, &b.code, &b.mask) };
                            assert_eq!(fast, want, "avx512: {r:?}");
                        }
                    }
                }
            }
        }
        assert!(seen[0] > 20 && seen[1] > 20, "{seen:?}");
    }

    #[test]
    fn every_popcount_path_gives_the_same_sector_counts() {
        // The dispatched variants (AVX-512, POPCNT, portable) and the
        // AVX-512 exact-stage kernel must all see one distance. Thresholds
        // at each pair's own distance put the integer test on its edge.
        for seed in 0..40u64 {
            let a = random(100 + seed, 2 + seed as usize % 5);
            let b = if seed % 2 == 0 {
                random(200 + seed, 3)
            } else {
                flipped(
                    &a,
                    2 + seed as usize % 4,
                    seed as usize,
                    &[seed as usize % 8, 5],
                )
            };
            for drop in 0..SECTORS {
                let p = MatchParams {
                    trimmed_sectors: drop,
                    ..MatchParams::default()
                };
                let s = p.max_shift_cols();
                let rotations: Vec<Template> = (-s..=s).map(|k| a.rotated(k)).collect();
                let fast = best_over_shifts_fast(&rotations, &b.code, &b.mask, s, &p);
                let plain = best_over_shifts(&rotations, &b.code, &b.mask, s, &p);
                assert_eq!(fast, plain, "seed {seed} drop {drop}");
                for dt in [-1e-4f32, 1e-4] {
                    // (A distance clamped to 0 has no edge below it.)
                    if plain.distance + dt <= 0.0 {
                        continue;
                    }
                    let q = MatchParams {
                        threshold: plain.distance + dt,
                        ..p.clone()
                    };
                    let t = MatchTest::new(&q);
                    let want = t.any(&rotations, &b.code, &b.mask);
                    assert_eq!(want, dt > 0.0, "seed {seed} drop {drop} {plain:?}");
                    #[cfg(target_arch = "x86_64")]
                    if crate::simd::has_avx512_popcnt() {
                        // SAFETY: the CPU has the features.
                        let got = unsafe { t.any_avx512(&rotations, &b.code, &b.mask) };
                        assert_eq!(got, want, "avx512, seed {seed} drop {drop}");
                    }
                }
            }
        }
    }

    #[test]
    fn trimming_leaves_out_the_worst_sectors_by_fraction() {
        // The reference: sectors with some disagreement, in decreasing
        // d/n (exact rational order), then increasing n; the first `drop` go.
        fn reference(s: &[(u32, u32); SECTORS], drop: usize) -> (u32, u32) {
            let mut order: Vec<usize> = (0..SECTORS).filter(|&k| s[k].0 > 0).collect();
            order.sort_by(|&i, &j| {
                let (di, ni, dj, nj) = (
                    u64::from(s[i].0),
                    u64::from(s[i].1),
                    u64::from(s[j].0),
                    u64::from(s[j].1),
                );
                (dj * ni).cmp(&(di * nj)).then(ni.cmp(&nj))
            });
            let gone = &order[..drop.min(order.len())];
            (0..SECTORS)
                .filter(|k| !gone.contains(k))
                .fold((0, 0), |(d, n), k| (d + s[k].0, n + s[k].1))
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m) as u32
        };
        for _ in 0..5000 {
            // Small counts make ties, empty sectors and d = 0 common.
            let s: [(u32, u32); SECTORS] = std::array::from_fn(|_| {
                let n = next(7) * next(3);
                (next(u64::from(n) + 1), n)
            });
            for drop in 0..SECTORS {
                assert_eq!(trimmed(&s, drop), reference(&s, drop), "{s:?} drop {drop}");
            }
        }
        // Untrimmed, the sectors add up to the whole template's counts.
        let (a, b) = (random(7, 3), random(8, 4));
        let whole = (0..WORDS).fold((0, 0), |(d, n), i| {
            let m = a.mask[i] & b.mask[i];
            (
                d + ((a.code[i] ^ b.code[i]) & m).count_ones(),
                n + m.count_ones(),
            )
        });
        assert_eq!(
            trimmed(&sector_counts(&a.code, &a.mask, &b.code, &b.mask), 0),
            whole
        );
    }

    #[test]
    fn two_damaged_sectors_do_not_hide_a_match() {
        // Every other bit of two sectors flipped (a lid the mask missed):
        // the whole-template distance is pulled up, the trimmed one not.
        let a = random(11, 5);
        let b = flipped(&a.rotated(2), 2, 0, &[1, 2]);
        let p = MatchParams {
            trimmed_sectors: 2,
            ..MatchParams::default()
        };
        let plain = compare(
            &a,
            &b,
            &MatchParams {
                trimmed_sectors: 0,
                ..p.clone()
            },
        );
        let r = compare(&a, &b, &p);
        assert_eq!((r.shift, r.raw_distance), (2, 0.0), "{r:?}");
        assert!(plain.raw_distance > 0.1, "{plain:?}");
        assert!(r.is_match && r.bits_compared < plain.bits_compared);
    }

    #[test]
    fn few_bits_compared_pull_the_distance_towards_chance() {
        // Raw distance 0.2 over 100 bits vs over 1,024 bits.
        let (few, raw) = normalised(20, 100, 1024.0);
        let (many, _) = normalised(205, 1024, 1024.0);
        assert!((raw - 0.2).abs() < 1e-6);
        assert!(few > many + 0.1, "{few} vs {many}");
        assert_eq!(normalised(0, 0, 1024.0), (0.5, 0.5));
    }
}
