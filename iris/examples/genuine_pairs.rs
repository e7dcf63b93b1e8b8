//! Why genuine pairs fail, on a folder of real captures (one folder per eye):
//! `cargo run -p iris --release --example genuine_pairs -- DIR [WORST] [OUT_DIR]`.
//!
//! Enrols every image as `kudakyar iris evaluate` does, scores every genuine
//! and impostor pair, and prints the threshold at FMR 1e-4, the closest
//! impostor pairs (the tail that sets it, a few beyond) with where their
//! bits agree (see `regions`: an impostor tail concentrated in one region
//! or one bit of the phase pair points at structure common to all eyes,
//! not at a lookalike iris) after how often each region's bits are 1 over
//! all captures (`bit_bias`), then the WORST
//! (default 20) genuine pairs with their distance, the rotation found (and
//! whether it sits at the edge of the search), the bits compared and each
//! capture's usable bits and circles. With OUT_DIR it draws each of those
//! pairs as one PNG for a person to judge:
//! - top: both captures with their pupil (magenta) and limbus (red) circles
//!   and the band samples the noise mask excludes dotted orange;
//! - middle: both normalised bands (pupil side at the top), masked samples
//!   tinted red, the second one shifted by the rotation found;
//! - bottom: the code bits compared at that rotation, each code position
//!   (row × column) green where both bits agree, red where they disagree,
//!   yellow for one of two, black where either mask excludes it.
//!
//! A diagnostic for development: the images stay outside the repository.

use std::path::{Path, PathBuf};

use image::{GrayImage, Rgb, RgbImage};
use iris::eval::list_samples;
use iris::normalise::{Polar, normalise_contour};
use iris::plane::{Circle, Contour, Plane};
use iris::template::{CODE_COLS, CODE_ROWS, Template};
use iris::{Config, analyse_image, compare};

struct Eye {
    path: PathBuf,
    label: String,
    img: GrayImage,
    pupil: Circle,
    /// The pupil's boundary the band is sampled from.
    pupil_contour: Contour,
    iris: Circle,
    polar: Polar,
    usable: Vec<bool>,
    template: Template,
}

fn load(path: &Path, label: &str, cfg: &Config) -> Option<Eye> {
    let img = iris::decode::decode(&std::fs::read(path).ok()?).ok()?;
    let cap = analyse_image(&img, cfg).ok()?;
    if !cap.usable() {
        return None;
    }
    let plane = Plane::from_gray(&img);
    let (pupil, pupil_contour, iris) = (
        cap.quality.pupil,
        cap.quality.pupil_contour,
        cap.quality.iris,
    );
    let polar = normalise_contour(&plane, &pupil_contour, &iris, &cfg.normalise);
    let usable = iris::mask::noise_mask(&polar, &cfg.mask);
    Some(Eye {
        path: path.to_path_buf(),
        label: label.to_string(),
        img,
        pupil,
        pupil_contour,
        iris,
        polar,
        usable,
        template: cap.template,
    })
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(a.get(1).expect("DIR"));
    let worst: usize = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let out = a.get(3).map(PathBuf::from);
    let cfg = Config::default();
    let samples = list_samples(&dir, &|_| None).expect("listing");
    let eyes: Vec<Eye> = std::thread::scope(|s| {
        let half = samples.len() / 2;
        let (x, y) = samples.split_at(half);
        let cfg = &cfg;
        let h: Vec<_> = [x, y]
            .into_iter()
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|s| load(&s.path, &s.label, cfg))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        h.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let m = &cfg.matcher;
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    for i in 0..eyes.len() {
        for j in i + 1..eyes.len() {
            if eyes[i].label == eyes[j].label {
                genuine.push((i, j, compare(&eyes[i].template, &eyes[j].template, m)));
            } else if impostor.len() < 2_000_000 {
                impostor.push((i, j, compare(&eyes[i].template, &eyes[j].template, m)));
            }
        }
    }
    impostor.sort_by(|a, b| a.2.distance.total_cmp(&b.2.distance));
    let t = impostor[(impostor.len() as f64 * 1e-4) as usize].2.distance;
    genuine.sort_by(|a, b| b.2.distance.total_cmp(&a.2.distance));
    let fails = genuine.iter().filter(|g| g.2.distance >= t).count();
    let s = m.max_shift_cols();
    let at_edge = genuine
        .iter()
        .filter(|g| g.2.distance >= t && g.2.shift.abs() == s)
        .count();
    println!(
        "{} enrolled, {} genuine, {} impostor; threshold at FMR 1e-4 {t:.4}; {fails} genuine ≥ it, {at_edge} of them at the shift limit ±{s}",
        eyes.len(),
        genuine.len(),
        impostor.len()
    );
    let name = |e: &Eye| {
        e.path
            .strip_prefix(&dir)
            .unwrap_or(&e.path)
            .display()
            .to_string()
    };
    print!("{}", bit_bias(&eyes));
    // The impostor tail sets the threshold: a capture in many of the closest
    // impostor pairs (a "wolf") points at something eye-independent in its
    // code, e.g. a band reaching the sclera.
    let tail = (impostor.len() as f64 * 1e-4).ceil() as usize + 5;
    for (i, j, r) in impostor.iter().take(tail) {
        println!(
            "impostor {:.3} raw {:.3} shift {:+} bits {} | {} | {}",
            r.distance,
            r.raw_distance,
            r.shift,
            r.bits_compared,
            name(&eyes[*i]),
            name(&eyes[*j])
        );
        println!("   {}", regions(&eyes[*i], &eyes[*j], r.shift));
    }
    for (k, (i, j, r)) in genuine.iter().take(worst).enumerate() {
        let (a, b) = (&eyes[*i], &eyes[*j]);
        println!(
            "{k:2} {:.3} raw {:.3} shift {:+} bits {} | {} valid {} p ({:.0},{:.0},{:.0}) i ({:.0},{:.0},{:.0}) | {} valid {} p ({:.0},{:.0},{:.0}) i ({:.0},{:.0},{:.0})",
            r.distance,
            r.raw_distance,
            r.shift,
            r.bits_compared,
            name(a),
            a.template.valid_bits(),
            a.pupil.x,
            a.pupil.y,
            a.pupil.r,
            a.iris.x,
            a.iris.y,
            a.iris.r,
            name(b),
            b.template.valid_bits(),
            b.pupil.x,
            b.pupil.y,
            b.pupil.r,
            b.iris.x,
            b.iris.y,
            b.iris.r,
        );
        println!("   {}", regions(a, b, r.shift));
        println!("   {}", sectors(a, b));
        if let Some(out) = &out {
            std::fs::create_dir_all(out).unwrap();
            draw(a, b, r.shift, &cfg)
                .save(out.join(format!("{k:02}.png")))
                .unwrap();
        }
    }
}

/// Fractional Hamming distance (bits) in the lower and upper half of the
/// iris, in its inner and outer code rows, in the lateral sectors, and in
/// the real and the imaginary bit of each coefficient, at the rotation
/// found: where the disagreement lies. The imaginary (odd) bit alone
/// answers to a ramp along the angle, so impostors agreeing there more
/// than in the real bit share a smooth brightness change, not texture.
fn regions(a: &Eye, b: &Eye, shift: i32) -> String {
    let ra = a.template.rotated(shift);
    let hd_bits = |f: &dyn Fn(usize, usize) -> bool, parts: std::ops::Range<usize>| {
        let (mut d, mut n) = (0, 0);
        for col in 0..CODE_COLS {
            for row in 0..CODE_ROWS {
                if !f(row, col) {
                    continue;
                }
                for k in parts.clone() {
                    let bit = Template::bit_index(row, col, k);
                    let ((ca, ma), (cb, mb)) = (ra.get(bit), b.template.get(bit));
                    if ma && mb {
                        n += 1;
                        d += usize::from(ca != cb);
                    }
                }
            }
        }
        format!("{:.2}/{n}", d as f32 / n.max(1) as f32)
    };
    let hd = |f: &dyn Fn(usize, usize) -> bool| hd_bits(f, 0..2);
    format!(
        "lower {} upper {} | inner {} outer {} | lateral {} | real {} imaginary {}",
        hd(&|_, c| c < CODE_COLS / 2),
        hd(&|_, c| c >= CODE_COLS / 2),
        hd(&|r, _| r < CODE_ROWS / 2),
        hd(&|r, _| r >= CODE_ROWS / 2),
        hd(&|_, c| !(16..48).contains(&c) && !(80..112).contains(&c)),
        hd_bits(&|_, _| true, 0..1),
        hd_bits(&|_, _| true, 1..2),
    )
}

/// Per 45° sector (0 = the eye's right, then downwards), the shift in ±12
/// code columns with the smallest distance there, and that distance: a
/// sector whose best shift differs from the others' is distorted or
/// misaligned, not merely noisy.
fn sectors(a: &Eye, b: &Eye) -> String {
    let mut out = String::new();
    for sec in 0..8 {
        let cols = sec * CODE_COLS / 8..(sec + 1) * CODE_COLS / 8;
        let mut best = (f32::INFINITY, 0, 0);
        for shift in -12..=12 {
            let ra = a.template.rotated(shift);
            let (mut d, mut n) = (0, 0);
            for col in cols.clone() {
                for row in 0..CODE_ROWS {
                    for k in 0..2 {
                        let bit = Template::bit_index(row, col, k);
                        let ((ca, ma), (cb, mb)) = (ra.get(bit), b.template.get(bit));
                        if ma && mb {
                            n += 1;
                            d += usize::from(ca != cb);
                        }
                    }
                }
            }
            let hd = d as f32 / n.max(1) as f32;
            if n >= 40 && hd < best.0 {
                best = (hd, shift, n);
            }
        }
        out += &format!("{:+}:{:.2} ", best.1, best.0);
    }
    out
}

/// One pair as one picture (see the module docs).
fn draw(a: &Eye, b: &Eye, shift: i32, cfg: &Config) -> RgbImage {
    const SIDE: u32 = 300;
    const BW: u32 = 512;
    const BH: u32 = 128;
    let mut out = RgbImage::new(2 * SIDE + 8, SIDE + 8 + 2 * (BH + 8) + 64);
    for (k, e) in [a, b].into_iter().enumerate() {
        // The iris, cropped to 1.3 limbus radii around it and enlarged.
        let mut full = RgbImage::new(e.img.width(), e.img.height());
        eye(&mut full, e, 0, cfg);
        let half = 1.3 * e.iris.r;
        let crop = RgbImage::from_fn(SIDE, SIDE, |x, y| {
            let sx = e.iris.x - half + 2.0 * half * x as f32 / SIDE as f32;
            let sy = e.iris.y - half + 2.0 * half * y as f32 / SIDE as f32;
            if sx >= 0.0 && sy >= 0.0 && (sx as u32) < full.width() && (sy as u32) < full.height() {
                *full.get_pixel(sx as u32, sy as u32)
            } else {
                Rgb([0, 0, 64])
            }
        });
        image::imageops::overlay(&mut out, &crop, (k as u32 * (SIDE + 8)) as i64, 0);
        let cols = e.polar.cols;
        // The second band is shown rotated like the code comparison.
        let off = if k == 1 { shift * 2 } else { 0 };
        let lo = iris::plane::percentile(e.polar.values.iter().copied(), 0.02);
        let hi = iris::plane::percentile(e.polar.values.iter().copied(), 0.98);
        let y0 = SIDE + 8 + k as u32 * (BH + 8);
        for y in 0..BH {
            for x in 0..BW {
                let row = (y as usize * e.polar.rows) / BH as usize;
                let c = (x as usize * cols) / BW as usize;
                let src = (c as i32 + off).rem_euclid(cols as i32) as usize;
                let v = (255.0 * (e.polar.at(row, src) - lo) / (hi - lo).max(1.0)).clamp(0.0, 255.0)
                    as u8;
                let px = if e.usable[row * cols + src] {
                    Rgb([v, v, v])
                } else {
                    Rgb([v / 2 + 100, v / 3, v / 3])
                };
                out.put_pixel(x, y0 + y, px);
            }
        }
    }
    // Code agreement at the found rotation.
    let ra = a.template.rotated(shift);
    let y0 = SIDE + 8 + 2 * (BH + 8);
    for col in 0..CODE_COLS {
        for row in 0..CODE_ROWS {
            let mut agree = 0;
            let mut n = 0;
            for k in 0..2 {
                let bit = Template::bit_index(row, col, k);
                let (ca, ma) = ra.get(bit);
                let (cb, mb) = b.template.get(bit);
                if ma && mb {
                    n += 1;
                    agree += usize::from(ca == cb);
                }
            }
            let px = match (n, agree) {
                (0, _) => Rgb([0, 0, 0]),
                (nn, ag) if ag == nn => Rgb([0, 200, 0]),
                (_, 0) => Rgb([220, 0, 0]),
                _ => Rgb([220, 200, 0]),
            };
            for dx in 0..4 {
                for dy in 0..8 {
                    out.put_pixel(4 * col as u32 + dx, y0 + 8 * row as u32 + dy, px);
                }
            }
        }
    }
    out
}

/// A capture with its circles and its masked band samples dotted orange.
fn eye(out: &mut RgbImage, e: &Eye, x0: u32, cfg: &Config) {
    for (x, y, p) in e.img.enumerate_pixels() {
        out.put_pixel(x0 + x, y, Rgb([p[0], p[0], p[0]]));
    }
    let n = &cfg.normalise;
    let (rows, cols) = (e.polar.rows, e.polar.cols);
    for row in 0..rows {
        for col in 0..cols {
            if e.usable[row * cols + col] {
                continue;
            }
            let t = std::f32::consts::TAU * col as f32 / cols as f32;
            let (xa, ya) = e.pupil_contour.point(t.cos(), t.sin());
            let (xb, yb) = e.iris.point(t.cos(), t.sin());
            let rho = n.rho_start + (n.rho_end - n.rho_start) * (row as f32 + 0.5) / rows as f32;
            let (x, y) = (xa + rho * (xb - xa), ya + rho * (yb - ya));
            if x >= 0.0 && y >= 0.0 && (x as u32) < e.img.width() && (y as u32) < e.img.height() {
                out.put_pixel(x0 + x as u32, y as u32, Rgb([255, 40, 0]));
            }
        }
    }
    for (c, col) in [(e.iris, [255, 0, 0]), (e.pupil, [255, 0, 255])] {
        for k in 0..720 {
            let t = std::f32::consts::TAU * k as f32 / 720.0;
            let (x, y) = (c.x + c.r * t.cos(), c.y + c.r * t.sin());
            if x >= 0.0 && y >= 0.0 && (x as u32) < e.img.width() && (y as u32) < e.img.height() {
                out.put_pixel(x0 + x as u32, y as u32, Rgb(col));
            }
        }
    }
}

/// Per code row (pupil side first) and 16 sectors of 22.5° (0 = the eye's
/// right, then downwards), the fraction of valid bits that are 1 over every
/// capture, for the real and the imaginary bit: an iris code's bits should
/// be 1 half the time whatever the eye. A sector far from 0.5 is structure
/// the captures share (lighting, lids, the segmentation's habits), and
/// every impostor pair agrees on it.
fn bit_bias(eyes: &[Eye]) -> String {
    let mut out = String::new();
    for (k, part) in ["real", "imaginary"].iter().enumerate() {
        out += &format!("fraction of {part} bits that are 1, code rows × 16 sectors:\n");
        for row in 0..CODE_ROWS {
            out += &format!("  {row}:");
            for sec in 0..16 {
                let (mut ones, mut n) = (0usize, 0usize);
                for e in eyes {
                    for col in sec * CODE_COLS / 16..(sec + 1) * CODE_COLS / 16 {
                        let (c, m) = e.template.get(Template::bit_index(row, col, k));
                        if m {
                            n += 1;
                            ones += usize::from(c);
                        }
                    }
                }
                out += &format!(" {:.2}", ones as f32 / n.max(1) as f32);
            }
            out += "\n";
        }
    }
    out
}
