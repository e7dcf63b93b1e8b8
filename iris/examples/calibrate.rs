//! Calibrating the decision threshold and the 1:N prefilter on folders of
//! real captures:
//! `cargo run -p iris --release --example calibrate -- DIR[,DIR…] [T…]`.
//! A folder of folders of folders (`DIR/<set>/<eye>/<image>`, e.g. links to
//! several sets) given as `+DIR` is read as one set, labels prefixed by
//! the set: its cross-set pairs add impostors for the low-FMR tail.
//!
//! Every image is enrolled with the defaults and every pair scored by the
//! matcher ([`iris::compare`], the decision) and by the prefilter's
//! statistic ([`iris::gallery::prefilter_distance`], what the scan tests
//! against `prefilter_threshold`), each trimmed of [`TRIMMED`] sectors and
//! untrimmed (`trimmed_sectors` 0, the engine's default).
//! Printed per set: the decision's FMR and FNMR at thresholds around the
//! default, both ways, and the trimmed threshold whose FMR is no higher
//! than the untrimmed one's at its old default 0.33; then, per prefilter
//! threshold T (default 0.34 … 0.44), the genuine pairs the trimmed
//! decision accepts at the default threshold that the prefilter would drop — recall, which must stay
//! complete — and the share of impostor pairs it lets through to the exact
//! stage — the cost, as the exact stage runs on survivors only.
//!
//! A development tool: the images stay outside the repository.

use std::path::PathBuf;

use iris::eval::{enrol_all, list_samples};
use iris::gallery::prefilter_distance;
use iris::{Config, MatchParams, SearchParams, Template, compare};
use rayon::prelude::*;

/// (genuine, decision distance, trimmed statistic, untrimmed statistic,
/// bits, untrimmed decision distance).
type Pair = (bool, f32, f32, f32, u32, f32);

/// The untrimmed engine's default threshold.
const OLD_THRESHOLD: f32 = 0.33;
/// Sectors the trimmed variant leaves out (`MatchParams::trimmed_sectors`).
const TRIMMED: usize = 2;

/// (label, template) of every image that enrols.
fn enrol(dir: &std::path::Path, cfg: &Config) -> Vec<(String, Template)> {
    let samples = list_samples(dir, &|_| None).expect("listing");
    enrol_all(&samples, cfg, &|| {})
        .into_iter()
        .filter_map(|e| Some((e.label, e.template?)))
        .collect()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dirs: Vec<PathBuf> = a[1].split(',').map(PathBuf::from).collect();
    let grid: Vec<f32> = if a.len() > 2 {
        a[2..]
            .iter()
            .map(|t| t.parse().expect("threshold"))
            .collect()
    } else {
        vec![0.34, 0.36, 0.38, 0.40, 0.42, 0.44]
    };
    let cfg = Config::default();
    let untrimmed = SearchParams {
        matcher: MatchParams {
            trimmed_sectors: 0,
            ..MatchParams::default()
        },
        ..SearchParams::default()
    };
    let p = SearchParams {
        matcher: MatchParams {
            trimmed_sectors: TRIMMED,
            ..untrimmed.matcher.clone()
        },
        ..untrimmed.clone()
    };
    for dir in &dirs {
        let eyes: Vec<(String, Template)> = match dir.to_str().and_then(|d| d.strip_prefix('+')) {
            Some(root) => {
                let mut sets: Vec<_> = std::fs::read_dir(root)
                    .expect("listing")
                    .map(|e| e.expect("entry").path())
                    .collect();
                sets.sort();
                sets.iter()
                    .flat_map(|set| {
                        let tag = set.file_name().unwrap().to_string_lossy().into_owned();
                        enrol(set, &cfg)
                            .into_iter()
                            .map(move |(l, t)| (format!("{tag}/{l}"), t))
                    })
                    .collect()
            }
            None => enrol(dir, &cfg),
        };
        let n = eyes.len();
        let pairs: Vec<Pair> = (0..n)
            .into_par_iter()
            .flat_map_iter(|i| {
                let (eyes, p, untrimmed) = (&eyes, &p, &untrimmed);
                (i + 1..n).map(move |j| {
                    let (a, b) = (&eyes[i].1, &eyes[j].1);
                    let (s, bits) = prefilter_distance(a, b, p);
                    (
                        eyes[i].0 == eyes[j].0,
                        compare(a, b, &p.matcher).distance,
                        s,
                        prefilter_distance(a, b, untrimmed).0,
                        bits,
                        compare(a, b, &untrimmed.matcher).distance,
                    )
                })
            })
            .collect();
        let name = dir.file_name().unwrap().to_string_lossy();
        let accepted: Vec<&Pair> = pairs
            .iter()
            .filter(|x| x.0 && x.1 <= p.matcher.threshold)
            .collect();
        let impostors = pairs.iter().filter(|x| !x.0).count();
        let worst = accepted.iter().map(|x| x.2).fold(0.0f32, f32::max);
        println!(
            "{name}: {n} enrolled, {} genuine pairs accepted at {:.3}, {impostors} impostor pairs; \
             worst accepted genuine statistic {worst:.3}",
            accepted.len(),
            p.matcher.threshold
        );
        let rates = |k: fn(&Pair) -> f32, t: f32| {
            let fm = pairs.iter().filter(|x| !x.0 && k(x) < t).count();
            let genuine = pairs.iter().filter(|x| x.0).count();
            let fnm = pairs.iter().filter(|x| x.0 && k(x) >= t).count();
            (fm, fnm as f64 / genuine.max(1) as f64)
        };
        for t in (0..=12).map(|k| 0.29 + 0.005 * k as f32) {
            let ((fa, ra), (fb, rb)) = (rates(|x| x.1, t), rates(|x| x.5, t));
            println!(
                "{name:>20} decision {t:.3}: trimmed FMR {:.2e} ({fa}) FNMR {:.2} %; untrimmed FMR {:.2e} ({fb}) FNMR {:.2} %",
                fa as f64 / impostors.max(1) as f64,
                100.0 * ra,
                fb as f64 / impostors.max(1) as f64,
                100.0 * rb
            );
        }
        // The largest trimmed threshold (to 0.001) whose false matches are
        // no more than the untrimmed distance's at the old default.
        let old = rates(|x| x.5, OLD_THRESHOLD).0;
        let same = (250..=350)
            .map(|k| k as f32 / 1000.0)
            .take_while(|&t| rates(|x| x.1, t).0 <= old)
            .last();
        println!(
            "{name:>20} untrimmed at {OLD_THRESHOLD}: {old} false matches; trimmed no more up to {same:?}"
        );
        for &t in &grid {
            let survives = |s: f32, bits: u32| s <= t || bits < p.prefilter_min_bits;
            let lost =
                |k: fn(&Pair) -> f32| accepted.iter().filter(|x| !survives(k(x), x.4)).count();
            let through = |k: fn(&Pair) -> f32| {
                pairs.iter().filter(|x| !x.0 && survives(k(x), x.4)).count() as f64
                    / impostors.max(1) as f64
            };
            println!(
                "{name:>20} T {t:.3}: trimmed lost {} / impostors through {:.2e}; untrimmed lost {} / {:.2e}",
                lost(|x| x.2),
                through(|x| x.2),
                lost(|x| x.3),
                through(|x| x.3),
            );
        }
    }
}
