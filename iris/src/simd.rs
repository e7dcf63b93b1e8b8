//! Runtime CPU-feature dispatch for the popcount-heavy loops.
//!
//! Layout: `popcount_dispatch!` (defines a function once, compiled three
//! times), the feature probes, [`kernel_name`].
//!
//! The baseline x86-64 target has no POPCNT instruction, so `count_ones`
//! compiles to a bit-twiddling fallback several times slower. Rather than a
//! global `target-cpu` flag (which makes the binary crash on older CPUs), a
//! hot function is written once; the macro compiles its body into an
//! `#[inline(always)]` inner function and wraps it in `#[target_feature]`
//! variants — AVX-512 VPOPCNTDQ (vectorised popcount), POPCNT, portable —
//! chosen at run time from what the CPU reports. The inner function's callees
//! must be `#[inline(always)]` too, so they are compiled with the features.

/// Define `fn name(args) -> ret { body }` dispatched on the CPU's popcount
/// support (see the module docs).
macro_rules! popcount_dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),* $(,)?) -> $r:ty $body:block) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) -> $r {
            #[inline(always)]
            fn inner($($a: $t),*) -> $r $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "popcnt,avx2,avx512f,avx512dq,avx512bw,avx512vl,avx512vpopcntdq")]
                fn avx512($($a: $t),*) -> $r {
                    inner($($a),*)
                }
                #[target_feature(enable = "popcnt")]
                fn popcnt($($a: $t),*) -> $r {
                    inner($($a),*)
                }
                if $crate::simd::has_avx512_popcnt() {
                    // SAFETY: the CPU reports every feature `avx512` enables.
                    return unsafe { avx512($($a),*) };
                }
                if $crate::simd::has_popcnt() {
                    // SAFETY: as above, for POPCNT.
                    return unsafe { popcnt($($a),*) };
                }
            }
            inner($($a),*)
        }
    };
}
pub(crate) use popcount_dispatch;

/// AVX-512 with the vector popcount extension.
#[inline]
pub fn has_avx512_popcnt() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512vpopcntdq")
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The scalar POPCNT instruction.
#[inline]
pub fn has_popcnt() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Which variant the dispatch picks on this CPU (for reports).
pub fn kernel_name() -> &'static str {
    if has_avx512_popcnt() {
        "avx512-vpopcntdq"
    } else if has_popcnt() {
        "popcnt"
    } else {
        "portable"
    }
}
