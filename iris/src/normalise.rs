//! Stage 4 — rubber-sheet normalisation to a fixed polar grid.
//!
//! Layout: grid size constants, [`NormaliseParams`], [`Polar`], [`normalise`]
//! (between two circles) and [`normalise_contour`] (from the pupil's own
//! boundary, [`crate::pupil::contour`], to the limbus circle).
//!
//! Daugman's rubber-sheet model: for each angle θ the segment from the pupil
//! boundary point to the limbus point (the two circles need not be concentric)
//! is sampled at fixed fractions ρ. The pupil boundary may be a
//! [`Contour`] (an ellipse to first order, as real pupils are): a circle
//! fitted to an elliptical pupil misplaces the band's inner edge by a pixel
//! or two along one axis, and the rows of the code with it. Pupil dilation and image scale therefore
//! cancel out, and a rotation of the eye becomes a circular shift of columns,
//! which the matcher undoes. Column 0 points to the image's right (+x), and
//! columns advance towards +y (down). Samples outside the image are marked
//! invalid rather than invented.

use serde::{Deserialize, Serialize};

use crate::plane::{Circle, Contour, Plane};

/// Radial samples in the normalised image.
pub const POLAR_ROWS: usize = 32;
/// Angular samples in the normalised image (1.406° each).
pub const POLAR_COLS: usize = 256;

/// Which part of the iris band is sampled.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NormaliseParams {
    /// ρ of the first row (0 = pupil boundary). A small margin avoids pupil
    /// pixels leaking in through segmentation error.
    pub rho_start: f32,
    /// ρ of the last row (1 = limbus). The outermost band is often occluded
    /// and low in texture.
    pub rho_end: f32,
}

impl Default for NormaliseParams {
    fn default() -> Self {
        NormaliseParams {
            rho_start: 0.04,
            rho_end: 0.8,
        }
    }
}

/// The normalised iris: `rows × cols`, row-major, row 0 next to the pupil.
#[derive(Clone, Debug)]
pub struct Polar {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
    /// False where the sample fell outside the image.
    pub valid: Vec<bool>,
}

impl Polar {
    #[inline]
    pub fn at(&self, row: usize, col: usize) -> f32 {
        self.values[row * self.cols + col]
    }
}

/// Unwrap the iris band between the circles `pupil` and `limbus` into a
/// [`Polar`] grid.
pub fn normalise(img: &Plane, pupil: &Circle, limbus: &Circle, p: &NormaliseParams) -> Polar {
    normalise_contour(img, &Contour::circle(pupil), limbus, p)
}

/// Unwrap the iris band between the pupil's boundary `pupil` and the circle
/// `limbus`: column j runs from the pupil's boundary point at angle θⱼ
/// about the pupil's centre to the limbus point at θⱼ about the limbus'.
pub fn normalise_contour(
    img: &Plane,
    pupil: &Contour,
    limbus: &Circle,
    p: &NormaliseParams,
) -> Polar {
    let (rows, cols) = (POLAR_ROWS, POLAR_COLS);
    let mut values = vec![0.0f32; rows * cols];
    let mut valid = vec![false; rows * cols];
    for j in 0..cols {
        let t = std::f32::consts::TAU * j as f32 / cols as f32;
        let (c, s) = (t.cos(), t.sin());
        let (x0, y0) = pupil.point(c, s);
        let (x1, y1) = limbus.point(c, s);
        for i in 0..rows {
            let rho = p.rho_start + (p.rho_end - p.rho_start) * (i as f32 + 0.5) / rows as f32;
            if let Some(v) = img.sample(x0 + rho * (x1 - x0), y0 + rho * (y1 - y0)) {
                values[i * cols + j] = v;
                valid[i * cols + j] = true;
            }
        }
    }
    Polar {
        rows,
        cols,
        values,
        valid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_of_the_eye_becomes_a_column_shift() {
        // An image whose grey level encodes the polar angle around (60, 60).
        let mut img = Plane::new(120, 120, 0.0);
        for y in 0..120 {
            for x in 0..120 {
                let a = (y as f32 - 60.0)
                    .atan2(x as f32 - 60.0)
                    .to_degrees()
                    .rem_euclid(360.0);
                img.set(x, y, a / 2.0);
            }
        }
        let pupil = Circle {
            x: 60.0,
            y: 60.0,
            r: 10.0,
        };
        let limbus = Circle {
            x: 60.0,
            y: 60.0,
            r: 40.0,
        };
        let polar = normalise(&img, &pupil, &limbus, &NormaliseParams::default());
        assert!(polar.valid.iter().all(|&v| v));
        // Column 64 is 90° (straight down): grey ≈ 45 on every row.
        for i in 0..POLAR_ROWS {
            assert!(
                (polar.at(i, 64) - 45.0).abs() < 1.5,
                "row {i}: {}",
                polar.at(i, 64)
            );
        }
    }

    #[test]
    fn samples_outside_the_image_are_invalid() {
        let img = Plane::new(50, 50, 100.0);
        let pupil = Circle {
            x: 45.0,
            y: 25.0,
            r: 5.0,
        };
        let limbus = Circle {
            x: 45.0,
            y: 25.0,
            r: 20.0,
        };
        let polar = normalise(&img, &pupil, &limbus, &NormaliseParams::default());
        let invalid = polar.valid.iter().filter(|&&v| !v).count();
        assert!(invalid > 0 && invalid < polar.valid.len() / 2, "{invalid}");
    }
}
