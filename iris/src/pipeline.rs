//! The whole pipeline: bytes → grey image → segmentation → mask →
//! normalisation → code → quality verdict.
//!
//! Layout: [`Config`] (every stage's parameters in one serialisable value),
//! [`Capture`] (what one image yields), [`analyse_image`] / [`analyse`]
//! (run every stage and always return the quality report when an eye was
//! found) and [`enrol`] (the same, but an unusable capture is an error).

use image::GrayImage;
use serde::{Deserialize, Serialize};

use crate::decode::decode;
use crate::encode::{EncodeParams, encode};
use crate::error::IrisError;
use crate::limbus::{LimbusParams, locate_limbus};
use crate::mask::{MaskParams, noise_mask};
use crate::matcher::MatchParams;
use crate::normalise::{NormaliseParams, normalise};
use crate::plane::Plane;
use crate::pupil::{PupilParams, locate_pupil};
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
    let pupil = locate_pupil(&filled, &cfg.pupil)?;
    let iris = locate_limbus(&filled, &pupil, &cfg.limbus)?;
    let polar = normalise(&plane, &pupil.circle, &iris, &cfg.normalise);
    let usable = noise_mask(&polar, &cfg.mask);
    let template = encode(&polar, &usable, &cfg.encode);
    let inputs = Inputs {
        img: &filled,
        pupil: &pupil,
        iris: &iris,
        polar: &polar,
        usable: &usable,
        encoder: &cfg.encode,
    };
    let quality = assess(&inputs, &cfg.quality);
    Ok(Capture { quality, template })
}

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
