//! The Mann-Kendall trend test: does a series rise or fall monotonically more
//! than chance would make it?
//!
//! For a series `x₁…x_n` (Mann 1945; Kendall 1975; the formulas of Hipel &
//! McLeod 1994, ch. 23, and of PyPI `pymannkendall` 1.4's `original_test`,
//! which the peer check compares within 1e-6):
//!
//! - `S = Σ_{i<j} sign(x_j − x_i)`;
//! - with `g` groups of tied values of sizes `t_p`,
//!   `var(S) = [n(n−1)(2n+5) − Σ_p t_p(t_p−1)(2t_p+5)] / 18`;
//! - the continuity-corrected `z = (S − 1)/√var(S)` if `S > 0`, `0` if
//!   `S = 0`, `(S + 1)/√var(S)` if `S < 0`;
//! - the two-sided `p = P(|Z| ≥ |z|)` under the standard normal;
//! - Kendall's `τ = S / (n(n−1)/2)`.
//!
//! Sen's (1968) slope [`sens_slope`] is the median of `(x_j − x_i)/(j − i)`
//! over all `i < j`: the trend's size in units per time step, robust to
//! outliers.
//!
//! Ties are exact equality of the `f64` values, as in numpy's `unique`.

use crate::Error;
use crate::error::check_values;
use crate::normal::two_sided_p;

/// The outcome of [`test()`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// Kendall's score S.
    pub s: i64,
    /// var(S), corrected for ties.
    pub var_s: f64,
    /// The continuity-corrected normal score.
    pub z: f64,
    /// The two-sided p-value.
    pub p: f64,
    /// Kendall's τ.
    pub tau: f64,
}

impl MannKendall {
    /// +1 for a significant upward trend at level `alpha`, −1 downward, 0 none.
    pub fn trend(&self, alpha: f64) -> i8 {
        if self.p <= alpha && self.z != 0.0 {
            if self.z > 0.0 { 1 } else { -1 }
        } else {
            0
        }
    }
}

/// The Mann-Kendall test of `x` in time order (at least 2 finite values).
pub fn test(x: &[f64]) -> Result<MannKendall, Error> {
    check_values(x, 2, "the Mann-Kendall test")?;
    let n = x.len();
    let mut s: i64 = 0;
    for i in 0..n - 1 {
        for j in i + 1..n {
            s += match x[j].partial_cmp(&x[i]) {
                Some(std::cmp::Ordering::Greater) => 1,
                Some(std::cmp::Ordering::Less) => -1,
                _ => 0,
            };
        }
    }
    // Tie groups: runs of equal values in the sorted copy.
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut start = 0;
    for end in 1..=n {
        if end == n || sorted[end] != sorted[start] {
            let t = (end - start) as f64;
            ties += t * (t - 1.0) * (2.0 * t + 5.0);
            start = end;
        }
    }
    let nf = n as f64;
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = match s.signum() {
        1 => (s - 1) as f64 / var_s.sqrt(),
        -1 => (s + 1) as f64 / var_s.sqrt(),
        _ => 0.0,
    };
    Ok(MannKendall {
        s,
        var_s,
        z,
        p: two_sided_p(z),
        tau: s as f64 / (0.5 * nf * (nf - 1.0)),
    })
}

/// Sen's slope of `x` in time order (at least 2 finite values).
pub fn sens_slope(x: &[f64]) -> Result<f64, Error> {
    check_values(x, 2, "Sen's slope")?;
    let n = x.len();
    let mut d = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n - 1 {
        for j in i + 1..n {
            d.push((x[j] - x[i]) / (j - i) as f64);
        }
    }
    d.sort_by(f64::total_cmp);
    let mid = d.len() / 2;
    Ok(if d.len() % 2 == 1 {
        d[mid]
    } else {
        0.5 * (d[mid - 1] + d[mid])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small series worked by hand: 1 2 2 3 (pairs: +1 +1 +1 0 +1 +1 → S = 5;
    /// one tie group of 2: var = (4·3·13 − 2·1·9)/18 = 138/18).
    #[test]
    fn by_hand_with_a_tie() {
        let r = test(&[1.0, 2.0, 2.0, 3.0]).unwrap();
        assert_eq!(r.s, 5);
        assert!((r.var_s - 138.0 / 18.0).abs() < 1e-12);
        assert!((r.z - 4.0 / (138.0f64 / 18.0).sqrt()).abs() < 1e-12);
        assert!((r.tau - 5.0 / 6.0).abs() < 1e-12);
        let flat = test(&[3.0; 5]).unwrap();
        assert_eq!((flat.s, flat.z, flat.p), (0, 0.0, 1.0));
        let down = test(&[5.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0, -2.0, -3.0, -4.0]).unwrap();
        assert_eq!(down.s, -45);
        assert_eq!(down.trend(0.05), -1);
        assert!(test(&[1.0]).is_err());
    }

    #[test]
    fn sens_slope_is_the_median_pairwise_slope() {
        assert_eq!(sens_slope(&[0.0, 2.0, 4.0, 6.0]).unwrap(), 2.0);
        // slopes: 10, 4.5, 3, −1, −0.5, 0 → sorted −1 −0.5 0 3 4.5 10 → (0 + 3)/2
        assert_eq!(sens_slope(&[0.0, 10.0, 9.0, 9.0]).unwrap(), 1.5);
    }
}
