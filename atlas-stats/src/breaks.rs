//! Class breaks for the zoning map (پهنه‌بندی) and the class of a value.
//!
//! Every method returns `k + 1` breaks `b₀ ≤ b₁ ≤ … ≤ b_k`, with `b₀` the
//! smallest and `b_k` the largest value, the layout of PyPI `jenkspy`'s
//! `jenks_breaks`, so one legend code serves all methods. The rules:
//!
//! - **Quantiles** ([`quantiles`]): `b_i` is the `i/k` quantile with linear
//!   interpolation between order statistics (Hyndman & Fan 1996, definition 7;
//!   numpy's and R's default): with sorted `x₀…x_{n−1}`, `h = (n−1)·i/k`,
//!   `b_i = x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋)`.
//! - **Equal intervals** ([`equal_intervals`]): `b_i = min + i·(max − min)/k`.
//! - **Natural breaks** ([`jenks`]): Fisher's (1958) exact optimal partition of
//!   the sorted values into `k` contiguous classes minimising the sum of
//!   within-class squared deviations, by the dynamic programme of Jenks's
//!   `fish.f` as ported in `jenkspy` 0.4 (`_jenks.c`): the same loops, the same
//!   running-sum variance `Σx² − (Σx)²/w`, and the same `>=` comparison, so
//!   when several partitions are equally good (ties in the data) we pick the
//!   one `jenkspy` picks. `b_i` (0 < i < k) is the *largest value of class i*.
//!   Cost O(k·n²) time, O(k·n) memory: fine for 478 counties or a few
//!   thousand cells; for a whole country of res-9 cells, classify by quantiles.
//! - **Fixed thresholds** ([`fixed`]): the user's `k − 1` strictly increasing
//!   inner breaks, framed by the data's min and max.
//!
//! [`classify`]: class `i` (0-based) holds the values in `(b_i, b_{i+1}]`, the
//! first class also holds `b₀`; a value below `b₀` is class 0 and above `b_k`
//! class `k − 1`, so breaks frozen for a Jalali year still classify next
//! year's values. For `k = 4`, [`Level`] names the classes low / medium /
//! high / critical.

use crate::Error;
use crate::error::check_values;

/// The four zoning levels of the atlas, for `k = 4` classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    /// The level of class `index` of 4 (see [`classify`]); `None` above 3.
    pub fn from_class(index: usize) -> Option<Level> {
        [Level::Low, Level::Medium, Level::High, Level::Critical]
            .get(index)
            .copied()
    }
}

/// The sorted copy of `values`, after checking there are at least `need` and
/// all are finite.
fn sorted(values: &[f64], need: usize, what: &'static str) -> Result<Vec<f64>, Error> {
    check_values(values, need.max(1), what)?;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Ok(sorted)
}

fn check_k(k: usize) -> Result<(), Error> {
    if k == 0 {
        return Err(Error::TooFewValues {
            what: "a classification",
            need: 1,
            got: 0,
        });
    }
    Ok(())
}

/// `k + 1` quantile breaks (definition 7, linear interpolation).
pub fn quantiles(values: &[f64], k: usize) -> Result<Vec<f64>, Error> {
    check_k(k)?;
    let x = sorted(values, 1, "quantile breaks")?;
    let last = (x.len() - 1) as f64;
    Ok((0..=k)
        .map(|i| {
            let h = last * i as f64 / k as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(x.len() - 1);
            x[lo] + (h - lo as f64) * (x[hi] - x[lo])
        })
        .collect())
}

/// `k + 1` equal-interval breaks from the minimum to the maximum.
pub fn equal_intervals(values: &[f64], k: usize) -> Result<Vec<f64>, Error> {
    check_k(k)?;
    let x = sorted(values, 1, "equal-interval breaks")?;
    let (min, max) = (x[0], x[x.len() - 1]);
    // The last break is the maximum itself, not min + k·step, which rounding
    // could put just below it (and leave the maximum outside every class).
    Ok((0..=k)
        .map(|i| {
            if i == k {
                max
            } else {
                min + i as f64 * (max - min) / k as f64
            }
        })
        .collect())
}

/// `k + 1` breaks from the user's `k − 1` inner thresholds, framed by the
/// data's minimum and maximum — or by the outer thresholds themselves when
/// every value lies beyond them, so the breaks always increase (a legend
/// never reads "from 7 to 1").
pub fn fixed(values: &[f64], thresholds: &[f64]) -> Result<Vec<f64>, Error> {
    if thresholds.iter().any(|t| !t.is_finite()) || thresholds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::BadThresholds);
    }
    let x = sorted(values, 1, "fixed breaks")?;
    let (Some(first), Some(last)) = (thresholds.first(), thresholds.last()) else {
        return Err(Error::BadThresholds);
    };
    let mut breaks = Vec::with_capacity(thresholds.len() + 2);
    breaks.push(x[0].min(*first));
    breaks.extend_from_slice(thresholds);
    breaks.push(x[x.len() - 1].max(*last));
    Ok(breaks)
}

/// `k + 1` Fisher-Jenks natural breaks, equal to `jenkspy.jenks_breaks(values, k)`.
///
/// Needs at least `k` distinct values (jenkspy refuses fewer too: with fewer,
/// some class would be empty).
pub fn jenks(values: &[f64], k: usize) -> Result<Vec<f64>, Error> {
    check_k(k)?;
    let x = sorted(values, k, "natural breaks")?;
    let distinct = 1 + x.windows(2).filter(|w| w[0] != w[1]).count();
    if distinct < k {
        return Err(Error::TooFewValues {
            what: "natural breaks (distinct values)",
            need: k,
            got: distinct,
        });
    }
    let n = x.len();
    // Row-major n × k matrices, as in `_jenks.c`; `limits` keeps its 1-based
    // values so the back-tracking below reads exactly like jenkspy's.
    let mut limits = vec![0usize; n * k];
    let mut cost = vec![f64::MAX; n * k];
    limits[..k].fill(1);
    for l in 0..n {
        let (mut sum, mut sum_squares, mut w) = (0.0f64, 0.0f64, 0.0f64);
        let mut variance = 0.0;
        for m in 0..=l {
            let lower = l - m;
            let val = x[lower];
            w += 1.0;
            sum += val;
            sum_squares += val * val;
            variance = sum_squares - (sum * sum) / w;
            if lower > 0 {
                let prev = (lower - 1) * k;
                for j in 1..k {
                    let candidate = variance + cost[prev + j - 1];
                    if cost[l * k + j] >= candidate {
                        limits[l * k + j] = lower + 1;
                        cost[l * k + j] = candidate;
                    }
                }
            }
        }
        limits[l * k] = 1;
        cost[l * k] = variance;
    }
    let mut breaks = vec![x[0]; k + 1];
    breaks[k] = x[n - 1];
    let mut m = n;
    for jj in (2..=k).rev() {
        let limit = limits[(m - 1) * k + (jj - 1)];
        breaks[jj - 1] = x[limit - 2];
        m = limit - 1;
    }
    Ok(breaks)
}

/// The 0-based class of `value` among `breaks.len() − 1` classes (rules in
/// the module doc). `breaks` must hold at least two values.
pub fn classify(value: f64, breaks: &[f64]) -> usize {
    let classes = breaks.len().saturating_sub(1).max(1);
    // The first inner break at or above the value closes its class.
    breaks
        .get(1..breaks.len().saturating_sub(1))
        .unwrap_or(&[])
        .iter()
        .position(|&b| value <= b)
        .unwrap_or(classes - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jenks_finds_the_obvious_groups() {
        let v = [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 30.0, 31.0, 50.0, 52.0];
        assert_eq!(
            jenks(&v, 4).unwrap(),
            vec![1.0, 3.0, 12.0, 31.0, 52.0],
            "each break is the top of its class"
        );
        // One class: just min and max; as many classes as values: each value.
        assert_eq!(jenks(&v, 1).unwrap(), vec![1.0, 52.0]);
        assert_eq!(jenks(&[3.0, 1.0], 2).unwrap(), vec![1.0, 1.0, 3.0]);
        assert!(matches!(
            jenks(&[1.0], 2),
            Err(Error::TooFewValues {
                need: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            jenks(&[1.0, 1.0, 2.0], 3),
            Err(Error::TooFewValues {
                need: 3,
                got: 2,
                ..
            })
        ));
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.quantile([1, 2, 3, 4, 10], [0, .25, .5, .75, 1])
        let q = quantiles(&[10.0, 1.0, 3.0, 2.0, 4.0], 4).unwrap();
        assert_eq!(q, vec![1.0, 2.0, 3.0, 4.0, 10.0]);
        // numpy.quantile([1, 2, 3, 4], [0, 1/3, 2/3, 1]) = 1, 2, 3, 4
        let q = quantiles(&[1.0, 2.0, 3.0, 4.0], 3).unwrap();
        assert_eq!(q, vec![1.0, 2.0, 3.0, 4.0]);
        let q = quantiles(&[0.0, 10.0], 4).unwrap();
        assert_eq!(q, vec![0.0, 2.5, 5.0, 7.5, 10.0]);
    }

    #[test]
    fn equal_intervals_and_fixed() {
        let v = [0.0, 7.0, 3.0, 10.0];
        assert_eq!(
            equal_intervals(&v, 4).unwrap(),
            vec![0.0, 2.5, 5.0, 7.5, 10.0]
        );
        assert_eq!(
            fixed(&v, &[1.0, 5.0, 9.0]).unwrap(),
            vec![0.0, 1.0, 5.0, 9.0, 10.0]
        );
        assert_eq!(fixed(&v, &[5.0, 5.0]), Err(Error::BadThresholds));
        // Values all above (or below) the thresholds: the frame still rises.
        assert_eq!(
            fixed(&[7.0], &[1.0, 3.0, 6.0]).unwrap(),
            [1.0, 1.0, 3.0, 6.0, 7.0]
        );
        assert_eq!(
            fixed(&[0.5], &[1.0, 3.0, 6.0]).unwrap(),
            [0.5, 1.0, 3.0, 6.0, 6.0]
        );
        assert_eq!(fixed(&v, &[f64::NAN]), Err(Error::BadThresholds));
        assert_eq!(equal_intervals(&[1.0, f64::NAN], 2), Err(Error::NotFinite));
    }

    #[test]
    fn classify_closes_classes_on_the_right() {
        let b = [0.0, 2.5, 5.0, 7.5, 10.0];
        let classes: Vec<_> = [-1.0, 0.0, 2.5, 2.6, 5.0, 7.5, 7.6, 10.0, 99.0]
            .iter()
            .map(|&v| classify(v, &b))
            .collect();
        assert_eq!(classes, vec![0, 0, 0, 1, 1, 2, 3, 3, 3]);
        assert_eq!(Level::from_class(classify(8.0, &b)), Some(Level::Critical));
        assert_eq!(Level::from_class(classify(1.0, &b)), Some(Level::Low));
        assert_eq!(Level::from_class(4), None);
        // Two breaks: one class.
        assert_eq!(classify(5.0, &[0.0, 1.0]), 0);
    }
}
