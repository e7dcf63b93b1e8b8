//! Matching two templates: fractional Hamming distance with rotation
//! compensation, normalised for the number of bits compared.
//!
//! Layout: [`MatchParams`], [`MatchResult`], [`compare`], then the shared
//! counting primitives used by the gallery (`counts`, `normalised`, `MatchTest`).
//!
//! For each column shift s in ±`max_shift_deg` (one column = 2.8125°), the
//! raw distance is HD = |(A_s ⊕ B) ∧ M_A,s ∧ M_B| / |M_A,s ∧ M_B|, i.e. the
//! fraction of disagreeing bits among those valid in both. A comparison over
//! few bits is less trustworthy, so, as Daugman and open-iris do, it is
//! pulled towards 0.5 (chance): HD_n = 0.5 − (0.5 − HD)·√(n / n_ref), with
//! n the bits compared and n_ref = `reference_bits`. The result is the shift
//! with the smallest HD_n. Two templates match when HD_n ≤ `threshold`; the
//! default threshold comes from `kudakyar iris evaluate` on synthetic data
//! and should be re-calibrated on real captures.

use serde::{Deserialize, Serialize};

use crate::simd::popcount_dispatch;
use crate::template::{DEGREES_PER_COL, Template, WORDS};

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
}

impl Default for MatchParams {
    fn default() -> Self {
        MatchParams {
            max_shift_deg: 25.0,
            threshold: 0.33,
            reference_bits: 1024.0,
        }
    }
}

impl MatchParams {
    /// Largest shift in code columns.
    pub fn max_shift_cols(&self) -> i32 {
        (self.max_shift_deg / DEGREES_PER_COL).round().max(0.0) as i32
    }
}

/// Outcome of one comparison.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct MatchResult {
    /// Normalised fractional Hamming distance (0 identical, ≈0.5 unrelated).
    pub distance: f32,
    /// Fraction of disagreeing bits before normalisation.
    pub raw_distance: f32,
    /// Best shift in columns: probe column c + shift ↔ reference column c.
    pub shift: i32,
    pub shift_degrees: f32,
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
    for (i, r) in rotations.iter().enumerate() {
        let (d, n) = counts(&r.code, &r.mask, code, mask);
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
/// (n − 2d)² ≥ k·n) with k = 4(0.5 − T)²·n_ref. Lets the gallery reject a
/// prefilter survivor with integer counts only.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatchTest {
    k: f64,
}

impl MatchTest {
    pub(crate) fn new(p: &MatchParams) -> MatchTest {
        let m = (0.5 - f64::from(p.threshold)).max(0.0);
        MatchTest {
            k: 4.0 * m * m * f64::from(p.reference_bits),
        }
    }

    /// The test on (disagreeing, jointly valid) counts.
    #[inline(always)]
    pub(crate) fn passes(&self, d: u64, n: u64) -> bool {
        let x = n as i64 - 2 * d as i64;
        x > 0 && (x * x) as f64 >= self.k * n as f64
    }

    /// [`MatchTest::any`] with explicit AVX-512 intrinsics: the reference's
    /// code and mask stay in eight 512-bit registers while every rotation
    /// streams past them (vertical popcounts, one horizontal sum per
    /// rotation).
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
        let load = |w: &[u64; WORDS], k: usize| {
            // SAFETY: k < V, so the 8 words at 8k are inside the array.
            unsafe { _mm512_loadu_si512(w.as_ptr().add(8 * k).cast()) }
        };
        let ec: [__m512i; V] = std::array::from_fn(|k| load(code, k));
        let em: [__m512i; V] = std::array::from_fn(|k| load(mask, k));
        for r in rotations {
            let (mut d, mut n) = (_mm512_setzero_si512(), _mm512_setzero_si512());
            for k in 0..V {
                let m = _mm512_and_si512(load(&r.mask, k), em[k]);
                let x = _mm512_and_si512(_mm512_xor_si512(load(&r.code, k), ec[k]), m);
                d = _mm512_add_epi64(d, _mm512_popcnt_epi64(x));
                n = _mm512_add_epi64(n, _mm512_popcnt_epi64(m));
            }
            let (d, n) = (_mm512_reduce_add_epi64(d), _mm512_reduce_add_epi64(n));
            if self.passes(d as u64, n as u64) {
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
            let (d, n) = counts(&r.code, &r.mask, code, mask);
            self.passes(u64::from(d), u64::from(n))
        })
    }
}

/// (disagreeing, jointly valid) bit counts.
#[inline(always)]
pub(crate) fn counts<const N: usize>(
    ac: &[u64; N],
    am: &[u64; N],
    bc: &[u64; N],
    bm: &[u64; N],
) -> (u32, u32) {
    let (mut d, mut n) = (0u32, 0u32);
    for i in 0..N {
        let m = am[i] & bm[i];
        d += ((ac[i] ^ bc[i]) & m).count_ones();
        n += m.count_ones();
    }
    (d, n)
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

    #[test]
    fn integer_match_test_agrees_with_the_distance() {
        let p = MatchParams::default();
        let t = MatchTest::new(&p);
        let a = random(5, 4);
        for (k, noise) in [(0u64, 0usize), (1, 3), (2, 5), (3, 7), (4, 11)] {
            // Flip every `noise`-th bit of a (0 = none) to sweep distances.
            let mut b = a.clone();
            if noise > 0 {
                for bit in (k as usize..CODE_BITS).step_by(noise) {
                    let (v, m) = b.get(bit);
                    b.set(bit, !v, m);
                }
            }
            let r = compare(&a, &b, &p);
            assert_eq!(
                t.any(std::slice::from_ref(&a), &b.code, &b.mask),
                r.distance <= p.threshold,
                "{r:?}"
            );
            #[cfg(target_arch = "x86_64")]
            if crate::simd::has_avx512_popcnt() {
                // SAFETY: the CPU has the features.
                let fast = unsafe { t.any_avx512(std::slice::from_ref(&a), &b.code, &b.mask) };
                assert_eq!(fast, r.distance <= p.threshold, "avx512: {r:?}");
            }
        }
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
