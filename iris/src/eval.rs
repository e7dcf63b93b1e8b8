//! Accuracy evaluation over a folder of labelled eye images.
//!
//! Layout: [`Sample`] and [`list_samples`] (folder = identity), [`Enrolled`]
//! and [`enrol_all`] (templates + timing, in parallel), [`Scores`] and
//! [`pair_scores`] (all genuine pairs; all impostor pairs or a seeded random
//! sample), [`Report`] and [`summarise`] (FTE, EER, FNMR at fixed FMR,
//! template time), and the error-rate helpers [`fnmr_at_fmr`], [`det_curve`],
//! [`edc`].
//!
//! Quality is judged the ISO/IEC 29794-1 way, by an error-versus-discard
//! curve: FNMR at a fixed threshold (the one giving FMR 1e-4 on all pairs,
//! or the lowest FMR measured) as the genuine pairs whose lower capture
//! quality is smallest are discarded, 0 to 50 %. Discarding at random leaves
//! the FNMR where it was on average, so a curve that falls is a quality
//! score that predicts errors.
//!
//! Conventions: a comparison is accepted when its distance is *below* the
//! threshold; FMR(t) is the fraction of impostor distances < t and FNMR(t)
//! the fraction of genuine distances ≥ t. A failure-to-enrol (decode error,
//! no eye, or a "retake" verdict) removes the image from all pairs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::matcher::{MatchParams, best_over_shifts};
use crate::pipeline::{Config, analyse};
use crate::simd::popcount_dispatch;
use crate::synth::Rng;
use crate::template::Template;

/// Impostor pairs beyond this are sampled.
pub const MAX_IMPOSTORS: usize = 5_000_000;

/// One image and its identity label.
#[derive(Clone, Debug)]
pub struct Sample {
    pub path: PathBuf,
    pub label: String,
}

/// Every image file in `dir/<folder>/`; the label is the folder name, plus
/// `extra(file_name)` when it returns a value (e.g. the eye, L or R).
pub fn list_samples(
    dir: &Path,
    extra: &dyn Fn(&str) -> Option<String>,
) -> std::io::Result<Vec<Sample>> {
    let mut out = Vec::new();
    let mut folders: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    folders.sort_by_key(|e| e.file_name());
    for f in folders {
        let id = f.file_name().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(f.path())?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for path in files {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if !["png", "jpg", "jpeg", "bmp", "pgm", "pnm", "ppm"].contains(&ext.as_str()) {
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let label = match extra(&name) {
                Some(x) => format!("{id}/{x}"),
                None => id.clone(),
            };
            out.push(Sample { path, label });
        }
    }
    Ok(out)
}

/// The outcome of enrolling one sample.
#[derive(Clone, Debug)]
pub struct Enrolled {
    pub label: String,
    /// `None` on failure to enrol.
    pub template: Option<Template>,
    /// Time to decode and extract, in milliseconds.
    pub ms: f64,
    pub error: Option<String>,
    /// The quality score ([`crate::QualityReport::score`]) when an eye was found.
    pub quality: Option<f32>,
}

/// Enrol every sample (in parallel with the `parallel` feature), calling
/// `tick` after each.
pub fn enrol_all(samples: &[Sample], cfg: &Config, tick: &(dyn Fn() + Sync)) -> Vec<Enrolled> {
    let one = |s: &Sample| {
        let t0 = Instant::now();
        let r = std::fs::read(&s.path)
            .map_err(|e| e.to_string())
            .and_then(|b| analyse(&b, cfg).map_err(|e| e.to_string()));
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        tick();
        let quality = r.as_ref().ok().map(|c| c.quality.score);
        let (template, error) = match r {
            Ok(c) if c.usable() => (Some(c.template), None),
            Ok(c) => (None, Some(c.quality.verdict.to_string())),
            Err(e) => (None, Some(e)),
        };
        Enrolled {
            label: s.label.clone(),
            template,
            ms,
            error,
            quality,
        }
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        samples.par_iter().map(one).collect()
    }
    #[cfg(not(feature = "parallel"))]
    samples.iter().map(one).collect()
}

/// Genuine and impostor distances.
#[derive(Clone, Debug, Default)]
pub struct Scores {
    pub genuine: Vec<f32>,
    /// The lower quality score of the two captures of each genuine pair.
    pub genuine_quality: Vec<f32>,
    pub impostor: Vec<f32>,
    /// True when impostor pairs were sampled (more than [`MAX_IMPOSTORS`]).
    pub impostor_sampled: bool,
}

/// Score all genuine pairs and all (or `max_impostors` sampled) impostor pairs.
pub fn pair_scores(
    enrolled: &[Enrolled],
    m: &MatchParams,
    max_impostors: usize,
    seed: u64,
) -> Scores {
    let ok: Vec<(&str, &Template)> = enrolled
        .iter()
        .filter_map(|e| e.template.as_ref().map(|t| (e.label.as_str(), t)))
        .collect();
    let quality: Vec<f32> = enrolled
        .iter()
        .filter(|e| e.template.is_some())
        .map(|e| e.quality.unwrap_or(0.0))
        .collect();
    let s = m.max_shift_cols();
    let rotations: Vec<Vec<Template>> = ok
        .iter()
        .map(|(_, t)| (-s..=s).map(|k| t.rotated(k)).collect())
        .collect();
    let n = ok.len();
    let mut genuine_pairs = Vec::new();
    let mut impostor_total = 0usize;
    for i in 0..n {
        for j in i + 1..n {
            if ok[i].0 == ok[j].0 {
                genuine_pairs.push((i, j));
            } else {
                impostor_total += 1;
            }
        }
    }
    let sampled = impostor_total > max_impostors;
    let impostor_pairs: Vec<(usize, usize)> = if sampled {
        let mut rng = Rng::new(&[seed, 0x1a5]);
        let mut v = Vec::with_capacity(max_impostors);
        while v.len() < max_impostors {
            let (i, j) = (rng.below(n as u32) as usize, rng.below(n as u32) as usize);
            if i != j && ok[i].0 != ok[j].0 {
                v.push((i.min(j), i.max(j)));
            }
        }
        v
    } else {
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .filter(|&(i, j)| ok[i].0 != ok[j].0)
            .collect()
    };
    let targets: Vec<&Template> = ok.iter().map(|(_, t)| *t).collect();
    let score = |pairs: &[(usize, usize)]| -> Vec<f32> {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            pairs
                .par_chunks(4096)
                .flat_map_iter(|c| score_pairs(c, &rotations, &targets, s, m))
                .collect()
        }
        #[cfg(not(feature = "parallel"))]
        score_pairs(pairs, &rotations, &targets, s, m)
    };
    Scores {
        genuine: score(&genuine_pairs),
        genuine_quality: genuine_pairs
            .iter()
            .map(|&(i, j)| quality[i].min(quality[j]))
            .collect(),
        impostor: score(&impostor_pairs),
        impostor_sampled: sampled,
    }
}

popcount_dispatch! {
    /// Distances of index pairs (pre-rotated first, plain second).
    fn score_pairs(
        pairs: &[(usize, usize)],
        rotations: &[Vec<Template>],
        targets: &[&Template],
        s: i32,
        m: &MatchParams,
    ) -> Vec<f32> {
        pairs.iter().map(|&(i, j)| best_over_shifts(&rotations[i], &targets[j].code, &targets[j].mask, s, m).distance).collect()
    }
}

/// FNMR at one target FMR.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FnmrAt {
    pub fmr: f64,
    pub fnmr: f64,
    pub threshold: f32,
}

/// The figures `kudakyar iris evaluate` prints.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub images: usize,
    pub identities: usize,
    pub failed_to_enrol: usize,
    pub fte: f64,
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    pub impostor_pairs_sampled: bool,
    pub eer: f64,
    pub eer_threshold: f32,
    pub fnmr_at_fmr: Vec<FnmrAt>,
    pub template_ms_mean: f64,
    pub template_ms_p95: f64,
    pub genuine_mean: f64,
    pub impostor_mean: f64,
    /// Most common reasons for failure to enrol, with counts.
    pub fte_reasons: Vec<(String, usize)>,
    /// The threshold the error-versus-discard curve holds fixed.
    pub edc_threshold: f32,
    /// Error-versus-discard curve: FNMR at `edc_threshold` after discarding
    /// the lowest-quality genuine pairs.
    pub edc: Vec<EdcPoint>,
}

/// One point of an error-versus-discard curve.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct EdcPoint {
    /// Fraction of genuine pairs discarded (lowest pair quality first).
    pub discarded: f64,
    pub fnmr: f64,
}

/// Summarise enrolment results and scores.
pub fn summarise(enrolled: &[Enrolled], scores: &Scores) -> Report {
    let mut labels: Vec<&str> = enrolled.iter().map(|e| e.label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let failed = enrolled.iter().filter(|e| e.template.is_none()).count();
    let mut reasons: Vec<(String, usize)> = Vec::new();
    for e in enrolled.iter().filter_map(|e| e.error.as_ref()) {
        match reasons.iter_mut().find(|(r, _)| r == e) {
            Some((_, c)) => *c += 1,
            None => reasons.push((e.clone(), 1)),
        }
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    reasons.truncate(8);
    let mut ms: Vec<f64> = enrolled.iter().map(|e| e.ms).collect();
    ms.sort_by(f64::total_cmp);
    let mut genu = scores.genuine.clone();
    let mut imp = scores.impostor.clone();
    genu.sort_by(f32::total_cmp);
    imp.sort_by(f32::total_cmp);
    let (eer, eer_threshold) = eer(&genu, &imp);
    let mut fnmr_at = Vec::new();
    let mut fmr = 1e-2;
    while !imp.is_empty() && imp.len() as f64 * fmr >= 1.0 - 1e-9 {
        let (fnmr, threshold) = fnmr_at_fmr(&genu, &imp, fmr);
        fnmr_at.push(FnmrAt {
            fmr,
            fnmr,
            threshold,
        });
        fmr /= 10.0;
    }
    // FMR 1e-4 when there are enough impostors, else the lowest FMR measured.
    let edc_threshold = fnmr_at
        .iter()
        .take_while(|f| f.fmr >= 1e-4 * (1.0 - 1e-9))
        .last()
        .map_or(f32::NAN, |f| f.threshold);
    let edc = edc(
        &scores.genuine,
        &scores.genuine_quality,
        edc_threshold,
        0.5,
        10,
    );
    let mean = |v: &[f32]| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64
        }
    };
    Report {
        images: enrolled.len(),
        identities: labels.len(),
        failed_to_enrol: failed,
        fte: failed as f64 / enrolled.len().max(1) as f64,
        genuine_pairs: genu.len(),
        impostor_pairs: imp.len(),
        impostor_pairs_sampled: scores.impostor_sampled,
        eer,
        eer_threshold,
        fnmr_at_fmr: fnmr_at,
        template_ms_mean: ms.iter().sum::<f64>() / ms.len().max(1) as f64,
        template_ms_p95: ms
            .get(((ms.len() as f64 * 0.95) as usize).min(ms.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0),
        genuine_mean: mean(&genu),
        impostor_mean: mean(&imp),
        fte_reasons: reasons,
        edc_threshold,
        edc,
    }
}

/// Error-versus-discard curve: FNMR at threshold `t` over the genuine pairs
/// left after discarding the fraction `k / steps × max_discard` with the
/// lowest pair quality, for k = 0 … steps. Ties in quality are discarded
/// together only as far as the fraction asks (stable order).
pub fn edc(
    genuine: &[f32],
    quality: &[f32],
    t: f32,
    max_discard: f64,
    steps: usize,
) -> Vec<EdcPoint> {
    if genuine.is_empty() || t.is_nan() {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..genuine.len()).collect();
    order.sort_by(|&a, &b| quality[a].total_cmp(&quality[b]));
    (0..=steps)
        .map(|k| {
            let discarded = max_discard * k as f64 / steps.max(1) as f64;
            let kept = &order[(discarded * genuine.len() as f64).round() as usize..];
            let errors = kept.iter().filter(|&&i| genuine[i] >= t).count();
            EdcPoint {
                discarded,
                fnmr: errors as f64 / kept.len().max(1) as f64,
            }
        })
        .collect()
}

/// Count of sorted values strictly below `t`.
fn below(sorted: &[f32], t: f32) -> usize {
    sorted.partition_point(|&x| x < t)
}

/// (FNMR, threshold) at the largest threshold whose FMR ≤ `fmr`. Both
/// slices sorted ascending.
pub fn fnmr_at_fmr(genu: &[f32], imp: &[f32], fmr: f64) -> (f64, f32) {
    let k = (fmr * imp.len() as f64).floor() as usize;
    // Threshold = the (k+1)-th smallest impostor: fewer than k+1 impostors lie below it.
    let t = imp.get(k).copied().unwrap_or(f32::INFINITY);
    let fnmr = 1.0 - below(genu, t) as f64 / genu.len().max(1) as f64;
    (fnmr, t)
}

/// Equal error rate and its threshold (sorted inputs).
pub fn eer(genu: &[f32], imp: &[f32]) -> (f64, f32) {
    if genu.is_empty() || imp.is_empty() {
        return (f64::NAN, f32::NAN);
    }
    let rates = |t: f32| {
        let fmr = below(imp, t) as f64 / imp.len() as f64;
        let fnmr = 1.0 - below(genu, t) as f64 / genu.len() as f64;
        (fmr, fnmr)
    };
    // Bisection on the threshold: FMR rises and FNMR falls with t.
    let (mut lo, mut hi) = (0.0f32, 1.0001f32);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        let (fmr, fnmr) = rates(mid);
        if fmr < fnmr {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (a, b) = rates(lo);
    let (c, d) = rates(hi);
    let e = if (a - b).abs() < (c - d).abs() {
        0.5 * (a + b)
    } else {
        0.5 * (c + d)
    };
    (e, 0.5 * (lo + hi))
}

/// (FMR, FNMR) points for a DET curve, at every impostor score up to the
/// EER region and beyond (sorted inputs), thinned to about `points`.
pub fn det_curve(genu: &[f32], imp: &[f32], points: usize) -> Vec<(f64, f64)> {
    let all: Vec<f32> = {
        let mut v: Vec<f32> = genu.iter().chain(imp).copied().collect();
        v.sort_by(f32::total_cmp);
        v.dedup();
        v
    };
    let step = (all.len() / points.max(1)).max(1);
    all.iter()
        .step_by(step)
        .map(|&t| {
            (
                below(imp, t) as f64 / imp.len().max(1) as f64,
                1.0 - below(genu, t) as f64 / genu.len().max(1) as f64,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rates_on_known_distributions() {
        // Genuine 0.0..0.5, impostor 0.3..0.8 in steps of 0.01: overlap 0.3–0.5.
        let genu: Vec<f32> = (0..50).map(|i| i as f32 / 100.0).collect();
        let imp: Vec<f32> = (30..80).map(|i| i as f32 / 100.0).collect();
        let (e, t) = eer(&genu, &imp);
        assert!((e - 0.2).abs() < 0.03 && (t - 0.4).abs() < 0.02, "{e} {t}");
        // FMR 2 % → threshold = the 2nd smallest impostor (0.31): one impostor below.
        let (fnmr, t) = fnmr_at_fmr(&genu, &imp, 0.02);
        assert!((t - 0.31).abs() < 1e-6);
        assert!((fnmr - 19.0 / 50.0).abs() < 1e-9, "{fnmr}");
        let det = det_curve(&genu, &imp, 10);
        assert!(det.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 >= w[1].1));
    }

    #[test]
    fn the_edc_falls_when_quality_predicts_errors_and_not_otherwise() {
        // 100 genuine pairs, 10 of them errors (distance 0.45 ≥ 0.35).
        let genu: Vec<f32> = (0..100)
            .map(|i| if i % 10 == 0 { 0.45 } else { 0.2 })
            .collect();
        // Informative quality: the errors have the lowest quality.
        let q: Vec<f32> = (0..100)
            .map(|i| if i % 10 == 0 { 5.0 } else { 50.0 + i as f32 })
            .collect();
        let curve = edc(&genu, &q, 0.35, 0.5, 10);
        assert_eq!(curve.len(), 11);
        assert!((curve[0].fnmr - 0.1).abs() < 1e-9, "{curve:?}");
        assert!((curve[1].discarded - 0.05).abs() < 1e-9);
        assert!((curve[1].fnmr - 5.0 / 95.0).abs() < 1e-9, "{curve:?}");
        assert_eq!(curve[2].fnmr, 0.0, "{curve:?}");
        // Uninformative quality (errors spread evenly in quality): flat.
        let q: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let curve = edc(&genu, &q, 0.35, 0.5, 10);
        assert!(
            curve.iter().all(|p| (p.fnmr - 0.1).abs() < 0.03),
            "{curve:?}"
        );
    }
}
