//! The transforms' hot loops compiled three times — for AVX-512, for AVX2 + FMA and for the
//! baseline x86-64 the crate is built for — and the best one the CPU offers chosen at run time
//! (numba, which the references use, compiles for the host CPU). The loops are plain Rust that
//! LLVM vectorises at the width the features allow; no fast-math is enabled, so every variant
//! rounds exactly as the baseline one (the bit-for-bit tests hold on all of them).
//!
//! [`multiversion!`](crate::multiversion) wraps a function; what it calls must be
//! `#[inline(always)]` to be compiled with the features too.

/// The instruction sets a multiversioned function may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Avx512,
    Avx2,
    Base,
}

/// The best level this CPU supports (`TSCPIPE_SIMD=base|avx2` caps it, for comparisons).
pub fn level() -> Level {
    static LEVEL: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = std::env::var("TSCPIPE_SIMD").unwrap_or_default();
        #[cfg(target_arch = "x86_64")]
        {
            let avx512 = std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl");
            let avx2 = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
            if avx512 && cap != "base" && cap != "avx2" {
                return Level::Avx512;
            }
            if avx2 && cap != "base" {
                return Level::Avx2;
            }
        }
        let _ = cap;
        Level::Base
    })
}

/// Defines `fn name(args) -> ret` whose body is compiled for each [`Level`] and dispatched on
/// [`level`]. Arguments are plain `name: Type` pairs (references with elided lifetimes are fine).
#[macro_export]
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn inner($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    inner($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    inner($($arg),*)
                }
                match $crate::classic::simd::level() {
                    // SAFETY: `level` reports only features this CPU has.
                    $crate::classic::simd::Level::Avx512 => return unsafe { wide($($arg),*) },
                    $crate::classic::simd::Level::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::classic::simd::Level::Base => {}
                }
            }
            inner($($arg),*)
        }
    };
}

#[cfg(test)]
mod tests {
    crate::multiversion! {
        fn dot(a: &[f32], b: &[f32]) -> f32 {
            a.iter().zip(b).map(|(x, y)| x * y).sum()
        }
    }

    #[test]
    fn every_level_gives_the_same_sum() {
        let a: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.11).cos()).collect();
        let want: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot(&a, &b), want);
    }
}
