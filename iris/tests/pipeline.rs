//! End-to-end tests of the pipeline on synthetic captures: segmentation
//! against ground truth, genuine vs impostor distances, and bad input.

use iris::synth::{Identity, Resolution, render};
use iris::{Config, IrisError, analyse_image, compare};

const SEED: u64 = 20_240_601;

#[test]
fn segmentation_recovers_ground_truth_circles() {
    let cfg = Config::default();
    for (id, res) in [
        (1, Resolution::Small),
        (2, Resolution::Small),
        (3, Resolution::Large),
        (4, Resolution::Small),
    ] {
        let ident = Identity::new(SEED, id);
        let (img, truth) = render(&ident, SEED, id, 0, res);
        let cap = analyse_image(&img, &cfg).unwrap_or_else(|e| panic!("identity {id}: {e}"));
        let (p, i) = (cap.quality.pupil, cap.quality.iris);
        let tol = 0.06 * truth.iris.r;
        assert!(
            (p.x - truth.pupil.x).abs() < tol && (p.y - truth.pupil.y).abs() < tol,
            "{id}: pupil {p:?} vs {:?}",
            truth.pupil
        );
        assert!(
            (p.r - truth.pupil.r).abs() < tol,
            "{id}: pupil {p:?} vs {:?}",
            truth.pupil
        );
        assert!(
            (i.x - truth.iris.x).abs() < tol && (i.y - truth.iris.y).abs() < tol,
            "{id}: iris {i:?} vs {:?}",
            truth.iris
        );
        assert!(
            (i.r - truth.iris.r).abs() < tol,
            "{id}: iris {i:?} vs {:?}",
            truth.iris
        );
    }
}

#[test]
fn genuine_pairs_match_and_impostors_do_not() {
    let cfg = Config::default();
    let mut templates = Vec::new();
    for id in 10..14u64 {
        let ident = Identity::new(SEED, id);
        for c in 0..2 {
            let res = if c == 0 {
                Resolution::Small
            } else {
                Resolution::Large
            };
            let (img, truth) = render(&ident, SEED, id, c, res);
            let cap = analyse_image(&img, &cfg).unwrap();
            templates.push((id, truth.rotation_deg, cap.template));
        }
    }
    for (a, (ia, ra, ta)) in templates.iter().enumerate() {
        for (ib, rb, tb) in &templates[a + 1..] {
            let m = compare(ta, tb, &cfg.matcher);
            if ia == ib {
                assert!(m.is_match, "genuine {ia}: {m:?}");
                // The best shift recovers the relative eye rotation.
                // (probe column c + shift shows what reference column c shows).
                assert!(
                    (m.shift_degrees - (ra - rb)).abs() < 6.0,
                    "{ia}: shift {} vs {}",
                    m.shift_degrees,
                    ra - rb
                );
            } else {
                assert!(
                    !m.is_match && m.distance > 0.34,
                    "impostor {ia}/{ib}: {m:?}"
                );
            }
        }
    }
}

#[test]
fn bad_images_are_clear_errors() {
    let cfg = Config::default();
    let flat = |v: u8| image::GrayImage::from_pixel(320, 240, image::Luma([v]));
    for (name, img) in [
        ("black", flat(0)),
        ("white", flat(255)),
        ("grey", flat(128)),
    ] {
        let e = analyse_image(&img, &cfg).unwrap_err();
        assert!(matches!(e, IrisError::NoEye(_)), "{name}: {e}");
    }
    let mut x = 12345u32;
    let noise = image::GrayImage::from_fn(320, 240, |_, _| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        image::Luma([(x >> 24) as u8])
    });
    match analyse_image(&noise, &cfg) {
        Err(_) => {}
        Ok(c) => assert!(!c.usable(), "noise judged usable: {:?}", c.quality),
    }
}

/// Captures where the eyelids leave only short lateral arcs of the limbus
/// (upper lid near the pupil, lower lid over the bottom of the iris). Without
/// the concentricity prior the limbus circle drifted vertically by 10–20 %
/// of the radius on these; the iris-sclera contrast measured on the whole
/// ring (mostly eyelid) also called some of them "iris edge unclear".
#[test]
fn narrow_lids_still_give_the_true_limbus_and_a_usable_capture() {
    let cfg = Config::default();
    for (seed, id, c, res) in [
        (1, 110, 5, Resolution::Large),
        (1, 137, 4, Resolution::Small),
        (1, 128, 0, Resolution::Small),
        (1, 135, 5, Resolution::Large),
        (1, 5, 3, Resolution::Large),
        (1, 51, 0, Resolution::Small),
    ] {
        let (img, truth) = render(&Identity::new(seed, id), seed, id, c, res);
        let cap = analyse_image(&img, &cfg).unwrap_or_else(|e| panic!("{id}/{c}: {e}"));
        let (i, t) = (cap.quality.iris, truth.iris);
        let err = ((i.x - t.x).hypot(i.y - t.y) + (i.r - t.r).abs()) / t.r;
        assert!(err < 0.08, "{id}/{c}: iris {i:?} vs {t:?} (error {err:.3})");
        assert!(cap.usable(), "{id}/{c}: {}", cap.quality.verdict);
    }
}

/// Dark irises with small pupils: the whole iris is a dark round blob with
/// more contrast to the sclera than the pupil has to the iris, and used to be
/// taken for the pupil (then no limbus could be found outside it). The pupil
/// nested inside it must win.
#[test]
fn a_dark_iris_is_not_taken_for_the_pupil() {
    let cfg = Config::default();
    for (seed, id, c, res) in [
        (2, 8, 4, Resolution::Small),
        (2, 8, 3, Resolution::Large),
        (2, 143, 3, Resolution::Large),
        (2, 143, 0, Resolution::Small),
    ] {
        let (img, truth) = render(&Identity::new(seed, id), seed, id, c, res);
        let cap = analyse_image(&img, &cfg).unwrap_or_else(|e| panic!("{id}/{c}: {e}"));
        let (p, t) = (cap.quality.pupil, truth.pupil);
        let tol = 0.06 * truth.iris.r;
        assert!(
            (p.x - t.x).hypot(p.y - t.y) < tol && (p.r - t.r).abs() < tol,
            "{id}/{c}: pupil {p:?} vs {t:?}"
        );
        assert!(cap.usable(), "{id}/{c}: {}", cap.quality.verdict);
    }
}

/// Close-range scanners fill the frame: the iris circle often runs a few
/// pixels past the top or bottom edge, where the eyelid covers it anyway.
/// Such a capture keeps nearly all of its iris band and must be accepted;
/// an eye cut through the middle must still be refused with a reason the
/// worker can act on. (The verdict used to demand that the whole circle
/// fit in the frame: "margin −4 px" refused 60 % of a real close-range set.)
#[test]
fn an_iris_running_just_past_the_frame_edge_is_accepted() {
    let cfg = Config::default();
    for (seed, id, c) in [(SEED, 1, 0), (SEED, 2, 0), (SEED, 4, 0)] {
        let (img, truth) = render(&Identity::new(seed, id), seed, id, c, Resolution::Small);
        let full = analyse_image(&img, &cfg).unwrap();
        assert!(full.usable(), "{id}: {}", full.quality.verdict);
        let (w, h) = img.dimensions();
        // The top of the iris circle 5 px above the frame.
        let top = (truth.iris.y - truth.iris.r + 5.0).round() as u32;
        let cut = image::imageops::crop_imm(&img, 0, top, w, h - top).to_image();
        let cap = analyse_image(&cut, &cfg).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(cap.quality.margin < 0.0, "{id}: {:?}", cap.quality.iris);
        assert!(cap.usable(), "{id}: {}", cap.quality.verdict);
        // Half the iris out of the frame: refused (or no eye found).
        let top = truth.iris.y.round() as u32 - 10;
        let cut = image::imageops::crop_imm(&img, 0, top, w, h - top).to_image();
        if let Ok(cap) = analyse_image(&cut, &cfg) {
            assert!(!cap.usable(), "{id}: half an iris accepted");
        }
    }
}

/// A light iris is lightest by the pupil and darkens towards its rim, where
/// it meets a sclera darker than the iris by the pupil but brighter than the
/// rim: the limbus is a clear step and the capture is usable. (Measured
/// against the whole band's median, the iris–sclera contrast was near zero
/// and such eyes were refused as "iris edge unclear": 86 of 2,639 real
/// close-range captures.)
#[test]
fn a_light_iris_with_a_clear_limbus_is_not_refused_as_unclear() {
    let (w, h) = (320u32, 280u32);
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - 160.0, y as f32 - 140.0);
        let d = dx.hypot(dy);
        let texture = 10.0 * ((dy.atan2(dx) * 37.0).sin() * (d * 0.7).sin());
        let v = if d < 30.0 {
            40.0
        } else if d < 100.0 {
            215.0 - 65.0 * (d - 30.0) / 70.0 + texture
        } else {
            185.0
        };
        image::Luma([v.round().clamp(0.0, 255.0) as u8])
    });
    let cap = analyse_image(&img, &Config::default()).unwrap();
    let q = &cap.quality;
    assert!((q.iris.r - 100.0).abs() < 3.0, "{:?}", q.iris);
    assert!(q.iris_sclera_contrast >= 5.0, "{}", q.iris_sclera_contrast);
    assert!(
        !q.verdict.reasons.iter().any(|r| r.contains("edge unclear")),
        "{}",
        q.verdict
    );
}
