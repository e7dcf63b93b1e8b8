//! Encoder and matcher settings compared on folders of real captures, with
//! the segmentation done once:
//! `cargo run -p iris --release --example encsweep -- DIR[,DIR…] VARIANT…`.
//!
//! Every image is analysed once with the default settings (which captures
//! enrol, and their circles, are fixed by that run); then for each VARIANT,
//! a comma-separated list of `key=value` overrides of the defaults, the
//! band is normalised, masked and encoded again and every pair scored as
//! `kudakyar iris evaluate` does ([`iris::eval::pair_scores`],
//! [`iris::eval::summarise`]). One line per set and variant: EER, FNMR at
//! FMR 1e-4 and its threshold, mean valid bits. Keys: `wl`, `sa`, `sr`,
//! `frag`, `sup` (encoder), `nref`, `shift`, `drop` (matcher: `drop=N`
//! leaves out the worst N of the 8 sectors, `trimmed_sectors`; `drop=0` is
//! the untrimmed distance), `rho0`, `rho1` (normalisation). `base` (or an
//! empty list) is the defaults. `half=1` also scores each pair at
//! half-column rotations (the first capture encoded again from its band
//! turned by one polar column, the better kept), to see what a finer
//! rotation search would gain.
//!
//! A development tool: the images stay outside the repository.

use std::path::PathBuf;

use image::GrayImage;
use iris::eval::{Enrolled, list_samples, pair_scores, summarise};
use iris::normalise::normalise_contour;
use iris::plane::{Circle, Contour, Plane};
use iris::{Config, analyse_image};

struct Eye {
    label: String,
    img: GrayImage,
    pupil: Circle,
    /// The pupil's boundary the band is sampled from.
    pupil_contour: Contour,
    iris: Circle,
    quality: f32,
}

fn apply(cfg: &mut Config, spec: &str) {
    for kv in spec.split(',').filter(|s| !s.is_empty() && *s != "base") {
        let (k, v) = kv.split_once('=').expect("key=value");
        let v: f32 = v.parse().expect("number");
        match k {
            "wl" => cfg.encode.wavelength = v,
            "sa" => cfg.encode.sigma_angular = v,
            "sr" => cfg.encode.sigma_radial = v,
            "frag" => cfg.encode.fragile_fraction = v,
            "sup" => cfg.encode.min_support = v,
            "nref" => cfg.matcher.reference_bits = v,
            "shift" => cfg.matcher.max_shift_deg = v,
            "drop" => cfg.matcher.trimmed_sectors = v as usize,
            "rho0" => cfg.normalise.rho_start = v,
            "rho1" => cfg.normalise.rho_end = v,
            "half" => {} // handled in main
            _ => panic!("unknown key {k}"),
        }
    }
}

fn load(dir: &std::path::Path, cfg: &Config) -> (Vec<Eye>, usize) {
    let samples = list_samples(dir, &|_| None).expect("listing");
    let total = samples.len();
    let eyes: Vec<Eye> = std::thread::scope(|s| {
        let half = samples.len() / 2;
        let (x, y) = samples.split_at(half);
        let h: Vec<_> = [x, y]
            .into_iter()
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|s| {
                            let img = iris::decode::decode(&std::fs::read(&s.path).ok()?).ok()?;
                            let cap = analyse_image(&img, cfg).ok()?;
                            if !cap.usable() {
                                return None;
                            }
                            Some(Eye {
                                label: s.label.clone(),
                                img,
                                pupil: cap.quality.pupil,
                                pupil_contour: cap.quality.pupil_contour,
                                iris: cap.quality.iris,
                                quality: cap.quality.score,
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        h.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    (eyes, total)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dirs: Vec<PathBuf> = a[1].split(',').map(PathBuf::from).collect();
    let variants: Vec<String> = if a.len() > 2 {
        a[2..].to_vec()
    } else {
        vec!["base".into()]
    };
    let base = Config::default();
    for dir in &dirs {
        let (eyes, total) = load(dir, &base);
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut r: Vec<f32> = eyes.iter().map(|e| e.iris.r).collect();
        r.sort_by(f32::total_cmp);
        let mut pr: Vec<f32> = eyes.iter().map(|e| e.pupil.r).collect();
        pr.sort_by(f32::total_cmp);
        println!(
            "{name}: {} of {total} enrol; limbus r p10/50/90 {:.0}/{:.0}/{:.0}, pupil r {:.0}/{:.0}/{:.0}",
            eyes.len(),
            r[r.len() / 10],
            r[r.len() / 2],
            r[r.len() * 9 / 10],
            pr[pr.len() / 10],
            pr[pr.len() / 2],
            pr[pr.len() * 9 / 10]
        );
        for v in &variants {
            let mut cfg = base.clone();
            apply(&mut cfg, v);
            let enrolled: Vec<Enrolled> = eyes
                .iter()
                .map(|e| {
                    let plane = Plane::from_gray(&e.img);
                    let polar =
                        normalise_contour(&plane, &e.pupil_contour, &e.iris, &cfg.normalise);
                    let usable = iris::mask::noise_mask(&polar, &cfg.mask);
                    let t = iris::encode::encode(&polar, &usable, &cfg.encode);
                    Enrolled {
                        label: e.label.clone(),
                        template: Some(t),
                        ms: 0.0,
                        error: None,
                        quality: Some(e.quality),
                    }
                })
                .collect();
            if v.contains("half=1") {
                half_columns(&name, v, &eyes, &cfg, &enrolled);
                continue;
            }
            let bits: f64 = enrolled
                .iter()
                .map(|e| f64::from(e.template.as_ref().unwrap().valid_bits()))
                .sum::<f64>()
                / enrolled.len() as f64;
            let scores = pair_scores(&enrolled, &cfg.matcher, iris::eval::MAX_IMPOSTORS, 1);
            let rep = summarise(&enrolled, &scores);
            let at = rep
                .fnmr_at_fmr
                .iter()
                .find(|f| (f.fmr - 1e-4).abs() < 1e-9)
                .map_or((f64::NAN, f32::NAN), |f| (f.fnmr, f.threshold));
            let fails = scores.genuine.iter().filter(|&&g| g >= at.1).count();
            println!(
                "{name:>20} {v:<40} EER {:.2} %  FNMR@1e-4 {:.2} % ({fails}/{}) thr {:.3}  bits {bits:.0}",
                100.0 * rep.eer,
                100.0 * at.0,
                scores.genuine.len(),
                at.1,
            );
        }
    }
}

/// Scores with half-column rotations: the first template of each pair is
/// also encoded from the band turned by one polar column (half a code
/// column), and the better of the two is kept.
fn half_columns(name: &str, v: &str, eyes: &[Eye], cfg: &Config, enrolled: &[Enrolled]) {
    use iris::template::Template;
    let turned: Vec<Template> = eyes
        .iter()
        .map(|e| {
            let plane = Plane::from_gray(&e.img);
            let mut polar = normalise_contour(&plane, &e.pupil_contour, &e.iris, &cfg.normalise);
            let usable = iris::mask::noise_mask(&polar, &cfg.mask);
            let (rows, cols) = (polar.rows, polar.cols);
            let mut u2 = usable.clone();
            let vals = polar.values.clone();
            for i in 0..rows {
                for j in 0..cols {
                    polar.values[i * cols + j] = vals[i * cols + (j + 1) % cols];
                    u2[i * cols + j] = usable[i * cols + (j + 1) % cols];
                }
            }
            iris::encode::encode(&polar, &u2, &cfg.encode)
        })
        .collect();
    let best = |a: &Template, b: &Template| iris::compare(a, b, &cfg.matcher).distance;
    let n = eyes.len();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect();
    let chunks: Vec<Vec<(bool, f32, f32)>> = std::thread::scope(|sc| {
        let h: Vec<_> = pairs
            .chunks(pairs.len() / 2 + 1)
            .map(|c| {
                let (turned, best) = (&turned, &best);
                sc.spawn(move || {
                    c.iter()
                        .map(|&(i, j)| {
                            let b = enrolled[j].template.as_ref().unwrap();
                            let d0 = best(enrolled[i].template.as_ref().unwrap(), b);
                            let d1 = best(&turned[i], b).min(d0);
                            (eyes[i].label == eyes[j].label, d0, d1)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        h.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (what, pick) in [("whole columns", 1usize), ("half columns", 2)] {
        let (mut g, mut im) = (Vec::new(), Vec::new());
        for &(same, d0, d1) in chunks.iter().flatten() {
            let d = if pick == 1 { d0 } else { d1 };
            if same { g.push(d) } else { im.push(d) }
        }
        g.sort_by(f32::total_cmp);
        im.sort_by(f32::total_cmp);
        let (e, _) = iris::eval::eer(&g, &im);
        let (f, t) = iris::eval::fnmr_at_fmr(&g, &im, 1e-4);
        println!(
            "{name:>20} {v:<25} {what:<14} EER {:.2} %  FNMR@1e-4 {:.2} % thr {t:.3}",
            100.0 * e,
            100.0 * f
        );
    }
}
