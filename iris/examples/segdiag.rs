//! Segmentation error against the synthetic ground truth:
//! `cargo run -p iris --release --example segdiag -- SEED IDENTITIES CAPTURES [TOL]`.
//! Prints every capture whose pupil or iris circle is off by more than TOL
//! (fraction of the true iris radius, default 0.05), or that fails, and a
//! summary. The capture numbering and sizes follow `iris synth --size mixed`.
//!
//! On real captures, which have no ground truth:
//! `cargo run -p iris --release --example segdiag -- IMAGE…` prints each
//! image's circles, the quality measures behind the verdict (contrasts,
//! boundary visibility, sharpness) and the verdict, and with `SEGDIAG_DIR=dir` draws them with
//! the noise mask (usable band samples tinted green) for a person to judge.

use iris::synth::{Identity, Resolution, render};
use iris::{Config, analyse_image};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() > 1 && a[1].parse::<u64>().is_err() {
        return real(&a[1..]);
    }
    let arg = |i: usize, d: f64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (seed, ids, caps, tol) = (
        arg(1, 1.0) as u64,
        arg(2, 50.0) as u64,
        arg(3, 6.0) as u64,
        arg(4, 0.05) as f32,
    );
    let cfg = Config::default();
    let (mut bad, mut failed, mut n) = (0, 0, 0);
    for id in 0..ids {
        let ident = Identity::new(seed, id);
        for c in 0..caps {
            let res = if c % 2 == 0 {
                Resolution::Small
            } else {
                Resolution::Large
            };
            let (img, t) = render(&ident, seed, id, c, res);
            n += 1;
            match analyse_image(&img, &cfg) {
                Err(e) => {
                    failed += 1;
                    println!("{id:05}/{c}: error {e}");
                }
                Ok(cap) => {
                    let (p, i) = (cap.quality.pupil, cap.quality.iris);
                    let r = t.iris.r;
                    let ep =
                        ((p.x - t.pupil.x).hypot(p.y - t.pupil.y) + (p.r - t.pupil.r).abs()) / r;
                    let ei = ((i.x - t.iris.x).hypot(i.y - t.iris.y) + (i.r - t.iris.r).abs()) / r;
                    let v = &cap.quality.verdict;
                    if ep > tol || ei > tol || !v.usable {
                        bad += usize::from(ep > tol || ei > tol);
                        failed += usize::from(!v.usable);
                        if let Ok(dir) = std::env::var("SEGDIAG_DIR") {
                            overlay(
                                &img,
                                &[(i, [255, 0, 0]), (t.iris, [0, 255, 0]), (p, [255, 0, 255])],
                            )
                            .save(format!("{dir}/{id:05}_{c}.png"))
                            .unwrap();
                        }
                        println!(
                            "{id:05}/{c}: pupil err {ep:.3} iris err {ei:.3} | iris found ({:.1},{:.1},{:.1}) truth ({:.1},{:.1},{:.1}) pupil r {:.1}/{:.1} | {}",
                            i.x, i.y, i.r, t.iris.x, t.iris.y, t.iris.r, p.r, t.pupil.r, v
                        );
                    }
                }
            }
        }
    }
    println!("{n} captures: {bad} off by > {tol} iris radii, {failed} unusable/failed");
}

/// Circles, mask and verdict of real captures (see the module docs).
fn real(paths: &[String]) {
    let cfg = Config::default();
    for path in paths {
        let img = match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| iris::decode::decode(&b).map_err(|e| e.to_string()))
        {
            Ok(img) => img,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        let plane = iris::plane::Plane::from_gray(&img);
        let dir = std::env::var("SEGDIAG_DIR").ok();
        let name = std::path::Path::new(path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let filled = iris::specular::fill_reflections(&plane, &cfg.specular);
        if let Some(dir) = &dir {
            filled
                .to_gray()
                .save(format!("{dir}/{name}-filled.png"))
                .unwrap();
        }
        let seg = iris::pipeline::segment(&filled, &cfg).inspect_err(|_| {
            if let (Some(dir), Ok(p)) = (&dir, iris::pupil::locate_pupil(&filled, &cfg.pupil)) {
                let out = overlay(&img, &[(p.circle, [255, 0, 255])]);
                out.save(format!("{dir}/{name}.png")).unwrap();
            }
        });
        let (p, i) = match seg {
            Ok(s) => s,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        let q = analyse_image(&img, &cfg).map(|c| c.quality);
        println!(
            "{path}: pupil ({:.1},{:.1},{:.1}) iris ({:.1},{:.1},{:.1}) | {}",
            p.circle.x,
            p.circle.y,
            p.circle.r,
            i.x,
            i.y,
            i.r,
            q.map_or_else(
                |e| e.to_string(),
                |q| format!(
                    "score {:.0} usable {:.0} % contrast iris–sclera {:.1} % iris–pupil {:.1} % \
                     seen pupil {:.0} % limbus {:.0} % sharpness {:.0} | {}",
                    q.score,
                    q.usable_iris_area,
                    q.iris_sclera_contrast,
                    q.iris_pupil_contrast,
                    q.pupil_visible,
                    q.limbus_visible,
                    q.sharpness,
                    q.verdict
                )
            )
        );
        if let Some(dir) = &dir {
            let mut out = overlay(&img, &[(i, [255, 0, 0]), (p.circle, [255, 0, 255])]);
            // Sampled as the pipeline samples it: from the pupil's contour.
            let contour = iris::pupil::contour(&filled, &p);
            let polar = iris::normalise::normalise_contour(&plane, &contour, &i, &cfg.normalise);
            let usable = iris::mask::noise_mask(&polar, &cfg.mask);
            let n = &cfg.normalise;
            for row in 0..polar.rows {
                for col in 0..polar.cols {
                    if !usable[row * polar.cols + col] {
                        continue;
                    }
                    let t = std::f32::consts::TAU * col as f32 / polar.cols as f32;
                    let (x0, y0) = p.circle.point(t.cos(), t.sin());
                    let (x1, y1) = i.point(t.cos(), t.sin());
                    let rho = n.rho_start
                        + (n.rho_end - n.rho_start) * (row as f32 + 0.5) / polar.rows as f32;
                    let (x, y) = (x0 + rho * (x1 - x0), y0 + rho * (y1 - y0));
                    if let Some(px) = out.get_pixel_mut_checked(x as u32, y as u32) {
                        px[1] = px[1].saturating_add(40);
                    }
                }
            }
            out.save(format!("{dir}/{name}.png")).unwrap();
        }
    }
}

/// The image in colour with the circles drawn on it.
fn overlay(img: &image::GrayImage, circles: &[(iris::plane::Circle, [u8; 3])]) -> image::RgbImage {
    let mut out = image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let v = img.get_pixel(x, y)[0];
        image::Rgb([v, v, v])
    });
    for &(c, col) in circles {
        for k in 0..720 {
            let t = std::f32::consts::TAU * k as f32 / 720.0;
            let (x, y) = (c.x + c.r * t.cos(), c.y + c.r * t.sin());
            if x >= 0.0 && y >= 0.0 && (x as u32) < out.width() && (y as u32) < out.height() {
                out.put_pixel(x as u32, y as u32, image::Rgb(col));
            }
        }
    }
    out
}
