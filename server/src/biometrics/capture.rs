//! Taking in eye captures: the multipart form and the engine run.
//!
//! Every iris endpoint takes a `multipart/form-data` form with the images in
//! the fields `left` and/or `right`; registration adds `child` (the record's
//! JSON) and `decision`. Any other field is an error naming it, so a mislabelled
//! eye ("Left", "l") is never silently ignored.

use std::collections::BTreeMap;

use axum::extract::Multipart;
use bytes::Bytes;
use kudakyar_api::iris::{CaptureQuality, CaptureReport, Eye};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::http::form::{form_error, read_field, whole};

/// Scanner images are well under a megabyte; 8 MiB leaves room for a phone
/// photo while the engine's decoder limits bound the pixels.
pub const MAX_CAPTURE_BYTES: usize = 8 * 1024 * 1024;
/// Text fields (`child`, `decision`).
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Captures one instance runs the engine on at once
/// ([`super::Biometrics::analysing`]): the engine takes tens of milliseconds
/// of CPU per capture, and a burst of uploads queues for these rather than
/// starving the async runtime.
pub const ANALYSED_AT_ONCE: usize = 2;

/// One eye image as received.
#[derive(Debug, Clone)]
pub struct RawCapture {
    pub eye: Eye,
    pub bytes: Bytes,
    /// SHA-256 (hex) of the bytes: a re-sent capture is recognised by it.
    pub sha256: String,
}

/// A capture the engine accepted.
#[derive(Debug, Clone)]
pub struct Probe {
    pub raw: RawCapture,
    pub template: iris::Template,
    pub quality: CaptureQuality,
}

impl Probe {
    pub fn report(&self) -> CaptureReport {
        CaptureReport {
            eye: self.raw.eye,
            quality: self.quality.clone(),
        }
    }
}

/// A parsed form: the captures and the named text fields that were allowed.
#[derive(Debug, Default)]
pub struct Form {
    pub captures: Vec<RawCapture>,
    pub text: BTreeMap<String, String>,
}

/// Reads the whole form (see [`fields`]).
pub async fn read_form(mut form: Multipart, allowed: &[&str]) -> Result<Form> {
    let read = fields(&mut form, allowed).await;
    whole(form, read).await
}

/// Reads a form of `left` / `right` images plus the text fields in `allowed`.
async fn fields(form: &mut Multipart, allowed: &[&str]) -> Result<Form> {
    let mut out = Form::default();
    while let Some(field) = form.next_field().await.map_err(form_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(eye) = Eye::parse(&name) {
            if out.captures.iter().any(|c| c.eye == eye) {
                return Err(Error::field(&name, "send one image per eye"));
            }
            let bytes = read_field(field, MAX_CAPTURE_BYTES).await?;
            if bytes.is_empty() {
                return Err(Error::field(&name, "is empty"));
            }
            let sha256 = hex::encode(Sha256::digest(&bytes));
            out.captures.push(RawCapture { eye, bytes, sha256 });
        } else if allowed.contains(&name.as_str()) {
            let bytes = read_field(field, MAX_TEXT_BYTES).await?;
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| Error::field(&name, "must be UTF-8 text"))?;
            out.text.insert(name, text);
        } else if name.is_empty() {
            return Err(Error::BadRequest("a form field has no name".into()));
        } else {
            let mut expected = vec!["`left`", "`right`"];
            let quoted: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
            expected.extend(quoted.iter().map(String::as_str));
            return Err(Error::field(
                &name,
                format!(
                    "is not a field of this form (expected {})",
                    expected.join(", ")
                ),
            ));
        }
    }
    Ok(out)
}

/// Requires at least one eye.
pub fn require_captures(form: &Form) -> Result<()> {
    if form.captures.is_empty() {
        return Err(Error::field(
            "left",
            "send at least one eye image, in the field `left` or `right`",
        ));
    }
    Ok(())
}

/// The engine's report in the API's words.
pub fn quality_of(report: &iris::QualityReport) -> CaptureQuality {
    CaptureQuality {
        usable: report.verdict.usable,
        reasons: report.verdict.reasons.clone(),
        usable_iris_area: report.usable_iris_area,
        iris_diameter_px: report.iris_diameter,
        sharpness: report.sharpness,
    }
}

/// Runs the engine on every capture; an unusable one is a 422 on its field
/// with the reasons the worker acts on ("retake: blurred").
pub async fn analyse_all(
    biometrics: &super::Biometrics,
    captures: Vec<RawCapture>,
) -> Result<Vec<Probe>> {
    let mut probes = Vec::with_capacity(captures.len());
    let mut errors = BTreeMap::new();
    for raw in captures {
        let _permit = biometrics
            .analysing
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        let cfg = biometrics.engine.clone();
        let bytes = raw.bytes.clone();
        let result = tokio::task::spawn_blocking(move || iris::enrol(&bytes, &cfg))
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        match result {
            Ok(capture) => probes.push(Probe {
                quality: quality_of(&capture.quality),
                template: capture.template,
                raw,
            }),
            Err(e) => {
                errors.insert(raw.eye.as_str().to_string(), vec![e.to_string()]);
            }
        }
    }
    if errors.is_empty() {
        Ok(probes)
    } else {
        Err(Error::Validation(errors))
    }
}
