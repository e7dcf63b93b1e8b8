//! The iris template: bit layout, rotation and the versioned binary format.
//!
//! Layout: geometry constants, [`Template`] (code + mask bits and their
//! rotation), then the byte format ([`Template::to_bytes`] /
//! [`Template::from_bytes`]).
//!
//! Bits: the code is a grid of [`CODE_ROWS`] radial × [`CODE_COLS`] angular
//! positions with 2 phase bits each, 2,048 bits in 32 `u64` words. Bit
//! `col·16 + row·2 + k` holds phase bit `k` of position (row, col), so each
//! angular column is 16 contiguous bits and a rotation of the eye by one
//! column (2.8125°) is a rotation of the whole bit string by 16 bits. The
//! mask has the same layout; a set mask bit means "this code bit is reliable".
//!
//! Format (little-endian, 524 bytes, well under the 4 KiB budget):
//! `b"KIRT"`, version (1), parameters id (1), code bit count (u16),
//! code (256 bytes), mask (256 bytes), FNV-1a 32 checksum of all that.
//! The parameters id names the encoder settings (grid and filter); templates
//! made with different settings are not comparable and are refused.

use crate::error::IrisError;

/// Radial code positions.
pub const CODE_ROWS: usize = 8;
/// Angular code positions.
pub const CODE_COLS: usize = 128;
/// Bits per angular column (rows × 2 phase bits).
pub const BITS_PER_COL: usize = CODE_ROWS * 2;
/// Code bits in a template.
pub const CODE_BITS: usize = CODE_COLS * BITS_PER_COL;
/// `u64` words in the code (and in the mask).
pub const WORDS: usize = CODE_BITS / 64;
/// Degrees of eye rotation per column shift.
pub const DEGREES_PER_COL: f32 = 360.0 / CODE_COLS as f32;

const MAGIC: &[u8; 4] = b"KIRT";
/// Format version written by this build.
pub const VERSION: u8 = 1;
/// Identifies the encoder settings (grid + Gabor filter) of [`crate::encode`]:
/// 2 is the two-octave Gabor (angular σ = 0.3 wavelengths, see
/// [`crate::encode::EncodeParams::sigma_angular`]); 1 was σ = 0.45.
pub const PARAMS_ID: u8 = 2;
const HEADER: usize = 8;
/// Serialised size in bytes.
pub const TEMPLATE_BYTES: usize = HEADER + 2 * WORDS * 8 + 4;

/// An iris code with its validity mask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub code: [u64; WORDS],
    pub mask: [u64; WORDS],
}

impl Template {
    pub fn empty() -> Self {
        Template {
            code: [0; WORDS],
            mask: [0; WORDS],
        }
    }

    /// Index of phase bit `k` at (row, col).
    #[inline]
    pub fn bit_index(row: usize, col: usize, k: usize) -> usize {
        col * BITS_PER_COL + row * 2 + k
    }

    /// Set code bit and mask bit at index `b`.
    #[inline]
    pub fn set(&mut self, b: usize, bit: bool, valid: bool) {
        let (w, m) = (b / 64, 1u64 << (b % 64));
        if bit {
            self.code[w] |= m;
        } else {
            self.code[w] &= !m;
        }
        if valid {
            self.mask[w] |= m;
        } else {
            self.mask[w] &= !m;
        }
    }

    /// (code bit, mask bit) at index `b`.
    #[inline]
    pub fn get(&self, b: usize) -> (bool, bool) {
        let (w, m) = (b / 64, 1u64 << (b % 64));
        (self.code[w] & m != 0, self.mask[w] & m != 0)
    }

    /// Number of reliable bits.
    pub fn valid_bits(&self) -> u32 {
        self.mask.iter().map(|w| w.count_ones()).sum()
    }

    /// The template seen with the eye rotated by `cols` columns: column `c` of
    /// the result is column `c + cols` (mod [`CODE_COLS`]) of `self`.
    pub fn rotated(&self, cols: i32) -> Template {
        Template {
            code: rotate_bits(&self.code, cols),
            mask: rotate_bits(&self.mask, cols),
        }
    }

    /// Serialise to the versioned binary format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TEMPLATE_BYTES);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(PARAMS_ID);
        out.extend_from_slice(&(CODE_BITS as u16).to_le_bytes());
        for w in self.code.iter().chain(self.mask.iter()) {
            out.extend_from_slice(&w.to_le_bytes());
        }
        let sum = fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Parse the binary format, checking magic, version, parameters,
    /// length and checksum.
    pub fn from_bytes(b: &[u8]) -> Result<Template, IrisError> {
        let bad = |why: &str| Err(IrisError::Template(why.to_string()));
        if b.len() < HEADER || &b[..4] != MAGIC {
            return bad("not an iris template (wrong header)");
        }
        if b[4] != VERSION {
            return bad(&format!(
                "template version {} is not supported (expected {VERSION})",
                b[4]
            ));
        }
        if b[5] != PARAMS_ID {
            return bad(&format!(
                "template made with encoder settings {} (this engine uses {PARAMS_ID})",
                b[5]
            ));
        }
        if u16::from_le_bytes([b[6], b[7]]) as usize != CODE_BITS || b.len() != TEMPLATE_BYTES {
            return bad("template has the wrong length");
        }
        let body = TEMPLATE_BYTES - 4;
        let sum = u32::from_le_bytes([b[body], b[body + 1], b[body + 2], b[body + 3]]);
        if sum != fnv1a(&b[..body]) {
            return bad("template is corrupted (checksum mismatch)");
        }
        let mut t = Template::empty();
        let words = b[HEADER..body]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        for (i, w) in words.enumerate() {
            if i < WORDS {
                t.code[i] = w;
            } else {
                t.mask[i - WORDS] = w;
            }
        }
        Ok(t)
    }
}

/// Rotate a 2,048-bit string so that column `c` takes column `c + cols`.
pub fn rotate_bits(words: &[u64; WORDS], cols: i32) -> [u64; WORDS] {
    let off = (cols.rem_euclid(CODE_COLS as i32) as usize) * BITS_PER_COL;
    let (ws, bs) = (off / 64, off % 64);
    let mut out = [0u64; WORDS];
    for (w, o) in out.iter_mut().enumerate() {
        let lo = words[(w + ws) % WORDS];
        *o = if bs == 0 {
            lo
        } else {
            (lo >> bs) | (words[(w + ws + 1) % WORDS] << (64 - bs))
        };
    }
    out
}

fn fnv1a(b: &[u8]) -> u32 {
    b.iter().fold(0x811c_9dc5u32, |h, &x| {
        (h ^ u32::from(x)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Template {
        let mut t = Template::empty();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for w in 0..WORDS {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t.code[w] = x;
            t.mask[w] = x.rotate_left(17) | x;
        }
        t
    }

    #[test]
    fn round_trip_and_size() {
        let t = sample();
        let b = t.to_bytes();
        assert_eq!(b.len(), TEMPLATE_BYTES);
        assert!(b.len() <= 4096);
        assert_eq!(Template::from_bytes(&b).unwrap(), t);
    }

    #[test]
    fn corrupted_or_foreign_bytes_are_refused() {
        let b = sample().to_bytes();
        for (i, what) in [
            (0usize, "header"),
            (4, "version"),
            (5, "settings"),
            (100, "checksum"),
        ] {
            let mut c = b.clone();
            c[i] ^= 0x5a;
            let e = Template::from_bytes(&c).unwrap_err().to_string();
            assert!(e.contains(what), "{i}: {e}");
        }
        assert!(Template::from_bytes(&b[..b.len() - 1]).is_err());
        assert!(Template::from_bytes(&[]).is_err());
    }

    #[test]
    fn rotation_moves_whole_columns() {
        let t = sample();
        for s in [-7, -1, 1, 3, 4, 5, 127] {
            let r = t.rotated(s);
            for col in 0..CODE_COLS {
                let src = (col as i32 + s).rem_euclid(CODE_COLS as i32) as usize;
                for k in 0..BITS_PER_COL {
                    assert_eq!(
                        r.get(col * BITS_PER_COL + k),
                        t.get(src * BITS_PER_COL + k),
                        "s={s} col={col}"
                    );
                }
            }
            assert_eq!(r.rotated(-s), t);
        }
    }
}
