//! Stage 0 — decoding bytes into an 8-bit grey image under hard limits.
//!
//! Layout: the limits ([`MAX_SIDE`], [`MAX_ALLOC`], [`MIN_SIDE`], [`WORK_SIDE`]),
//! then [`decode`]. The `image` crate is told the limits *before* it allocates,
//! so a 30000×30000 header is refused from the header alone and a truncated file
//! is an error, not a partial picture. Colour images are converted to luma (a
//! visible-light photo is accepted here; the quality stage will say whether it
//! is usable). Images larger than [`WORK_SIDE`] are reduced by an integer box
//! factor so every later stage runs in bounded time and memory.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageFormat, ImageReader, Limits};

use crate::error::IrisError;
use crate::plane::Plane;

/// Largest accepted width or height (covers 12-megapixel phone photos).
pub const MAX_SIDE: u32 = 4096;
/// Largest allocation the decoder may make, in bytes.
pub const MAX_ALLOC: u64 = 96 * 1024 * 1024;
/// Smallest accepted width or height: an iris must be ≥ 100 px across.
pub const MIN_SIDE: u32 = 100;
/// Longest side the pipeline works at; larger images are reduced first.
pub const WORK_SIDE: u32 = 1280;

/// Decode PNG, JPEG, BMP or PGM/PNM bytes into an 8-bit grey image.
pub fn decode(bytes: &[u8]) -> Result<GrayImage, IrisError> {
    if bytes.is_empty() {
        return Err(IrisError::Decode("the file is empty".into()));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| IrisError::Decode(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Bmp | ImageFormat::Pnm) => {}
        Some(f) => return Err(IrisError::Decode(format!("{f:?} images are not accepted"))),
        None => return Err(IrisError::Decode("unknown file type".into())),
    }
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(l) => IrisError::TooLarge(l.to_string()),
        other => IrisError::Decode(other.to_string()),
    })?;
    let (w, h) = (img.width(), img.height());
    if w < MIN_SIDE || h < MIN_SIDE {
        return Err(IrisError::TooSmall {
            width: w,
            height: h,
        });
    }
    Ok(reduce_to_work_size(to_grey(img)))
}

fn to_grey(img: DynamicImage) -> GrayImage {
    match img {
        DynamicImage::ImageLuma8(g) => g,
        other => other.into_luma8(),
    }
}

fn reduce_to_work_size(img: GrayImage) -> GrayImage {
    let side = img.width().max(img.height());
    if side <= WORK_SIDE {
        return img;
    }
    let f = side.div_ceil(WORK_SIDE) as usize;
    Plane::from_gray(&img).reduce(f).to_gray()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, v: u8) -> Vec<u8> {
        let img = GrayImage::from_pixel(w, h, image::Luma([v]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn decodes_png_and_pgm_to_grey() {
        let g = decode(&png(120, 110, 77)).unwrap();
        assert_eq!(
            (g.width(), g.height(), g.get_pixel(5, 5).0[0]),
            (120, 110, 77)
        );
        let mut pgm = b"P5 100 100 255\n".to_vec();
        pgm.extend(std::iter::repeat_n(9u8, 100 * 100));
        assert_eq!(decode(&pgm).unwrap().get_pixel(50, 50).0[0], 9);
    }

    #[test]
    fn rejects_empty_truncated_tiny_and_huge() {
        assert!(matches!(decode(&[]), Err(IrisError::Decode(_))));
        let full = png(120, 120, 50);
        assert!(matches!(
            decode(&full[..full.len() / 2]),
            Err(IrisError::Decode(_))
        ));
        assert!(matches!(
            decode(&png(1, 1, 0)),
            Err(IrisError::TooSmall { .. })
        ));
        // A PGM header claiming 30000×30000 is refused before any allocation.
        let huge = b"P5 30000 30000 255\n\0\0\0".to_vec();
        assert!(
            matches!(decode(&huge), Err(IrisError::TooLarge(_))),
            "{:?}",
            decode(&huge)
        );
        assert!(matches!(
            decode(b"hello world, not an image"),
            Err(IrisError::Decode(_))
        ));
    }

    #[test]
    fn large_images_are_reduced_to_the_working_size() {
        let g = decode(&png(2600, 200, 10)).unwrap();
        assert_eq!((g.width(), g.height()), (866, 66));
    }
}
