//! The whole pipeline: bytes → grey image → segmentation → mask →
//! normalisation → code → quality verdict.
//!
//! Layout: [`Config`] (every stage's parameters in one serialisable value),
//! [`Capture`] (what one image yields), [`analyse_image`] / [`analyse`]
//! (run every stage and always return the quality report when an eye was
//! found), [`segment`] (stages 1 and 2: which dark blob is the pupil, and
//! the limbus around it) and [`enrol`] (the same, but an unusable capture is an error).

use image::GrayImage;
use serde::{Deserialize, Serialize};

use crate::decode::decode;
use crate::encode::{EncodeParams, encode};
use crate::error::IrisError;
use crate::limbus::{LimbusParams, locate_limbus};
use crate::mask::{MaskParams, noise_mask};
use crate::matcher::MatchParams;
use crate::normalise::{NormaliseParams, normalise_contour};
use crate::plane::Circle;
use crate::plane::Plane;
use crate::pupil::{Pupil, PupilCandidates, PupilParams, contour, locate_pupil_candidates};
use crate::quality::{Inputs, QualityParams, QualityReport, assess};
use crate::specular::{SpecularParams, fill_reflections};
use crate::template::Template;

/// Parameters of every stage; `Config::default()` is the calibrated setting.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub specular: SpecularParams,
    pub pupil: PupilParams,
    pub limbus: LimbusParams,
    pub normalise: NormaliseParams,
    pub mask: MaskParams,
    pub encode: EncodeParams,
    pub quality: QualityParams,
    pub matcher: MatchParams,
}

/// The result of analysing one image.
#[derive(Clone, Debug)]
pub struct Capture {
    pub quality: QualityReport,
    pub template: Template,
}

impl Capture {
    pub fn usable(&self) -> bool {
        self.quality.verdict.usable
    }
}

/// Run every stage on a decoded image. Returns the template even when the
/// verdict is "retake", so callers can show the report; use [`enrol`] to
/// refuse unusable captures.
pub fn analyse_image(img: &GrayImage, cfg: &Config) -> Result<Capture, IrisError> {
    let plane = Plane::from_gray(img);
    // Boundaries are searched and measured without the illuminator's
    // reflections; the band is sampled from the image as taken, where the
    // noise mask removes the reflections instead of inventing texture.
    let filled = fill_reflections(&plane, &cfg.specular);
    let (pupil, iris) = segment(&filled, cfg)?;
    // The band starts at the pupil's own boundary, not its circle.
    let pupil_contour = contour(&filled, &pupil);
    let polar = normalise_contour(&plane, &pupil_contour, &iris, &cfg.normalise);
    let usable = noise_mask(&polar, &cfg.mask);
    let template = encode(&polar, &usable, &cfg.encode);
    let inputs = Inputs {
        img: &filled,
        pupil: &pupil,
        pupil_contour: &pupil_contour,
        iris: &iris,
        polar: &polar,
        usable: &usable,
        encoder: &cfg.encode,
    };
    let quality = assess(&inputs, &cfg.quality);
    Ok(Capture { quality, template })
}

/// Stages 1 and 2 on an image whose reflections are filled: the pupil and
/// the limbus.
///
/// When the pupil search found its best blob nested in a larger dark one
/// ([`crate::pupil::PupilCandidates`]), the limbus decides which is the
/// pupil; the blob search alone cannot tell where the illuminator's glow
/// reaches the pupil's edge, since the glow-lit pupil and its dark centre
/// then look like a dark iris and its pupil. Three cases:
/// - around a dark iris lie sclera and skin, where the limbus search finds
///   no dark-to-bright step on both sides: no limbus around the larger
///   blob, and the nested blob is the pupil;
/// - around a pupil lies the iris, and beyond it the limbus: a limbus is
///   found around the larger blob, which is the pupil (its dark centre was
///   the part left unlit by the glow), while the nested blob's own limbus
///   search stops at the pupil's edge, the larger blob's boundary;
/// - but when the nested blob's limbus lies well beyond the larger blob
///   ([`ENCLOSING_INSIDE_IRIS`]), both hypotheses see the same iris, and
///   the larger blob is a dark zone of it around the pupil, not a pupil.
pub fn segment(filled: &Plane, cfg: &Config) -> Result<(Pupil, Circle), IrisError> {
    choose_pupil(filled, locate_pupil_candidates(filled, &cfg.pupil)?, cfg)
}

/// [`segment`]'s choice between the pupil candidates, and their limbus.
fn choose_pupil(
    filled: &Plane,
    found: PupilCandidates,
    cfg: &Config,
) -> Result<(Pupil, Circle), IrisError> {
    let iris = locate_limbus(filled, &found.pupil, &cfg.limbus);
    if let Some(enclosing) = found.enclosing
        && !iris
            .as_ref()
            .is_ok_and(|i| i.r > ENCLOSING_INSIDE_IRIS * enclosing.circle.r)
        && let Ok(around) = locate_limbus(filled, &enclosing, &cfg.limbus)
    {
        return Ok((enclosing, around));
    }
    Ok((found.pupil, iris?))
}

/// A limbus found around the nested pupil candidate farther out than this
/// many radii of the blob enclosing it puts that blob inside the iris (see
/// [`segment`]). A limbus search from the nested blob that stops at the
/// larger blob's edge finds it within a few pixels of it, at 1.0–1.1.
pub const ENCLOSING_INSIDE_IRIS: f32 = 1.2;

/// Decode image bytes and run every stage (see [`analyse_image`]).
pub fn analyse(bytes: &[u8], cfg: &Config) -> Result<Capture, IrisError> {
    analyse_image(&decode(bytes)?, cfg)
}

/// Decode, analyse, and refuse a capture whose verdict is not usable:
/// the error carries the quality report and its reasons.
pub fn enrol(bytes: &[u8], cfg: &Config) -> Result<Capture, IrisError> {
    let c = analyse(bytes, cfg)?;
    if c.usable() {
        Ok(c)
    } else {
        Err(IrisError::Unusable(Box::new(c.quality)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 320×280 eye centred at (160, 140) on sclera of grey 200, its grey
    /// level by distance from the centre, with a fine radial texture on the
    /// iris (where `grey` is 100 or more).
    fn eye(grey: impl Fn(f32) -> f32) -> Plane {
        let mut p = Plane::new(320, 280, 200.0);
        for y in 0..280 {
            for x in 0..320 {
                let (dx, dy) = (x as f32 - 160.0, y as f32 - 140.0);
                let g = grey(dx.hypot(dy));
                let texture = if (100.0..200.0).contains(&g) {
                    8.0 * (dy.atan2(dx) * 24.0).sin()
                } else {
                    0.0
                };
                p.set(x, y, g + texture);
            }
        }
        p
    }

    fn near(c: &Circle, r: f32) -> bool {
        (c.x - 160.0).abs() < 3.0 && (c.y - 140.0).abs() < 3.0 && (c.r - r).abs() < 3.0
    }

    /// A pupil candidate centred on the eye.
    fn blob(r: f32, grey: f32, ring_grey: f32) -> Pupil {
        Pupil {
            circle: Circle {
                x: 160.0,
                y: 140.0,
                r,
            },
            grey,
            ring_grey,
        }
    }

    #[test]
    fn a_pupil_glowing_out_to_its_edge_is_the_pupil_not_its_dark_centre() {
        // Pupil r 36 around a dark centre (r 8, grey 30); the illuminator's
        // glow rises from there to 80 and reaches the pupil's edge; iris
        // (130) to r 100, then sclera. The blob search offers the dark
        // centre as a pupil nested in the glow-lit one (as on CASIA's
        // captures, whose ring of LEDs lights the pupil this way).
        let img = eye(|d| match d {
            d if d < 8.0 => 30.0,
            d if d < 20.0 => 30.0 + 50.0 * (d - 8.0) / 12.0,
            d if d < 36.0 => 80.0,
            d if d < 100.0 => 130.0,
            _ => 200.0,
        });
        let found = PupilCandidates {
            pupil: blob(8.0, 30.0, 55.0),
            enclosing: Some(blob(36.0, 65.0, 130.0)),
        };
        let (pupil, iris) = choose_pupil(&img, found, &Config::default()).unwrap();
        assert!(near(&pupil.circle, 36.0), "{pupil:?}");
        assert!(near(&iris, 100.0), "{iris:?}");
    }

    #[test]
    fn a_dark_iris_on_sclera_keeps_its_nested_pupil() {
        // Pupil r 12 (grey 15) in a dark iris r 30 (grey 70); sclera beyond.
        let img = eye(|d| match d {
            d if d < 12.0 => 15.0,
            d if d < 30.0 => 70.0,
            _ => 200.0,
        });
        let found = PupilCandidates {
            pupil: blob(12.0, 15.0, 70.0),
            enclosing: Some(blob(30.0, 60.0, 200.0)),
        };
        let (pupil, iris) = choose_pupil(&img, found, &Config::default()).unwrap();
        assert!(near(&pupil.circle, 12.0), "{pupil:?}");
        assert!(near(&iris, 30.0), "{iris:?}");
    }

    #[test]
    fn a_dark_zone_of_the_iris_around_the_pupil_is_not_the_pupil() {
        // Pupil r 25 (grey 20); the iris is darker (90) out to r 40, lighter
        // (130) out to the limbus at r 70, a stronger step.
        let img = eye(|d| match d {
            d if d < 25.0 => 20.0,
            d if d < 40.0 => 90.0,
            d if d < 70.0 => 130.0,
            _ => 200.0,
        });
        let found = PupilCandidates {
            pupil: blob(25.0, 20.0, 60.0),
            enclosing: Some(blob(40.0, 63.0, 130.0)),
        };
        let (pupil, iris) = choose_pupil(&img, found, &Config::default()).unwrap();
        assert!(near(&pupil.circle, 25.0), "{pupil:?}");
        assert!(near(&iris, 70.0), "{iris:?}");
    }
}
