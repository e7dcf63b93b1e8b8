//! Errors returned by the engine.
//!
//! Every variant's `Display` text is written for a field worker holding the
//! scanner, not for a developer: it says what is wrong with the capture and,
//! where possible, what to do about it. Programming errors do not appear here;
//! the engine never panics on input data.

use crate::quality::QualityReport;

/// Why an image could not be turned into an iris template.
#[derive(Debug, thiserror::Error)]
pub enum IrisError {
    /// The bytes are not an image we accept (unknown format, truncated, corrupt).
    #[error("not a readable image ({0}); use PNG, JPEG, BMP or PGM from the scanner")]
    Decode(String),
    /// The image header asks for more pixels or memory than we allow.
    #[error("image is too large ({0}); send the scanner image, not a full-size photo")]
    TooLarge(String),
    /// The image is too small to contain a usable iris.
    #[error("image is too small ({width}×{height} px); the iris must be at least 100 px across")]
    TooSmall { width: u32, height: u32 },
    /// No pupil or iris could be found.
    #[error("no eye found: {0}")]
    NoEye(String),
    /// An eye was found but the capture fails the quality checks.
    #[error("{}", .0.verdict)]
    Unusable(Box<QualityReport>),
    /// A serialised template is malformed.
    #[error("invalid iris template: {0}")]
    Template(String),
}

impl IrisError {
    /// The quality report, when the failure came from the quality checks.
    pub fn quality(&self) -> Option<&QualityReport> {
        match self {
            IrisError::Unusable(q) => Some(q),
            _ => None,
        }
    }
}
