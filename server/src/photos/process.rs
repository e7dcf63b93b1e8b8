//! From an uploaded file to the two JPEGs that are stored.
//!
//! 1. [`detect`] the type from the first bytes (never from the file name or
//!    the declared `Content-Type`, which the client controls): JPEG, PNG or
//!    WebP; anything else is 415.
//! 2. Read the header only and refuse more than [`MAX_PIXELS`]: a small file
//!    can declare a huge canvas (a decompression bomb). `image::Limits` caps
//!    the decoder's allocations as a second line of defence.
//! 3. Decode, read the EXIF orientation and apply it to the pixels.
//! 4. Re-encode as JPEG: at most [`NORMALISED_MAX_SIDE`] and
//!    [`THUMBNAIL_MAX_SIDE`] pixels on the longest side. The encoder writes no
//!    metadata, so EXIF (GPS included), XMP and ICC blocks are gone.
//!
//! Every failure caused by the file is a client error naming `photo`.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use crate::error::Error;

/// Largest accepted upload.
pub const MAX_UPLOAD_BYTES: usize = 15 * 1024 * 1024;
/// Largest accepted canvas, width × height (a 40 MP image decodes to 160 MB).
pub const MAX_PIXELS: u64 = 40_000_000;
pub const NORMALISED_MAX_SIDE: u32 = 1600;
pub const THUMBNAIL_MAX_SIDE: u32 = 256;
/// The decoder's own allocation cap: 40 MP of 8-bit RGBA, with headroom.
const MAX_DECODER_ALLOC: u64 = 256 * 1024 * 1024;
const JPEG_QUALITY: u8 = 85;

/// The two images to store, both JPEG without metadata.
#[derive(Debug)]
pub struct Processed {
    pub image: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
}

/// Decoding may take 160 MB and a second of CPU; a few at a time keep a
/// burst of uploads from exhausting a small server.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// [`process`] on the blocking pool, a few at a time: what handlers call.
pub async fn process_off_thread(upload: bytes::Bytes) -> Result<Processed, Error> {
    let _permit = DECODING.acquire().await.map_err(anyhow::Error::new)?;
    tokio::task::spawn_blocking(move || process(&upload))
        .await
        .map_err(anyhow::Error::new)?
}

/// Decodes, checks and normalises an upload. CPU-bound: call it through
/// [`process_off_thread`].
pub fn process(bytes: &[u8]) -> Result<Processed, Error> {
    let format = detect(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_many_pixels(Some((width, height))));
    }
    // The JPEG decoder is lenient and would fill a cut-off file with grey.
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(Error::field(
            "photo",
            "is a truncated JPEG (it has no end marker): upload the whole file",
        ));
    }
    // A broken EXIF block is no reason to refuse the photo: keep it upright as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    image.apply_orientation(orientation);
    let image = on_white(fit(image, NORMALISED_MAX_SIDE));
    let thumbnail = fit(image.clone(), THUMBNAIL_MAX_SIDE);
    Ok(Processed {
        width: image.width(),
        height: image.height(),
        image: encode_jpeg(&image)?,
        thumbnail: encode_jpeg(&thumbnail)?,
    })
}

/// The format, from magic bytes; 415 naming what was recognised otherwise.
pub fn detect(bytes: &[u8]) -> Result<ImageFormat, Error> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(ImageFormat::WebP);
    }
    let seen = if bytes.starts_with(b"GIF8") {
        "a GIF image"
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        "a HEIC/AVIF image or a video"
    } else if bytes.starts_with(b"BM") {
        "a BMP image"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "a TIFF image"
    } else if bytes.starts_with(b"%PDF") {
        "a PDF document"
    } else {
        "not an image this server recognises"
    };
    Err(Error::UnsupportedMediaType(format!(
        "the `photo` is {seen}; only JPEG, PNG and WebP photos are accepted \
         (the type is read from the file's content, not its name)"
    )))
}

fn too_many_pixels(size: Option<(u32, u32)>) -> Error {
    let size = size.map_or(String::new(), |(w, h)| format!(" ({w}×{h})"));
    Error::field(
        "photo",
        format!(
            "has too many pixels{size}: at most {} megapixels are accepted",
            MAX_PIXELS / 1_000_000
        ),
    )
}

fn decode_error(e: ImageError) -> Error {
    match e {
        ImageError::Limits(_) => too_many_pixels(None),
        ImageError::Unsupported(e) => Error::field(
            "photo",
            format!("uses an image feature that is not supported: {e}"),
        ),
        _ => Error::field(
            "photo",
            "could not be decoded: the file is truncated or corrupt",
        ),
    }
}

/// True when a JPEG's first scan is followed by an end-of-image marker. The
/// header segments are skipped by their lengths, so the end marker of an EXIF
/// thumbnail inside them does not count.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // after the start-of-image marker
    loop {
        let Some(&[0xFF, marker, hi, lo]) = bytes.get(at..at + 4) else {
            return false;
        };
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        at += 2 + usize::from(u16::from_be_bytes([hi, lo]));
        if marker == 0xDA {
            break; // start of scan: entropy-coded data follows
        }
    }
    // In scan data 0xFF is always followed by 0x00 or a restart marker, so
    // 0xFF 0xD9 is the end marker (progressive files have several scans).
    bytes
        .get(at..)
        .is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// Scales down (never up) so the longest side is at most `max_side`.
fn fit(image: DynamicImage, max_side: u32) -> DynamicImage {
    if image.width().max(image.height()) <= max_side {
        return image;
    }
    image.resize(max_side, max_side, FilterType::Triangle)
}

/// JPEG has no alpha: transparent areas become white rather than black.
fn on_white(image: DynamicImage) -> DynamicImage {
    if !image.color().has_alpha() {
        return image;
    }
    let mut rgba = image.into_rgba8();
    for pixel in rgba.pixels_mut() {
        let [r, g, b, a] = pixel.0;
        let (a, full) = (u32::from(a), 255);
        let over_white = |c: u8| ((u32::from(c) * a + full * (full - a)) / full) as u8;
        pixel.0 = [over_white(r), over_white(g), over_white(b), 255];
    }
    DynamicImage::ImageRgba8(rgba)
}

fn encode_jpeg(image: &DynamicImage) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&image.to_rgb8())
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("encoding a JPEG")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = ImageBuffer::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 128]));
        encode_jpeg(&DynamicImage::ImageRgb8(image)).unwrap()
    }

    #[test]
    fn detects_by_content() {
        assert_eq!(detect(&jpeg(4, 4)).unwrap(), ImageFormat::Jpeg);
        assert!(matches!(
            detect(b"GIF89a...."),
            Err(Error::UnsupportedMediaType(m)) if m.contains("GIF")
        ));
        assert!(matches!(
            detect(b"hello"),
            Err(Error::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn a_cut_jpeg_is_incomplete() {
        let whole = jpeg(64, 48);
        assert!(jpeg_is_complete(&whole));
        assert!(!jpeg_is_complete(&whole[..whole.len() - 40]));
        assert!(matches!(
            process(&whole[..whole.len() / 2]),
            Err(Error::Validation(e)) if e.contains_key("photo")
        ));
    }

    #[test]
    fn scales_down_only() {
        let big = process(&jpeg(2000, 1000)).unwrap();
        assert_eq!((big.width, big.height), (1600, 800));
        let small = process(&jpeg(300, 200)).unwrap();
        assert_eq!((small.width, small.height), (300, 200));
        let thumb = image::load_from_memory(&small.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (256, 171));
    }
}
