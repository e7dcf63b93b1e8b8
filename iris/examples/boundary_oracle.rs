//! Would better boundaries fix a set's false non-matches? On a folder of
//! real captures (one folder per eye):
//! `cargo run -p iris --release --example boundary_oracle -- DIR`.
//!
//! Every capture is also encoded from 45 perturbed segmentations: limbus
//! radius −3 / 0 / +3 px, pupil radius −2 / 0 / +2 px, both centres moved
//! together by 0 or 2 px along x or y. A pair's oracle distance is the best
//! over the second capture's perturbations. Printed: how far that search
//! lowers the impostors (a 1-in-40 sample: median and low tail), the
//! genuine mean, and the 25 worst genuine pairs before → after with the
//! perturbation that won. A genuine pair that falls much more than the
//! impostors' tail does failed on its boundaries (a few pixels off); one
//! that falls no more than they do failed on its texture (gaze, blur,
//! lashes), which no boundary search can mend.
//!
//! A diagnostic for development: the images stay outside the repository.

use std::path::PathBuf;

use iris::eval::list_samples;
use iris::normalise::normalise_contour;
use iris::plane::{Circle, Plane};
use iris::template::Template;
use iris::{Config, analyse_image, compare};

/// A genuine pair: distance before, after the search, the two captures,
/// and the perturbation that won.
type Genuine = (f32, f32, usize, usize, usize);

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(&a[1]);
    let cfg = Config::default();
    let samples = list_samples(&dir, &|_| None).unwrap();
    struct E {
        label: String,
        name: String,
        base: Template,
        pert: Vec<Template>,
    }
    let work = |s: &iris::eval::Sample| -> Option<E> {
        let img = iris::decode::decode(&std::fs::read(&s.path).ok()?).ok()?;
        let cap = analyse_image(&img, &cfg).ok()?;
        if !cap.usable() {
            return None;
        }
        let plane = Plane::from_gray(&img);
        let (p, i) = (cap.quality.pupil_contour, cap.quality.iris);
        let mut pert = Vec::new();
        for dl in [-3.0f32, 0.0, 3.0] {
            for dp in [-2.0f32, 0.0, 2.0] {
                for (dx, dy) in [(0.0, 0.0), (2.0, 0.0), (-2.0, 0.0), (0.0, 2.0), (0.0, -2.0)] {
                    let mut pc = p;
                    pc.x += dx;
                    pc.y += dy;
                    pc.r[0] += dp;
                    let ic = Circle {
                        x: i.x + dx,
                        y: i.y + dy,
                        r: i.r + dl,
                    };
                    let polar = normalise_contour(&plane, &pc, &ic, &cfg.normalise);
                    let usable = iris::mask::noise_mask(&polar, &cfg.mask);
                    pert.push(iris::encode::encode(&polar, &usable, &cfg.encode));
                }
            }
        }
        Some(E {
            label: s.label.clone(),
            name: s.path.file_name().unwrap().to_string_lossy().into_owned(),
            base: cap.template,
            pert,
        })
    };
    let eyes: Vec<E> = std::thread::scope(|sc| {
        let half = samples.len() / 2;
        let (x, y) = samples.split_at(half);
        let h: Vec<_> = [x, y]
            .into_iter()
            .map(|part| sc.spawn(move || part.iter().filter_map(work).collect::<Vec<_>>()))
            .collect();
        h.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let m = &cfg.matcher;
    let n = eyes.len();
    let mut rng = iris::synth::Rng::new(&[9]);
    let (mut g, mut im): (Vec<Genuine>, Vec<(f32, f32)>) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in i + 1..n {
            let same = eyes[i].label == eyes[j].label;
            if !same && rng.below(40) != 0 {
                continue;
            }
            let d0 = compare(&eyes[i].base, &eyes[j].base, m).distance;
            let (ds, k) = eyes[j]
                .pert
                .iter()
                .enumerate()
                .map(|(k, t)| (compare(&eyes[i].base, t, m).distance, k))
                .fold((f32::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a });
            if same {
                g.push((d0, ds, i, j, k));
            } else {
                im.push((d0, ds));
            }
        }
    }
    let sorted = |f: &dyn Fn(&(f32, f32)) -> f32| {
        let mut v: Vec<f32> = im.iter().map(f).collect();
        v.sort_by(f32::total_cmp);
        v
    };
    let (i0, i1) = (sorted(&|x| x.0), sorted(&|x| x.1));
    let q = |v: &[f32], f: f64| v[(f * v.len() as f64) as usize];
    println!(
        "impostors {}: 0.1 % {:.3} -> {:.3}, 1 % {:.3} -> {:.3}, median {:.3} -> {:.3}",
        im.len(),
        q(&i0, 0.001),
        q(&i1, 0.001),
        q(&i0, 0.01),
        q(&i1, 0.01),
        q(&i0, 0.5),
        q(&i1, 0.5)
    );
    g.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mean = |f: &dyn Fn(&Genuine) -> f32| g.iter().map(f).sum::<f32>() / g.len().max(1) as f32;
    println!(
        "genuine {}: mean {:.3} -> {:.3}",
        g.len(),
        mean(&|x| x.0),
        mean(&|x| x.1)
    );
    for &(d0, ds, i, j, k) in g.iter().take(25) {
        let (dl, dp, sh) = (k / 15, (k / 5) % 3, k % 5);
        println!(
            "{d0:.3} -> {ds:.3}  {}/{} {}  limbus {:+} pupil {:+} centre {}",
            eyes[i].label,
            eyes[i].name,
            eyes[j].name,
            [-3, 0, 3][dl],
            [-2, 0, 2][dp],
            ["0", "+x", "-x", "+y", "-y"][sh]
        );
    }
}
