//! Our own single-threaded sgemm for x86-64 (AVX-512, else AVX2 + FMA), so that a machine
//! without OpenBLAS still trains at full speed: the `gemm` crate's kernels reach ~60 GFLOP/s per
//! core here (its AVX-512 kernels are slower still), OpenBLAS's and the AVX-512 kernel below
//! ~190.
//!
//! The classic packed layout (Goto / BLIS): for each slab of `KC` steps of the inner dimension,
//! `op(A)` is copied into panels of `MR` rows and `op(B)` into panels of `NR` columns, both in
//! the order the micro-kernel reads them; the kernel keeps an `MR × NR` tile of `C` in registers
//! (AVX-512: 12 × 32 in 24 zmm; AVX2: 6 × 16 in 12 ymm) and per step broadcasts one value of `A`
//! per row against two vectors of `B`. Edges are padded with zeros in the panels and written
//! through lane masks, so there is no scalar tail code. Every element of `C` is summed in the
//! same order (slab by slab, step by step) whatever the sizes of its neighbours, the thread or the
//! thread count: the bits depend on the inputs and the kernel only. Changing a kernel's tile or
//! `KC` moves the bits, so they are part of [`Isa::id`] (hence of the CPU device's cache key).
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code, unused_imports))]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::cell::RefCell;

use super::RawGemm;

/// Steps of the inner dimension per packed slab: an `A` panel (at most 12 × 256 floats, 12 KiB)
/// stays in L1 while the `B` panels stream from L2.
const KC: usize = 256;
/// Columns of `C` per packed `B` block (256 × 512 floats = 512 KiB, within L2).
const NC: usize = 512;

/// Which micro-kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512F: 12 × 32 tile.
    Avx512,
    /// AVX2 + FMA: 6 × 16 tile.
    Avx2,
}

impl Isa {
    /// The best kernel this CPU can run, if any.
    pub fn detect() -> Option<Isa> {
        [Isa::Avx512, Isa::Avx2].into_iter().find(|isa| isa.available())
    }

    /// Whether this CPU can run the kernel.
    pub fn available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
                Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    fn tile(self) -> (usize, usize) {
        match self {
            Isa::Avx512 => (12, 32),
            Isa::Avx2 => (6, 16),
        }
    }

    /// Names the kernel and its blocking in cache keys.
    pub fn id(self) -> String {
        let (mr, nr) = self.tile();
        let name = match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
        };
        format!("sgemm:tscpipe-{name}/{mr}x{nr}x{KC}")
    }
}

/// 64-byte aligned storage for the packed panels (full-width aligned loads).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

thread_local! {
    /// Packed `A` and `B` of the calling thread, reused across calls.
    static PACKED: RefCell<(Vec<Line>, Vec<Line>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fn lines(buf: &mut Vec<Line>, floats: usize) -> *mut f32 {
    let n = floats.div_ceil(16);
    if buf.len() < n {
        buf.resize(n, Line([0.0; 16]));
    }
    buf.as_mut_ptr() as *mut f32
}

/// One `MR × NR` tile: `C[0..mr, 0..nr] = Apanel·Bpanel + beta·C` over `kc` steps.
type Kernel = unsafe fn(usize, *const f32, *const f32, *mut f32, usize, usize, usize, f32);

/// The product `g` on the calling thread.
///
/// # Safety
/// Every element the dimensions and leading dimensions reach must lie in live buffers, and no
/// other thread may access the part of `C` written. Panics if the CPU cannot run `isa`.
pub unsafe fn sgemm(isa: Isa, g: RawGemm) {
    // `Provider::X86` can be built by anyone: never run instructions this CPU lacks (the check
    // is a cached flag).
    assert!(isa.available(), "{isa:?} kernel requested on a CPU without it");
    let RawGemm { m, n, .. } = g;
    if m == 0 || n == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let (mr, nr) = isa.tile();
        PACKED.with(|cell| {
            let mut guard = cell.borrow_mut();
            let (pa, pb) = &mut *guard;
            let pa = lines(pa, m.div_ceil(mr) * mr * KC);
            let pb = lines(pb, NC.min(n).div_ceil(nr) * nr * KC);
            // SAFETY: the caller's contract (`isa` is available); the packed buffers hold what
            // `blocked` touches.
            unsafe {
                match isa {
                    Isa::Avx512 => blocked_avx512(g, pa, pb),
                    Isa::Avx2 => blocked_avx2(g, pa, pb),
                }
            }
        });
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = isa;
}

/// [`blocked`] compiled for one instruction set, so that the packing loops vectorise with it and
/// the kernel inlines.
macro_rules! blocked_for {
    ($name:ident, $features:literal, $kernel:ident, $tile:expr) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name(g: RawGemm, pa: *mut f32, pb: *mut f32) {
            // SAFETY: the contract of `sgemm`, which checked the features.
            unsafe { blocked($tile, $kernel, g, pa, pb) }
        }
    };
}
blocked_for!(blocked_avx512, "avx512f", kernel_avx512, (12, 32));
blocked_for!(blocked_avx2, "avx2,fma", kernel_avx2, (6, 16));

#[inline(always)]
unsafe fn blocked((mr_tile, nr_tile): (usize, usize), kernel: Kernel, g: RawGemm, pa: *mut f32, pb: *mut f32) {
    let RawGemm { ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc } = g;
    // SAFETY (whole body): indices stay inside the caller's buffers (the contract of `sgemm`)
    // and the packed buffers sized there.
    unsafe {
        if k == 0 {
            // C = beta·C: no products to add.
            for i in 0..m {
                for j in 0..n {
                    let p = c.add(i * ldc + j);
                    *p = if beta == 0.0 { 0.0 } else { beta * *p };
                }
            }
            return;
        }
        for p0 in (0..k).step_by(KC) {
            let kc = KC.min(k - p0);
            // The first slab applies beta; later slabs add onto what the first wrote.
            let slab_beta = if p0 == 0 { beta } else { 1.0 };
            pack_a(mr_tile, ta, a, lda, p0, kc, m, pa);
            for j0 in (0..n).step_by(NC) {
                let nc = NC.min(n - j0);
                pack_b(nr_tile, tb, b, ldb, p0, kc, j0, nc, pb);
                for i0 in (0..m).step_by(mr_tile) {
                    let mr = mr_tile.min(m - i0);
                    let a_panel = pa.add(i0 * kc);
                    for jr in (0..nc).step_by(nr_tile) {
                        let nr = nr_tile.min(nc - jr);
                        kernel(kc, a_panel, pb.add(jr * kc), c.add(i0 * ldc + j0 + jr), ldc, mr, nr, slab_beta);
                    }
                }
            }
        }
    }
}

/// Copies `op(B)[p0..p0+kc, j0..j0+nc]` into panels of `NR` columns, each `kc` rows of `NR`
/// floats (zeros past `nc`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn pack_b(
    nr_tile: usize,
    tb: bool,
    b: *const f32,
    ldb: usize,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    out: *mut f32,
) {
    // SAFETY: see `blocked`.
    unsafe {
        for jr in (0..nc).step_by(nr_tile) {
            let nr = nr_tile.min(nc - jr);
            let panel = out.add(jr * kc);
            if !tb {
                for p in 0..kc {
                    let dst = panel.add(p * nr_tile);
                    std::ptr::copy_nonoverlapping(b.add((p0 + p) * ldb + j0 + jr), dst, nr);
                    std::ptr::write_bytes(dst.add(nr), 0, nr_tile - nr);
                }
            } else {
                // op(B)(p, j) = b[j·ldb + p]: each stored row of B is a column of the panel, read
                // contiguously.
                for j in 0..nr_tile {
                    if j < nr {
                        let src = b.add((j0 + jr + j) * ldb + p0);
                        for p in 0..kc {
                            *panel.add(p * nr_tile + j) = *src.add(p);
                        }
                    } else {
                        for p in 0..kc {
                            *panel.add(p * nr_tile + j) = 0.0;
                        }
                    }
                }
            }
        }
    }
}

/// Copies `op(A)[0..m, p0..p0+kc]` into panels of `MR` rows, each `kc` columns of `MR` floats
/// (zeros past `m`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn pack_a(mr_tile: usize, ta: bool, a: *const f32, lda: usize, p0: usize, kc: usize, m: usize, out: *mut f32) {
    // SAFETY: see `blocked`.
    unsafe {
        for i0 in (0..m).step_by(mr_tile) {
            let mr = mr_tile.min(m - i0);
            let panel = out.add(i0 * kc);
            if ta {
                // op(A)(i, p) = a[p·lda + i]: MR consecutive floats per step.
                for p in 0..kc {
                    let dst = panel.add(p * mr_tile);
                    std::ptr::copy_nonoverlapping(a.add((p0 + p) * lda + i0), dst, mr);
                    std::ptr::write_bytes(dst.add(mr), 0, mr_tile - mr);
                }
            } else {
                for i in 0..mr_tile {
                    if i < mr {
                        let src = a.add((i0 + i) * lda + p0);
                        for p in 0..kc {
                            *panel.add(p * mr_tile + i) = *src.add(p);
                        }
                    } else {
                        for p in 0..kc {
                            *panel.add(p * mr_tile + i) = 0.0;
                        }
                    }
                }
            }
        }
    }
}

/// Lane masks of the two 16-lane registers covering `nr` columns.
#[cfg(target_arch = "x86_64")]
fn masks16(nr: usize) -> (__mmask16, __mmask16) {
    let bits = |w: usize| if w >= 16 { 0xffff } else { ((1u32 << w) - 1) as u16 };
    (bits(nr), bits(nr.saturating_sub(16)))
}

/// The AVX-512 tile: 12 × 32, 24 accumulators.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn kernel_avx512(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    beta: f32,
) {
    const MR: usize = 12;
    const NR: usize = 32;
    // SAFETY: see `blocked`; rows past `mr` and lanes past `nr` are neither read nor written.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        for p in 0..kc {
            let b0 = _mm512_load_ps(b.add(p * NR));
            let b1 = _mm512_load_ps(b.add(p * NR + 16));
            let ap = a.add(p * MR);
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm512_set1_ps(*ap.add(i));
                row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
                row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
            }
        }
        let (lo, hi) = masks16(nr);
        let vbeta = _mm512_set1_ps(beta);
        for (i, row) in acc.iter().enumerate().take(mr) {
            let dst = c.add(i * ldc);
            let (mut r0, mut r1) = (row[0], row[1]);
            if beta != 0.0 {
                r0 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(lo, dst), r0);
                r1 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(hi, dst.add(16)), r1);
            }
            _mm512_mask_storeu_ps(dst, lo, r0);
            _mm512_mask_storeu_ps(dst.add(16), hi, r1);
        }
    }
}

/// The AVX2 tile: 6 × 16, 12 accumulators (16 ymm registers in all).
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_avx2(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    beta: f32,
) {
    const MR: usize = 6;
    const NR: usize = 16;
    // SAFETY: see `blocked`; rows past `mr` and lanes past `nr` are neither read nor written.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        for p in 0..kc {
            let b0 = _mm256_load_ps(b.add(p * NR));
            let b1 = _mm256_load_ps(b.add(p * NR + 8));
            let ap = a.add(p * MR);
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm256_broadcast_ss(&*ap.add(i));
                row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
                row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
            }
        }
        // Lane l of a mask is set when l < width (the sign bit is what maskload/maskstore read).
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let mask = |w: usize| _mm256_cmpgt_epi32(_mm256_set1_epi32(w.min(8) as i32), lanes);
        let (lo, hi) = (mask(nr), mask(nr.saturating_sub(8)));
        let vbeta = _mm256_set1_ps(beta);
        for (i, row) in acc.iter().enumerate().take(mr) {
            let dst = c.add(i * ldc);
            let (mut r0, mut r1) = (row[0], row[1]);
            if beta != 0.0 {
                r0 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(dst, lo), r0);
                r1 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(dst.add(8), hi), r1);
            }
            _mm256_maskstore_ps(dst, lo, r0);
            _mm256_maskstore_ps(dst.add(8), hi, r1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(ta: bool, tb: bool, (m, n, k): (usize, usize, usize), a: &[f32], b: &[f32], beta: f32, c: &mut [f32]) {
        let (lda, ldb) = (if ta { m } else { k }, if tb { k } else { n });
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    let av = if ta { a[p * lda + i] } else { a[i * lda + p] };
                    let bv = if tb { b[j * ldb + p] } else { b[p * ldb + j] };
                    s += av as f64 * bv as f64;
                }
                let old = if beta == 0.0 { 0.0 } else { beta as f64 * c[i * n + j] as f64 };
                c[i * n + j] = (s + old) as f32;
            }
        }
    }

    fn kernels() -> Vec<Isa> {
        let isas: Vec<Isa> = [Isa::Avx512, Isa::Avx2].into_iter().filter(|i| i.available()).collect();
        if isas.is_empty() {
            eprintln!("skipped: this CPU has neither AVX-512 nor AVX2 + FMA");
        }
        isas
    }

    /// Every transpose combination, sizes across the tile, slab and block edges, beta 0, 1 and
    /// ½ (with NaN in `C` for beta 0, which must never be read), against an f64 reference.
    #[test]
    fn matches_a_plain_product_at_every_edge() {
        let sizes = [
            (1, 1, 1),
            (12, 32, 8),
            (13, 33, 257),
            (7, 9, 3),
            (25, 70, 3),
            (5, 600, 300),
            (40, 17, 0),
            (130, 513, 100),
        ];
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        for isa in kernels() {
            for &(m, n, k) in &sizes {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    for beta in [0.0f32, 1.0, 0.5] {
                        let a: Vec<f32> = (0..m * k).map(|_| next()).collect();
                        let b: Vec<f32> = (0..k * n).map(|_| next()).collect();
                        let init: Vec<f32> = (0..m * n).map(|_| if beta == 0.0 { f32::NAN } else { next() }).collect();
                        let mut want = init.clone();
                        reference(ta, tb, (m, n, k), &a, &b, beta, &mut want);
                        let mut got = init.clone();
                        let (lda, ldb) = (if ta { m } else { k }, if tb { k } else { n });
                        // SAFETY: the buffers hold exactly the matrices described.
                        unsafe {
                            let (a, b, c) = (a.as_ptr(), b.as_ptr(), got.as_mut_ptr());
                            sgemm(isa, RawGemm { ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc: n })
                        };
                        for (idx, (g, w)) in got.iter().zip(&want).enumerate() {
                            assert!(
                                (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                                "{isa:?} m{m} n{n} k{k} ta{ta} tb{tb} beta{beta}: C[{idx}] = {g}, want {w}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// A sub-matrix view (leading dimensions larger than the width) writes only its own cells.
    #[test]
    fn respects_leading_dimensions() {
        let (m, n, k, lda, ldb, ldc) = (14, 40, 20, 25, 50, 45);
        let a: Vec<f32> = (0..m * lda).map(|i| (i % 7) as f32 - 3.0).collect();
        let b: Vec<f32> = (0..k * ldb).map(|i| (i % 5) as f32 - 2.0).collect();
        for isa in kernels() {
            let mut c = vec![-9.0f32; m * ldc];
            // SAFETY: the buffers cover the strided views.
            unsafe {
                let (a, b, c, beta) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), 0.0);
                sgemm(isa, RawGemm { ta: false, tb: false, m, n, k, a, lda, b, ldb, beta, c, ldc })
            };
            for i in 0..m {
                for j in 0..ldc {
                    let got = c[i * ldc + j];
                    if j < n {
                        let want: f32 = (0..k).map(|p| a[i * lda + p] * b[p * ldb + j]).sum();
                        assert_eq!(got, want, "{isa:?} C[{i},{j}]");
                    } else {
                        assert_eq!(got, -9.0, "{isa:?} C[{i},{j}] outside the view was written");
                    }
                }
            }
        }
    }
}
