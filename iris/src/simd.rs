//! Runtime CPU-feature dispatch for the popcount-heavy loops.
//!
//! Layout: [`with_fast_popcount`] (the dispatcher), the `#[target_feature]`
//! trampolines, [`kernel_name`].
//!
//! The baseline x86-64 target has no POPCNT instruction, so `count_ones`
//! compiles to a bit-twiddling fallback several times slower. Rather than a
//! global `target-cpu` flag (which makes the binary crash on older CPUs), the
//! hot loops are written once as ordinary `#[inline(always)]` Rust and run
//! inside a trampoline compiled with the best features the CPU reports at run
//! time: AVX-512 VPOPCNTDQ (vectorised popcount), else POPCNT, else portable.
//! Inlining the closure into the trampoline gives it those features.

/// Run `f` compiled with the fastest popcount this CPU supports.
#[inline]
pub fn with_fast_popcount<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512vpopcntdq")
            && std::is_x86_feature_detected!("avx512f")
        {
            // SAFETY: the CPU reports every feature the trampoline enables.
            return unsafe { avx512(f) };
        }
        if std::is_x86_feature_detected!("popcnt") {
            // SAFETY: as above.
            return unsafe { popcnt(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt,avx2,avx512f,avx512vpopcntdq")]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn popcnt<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Which kernel [`with_fast_popcount`] picks on this CPU (for reports).
pub fn kernel_name() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512vpopcntdq")
            && std::is_x86_feature_detected!("avx512f")
        {
            return "avx512-vpopcntdq";
        }
        if std::is_x86_feature_detected!("popcnt") {
            return "popcnt";
        }
    }
    "portable"
}
