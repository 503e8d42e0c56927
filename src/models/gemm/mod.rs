//! The sgemm behind the models' CPU convolutions, chosen once per process: the `gemm` crate
//! (what burn `flex` uses), OpenBLAS opened at run time ([`openblas`]), or our own packed x86
//! kernels ([`x86`]). The choice changes the bits of results, so [`Provider::id`] enters the CPU
//! device's cache key.

pub mod openblas;
pub mod x86;

use std::ffi::c_int;
use std::fmt;
use std::sync::OnceLock;

use rayon::prelude::*;

pub use openblas::OpenBlas;
use x86::Isa;

/// Which sgemm computes the products.
#[derive(Clone, Copy)]
pub enum Provider {
    /// The `gemm` crate (0.19), the kernel burn `flex` itself uses.
    GemmCrate,
    /// An OpenBLAS library opened at run time (see [`OpenBlas::load`]).
    OpenBlas(&'static OpenBlas),
    /// Our own packed x86 kernel ([`x86`]); [`Provider::best`] picks it only where
    /// the CPU has the instructions (elsewhere it panics rather than run them).
    X86(Isa),
}

/// One row-major product `C = op(A)·op(B) + beta·C` on raw pointers: `op(A)` is `[m, k]`,
/// `op(B)` `[k, n]`, `C` `[m, n]`; `ta`/`tb` say that `A`/`B` are stored transposed; the leading
/// dimensions are the stored rows' lengths. `beta == 0` never reads `C`.
#[derive(Clone, Copy, Debug)]
pub struct RawGemm {
    pub ta: bool,
    pub tb: bool,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: *const f32,
    pub lda: usize,
    pub b: *const f32,
    pub ldb: usize,
    pub beta: f32,
    pub c: *mut f32,
    pub ldc: usize,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

impl Provider {
    /// Identifies the kernel (and its CPU flavour): enters a cache key, since the bits differ.
    pub fn id(&self) -> String {
        match self {
            Provider::GemmCrate => format!(
                "sgemm:gemm-0.19/{}{}",
                std::env::consts::ARCH,
                if cfg!(target_feature = "avx512f") { "-avx512" } else { "" }
            ),
            Provider::OpenBlas(lib) => format!("sgemm:openblas/{}", lib.corename),
            Provider::X86(isa) => isa.id(),
        }
    }

    /// The provider this process uses: `$TSCPIPE_SGEMM` (`avx512`, `avx2`, `openblas`, `gemm`)
    /// when set and usable, else OpenBLAS if it can be opened, else our own kernel where the CPU
    /// has AVX-512 or AVX2 + FMA, else the `gemm` crate.
    pub fn best() -> Provider {
        static BEST: OnceLock<Provider> = OnceLock::new();
        *BEST.get_or_init(|| {
            let ours = Isa::detect().map(Provider::X86);
            let chosen = |isa: Isa| isa.available().then_some(Provider::X86(isa));
            let openblas = OpenBlas::get().map(Provider::OpenBlas);
            let default = openblas.or(ours).unwrap_or(Provider::GemmCrate);
            let Ok(wanted) = std::env::var("TSCPIPE_SGEMM") else { return default };
            let pinned = match wanted.as_str() {
                "gemm" => Some(Provider::GemmCrate),
                "avx512" => chosen(Isa::Avx512),
                "avx2" => chosen(Isa::Avx2),
                "openblas" => openblas,
                "" => return default,
                _ => None,
            };
            // A pin that cannot be honoured changes the cache key: say so rather than silently.
            pinned.unwrap_or_else(|| {
                eprintln!(
                    "warning: TSCPIPE_SGEMM={wanted} is not usable here (one of avx512, avx2, openblas, gemm, \
                     where this CPU and library allow); using {}",
                    default.id()
                );
                default
            })
        })
    }

    /// Row-major `C = op(A)·op(B) + beta·C` with `op(A)` `[m, k]`, `op(B)` `[k, n]`, `C` `[m, n]`;
    /// `ta`/`tb` say that `A`/`B` are stored transposed. Leading dimensions are the stored rows'
    /// lengths. The columns of `C` are split into fixed blocks run on rayon's pool: the blocks
    /// do not depend on the thread count, so neither do the bits.
    #[allow(clippy::too_many_arguments)]
    pub fn sgemm(
        &self,
        ta: bool,
        tb: bool,
        (m, n, k): (usize, usize, usize),
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        beta: f32,
        c: &mut [f32],
        ldc: usize,
    ) {
        let (a_rows, b_rows) = (if ta { k } else { m }, if tb { n } else { k });
        assert!(m == 0 || n == 0 || c.len() >= (m - 1) * ldc + n, "sgemm: C too small");
        assert!(k == 0 || a_rows == 0 || a.len() >= (a_rows - 1) * lda + if ta { m } else { k });
        assert!(k == 0 || b_rows == 0 || b.len() >= (b_rows - 1) * ldb + if tb { k } else { n });
        if m == 0 || n == 0 {
            return;
        }
        const BLOCK: usize = 512;
        let (a_ptr, b_ptr, c_ptr) = (a.as_ptr() as usize, b.as_ptr() as usize, c.as_mut_ptr() as usize);
        (0..n.div_ceil(BLOCK)).into_par_iter().for_each(|blk| {
            let j0 = blk * BLOCK;
            // Column j0 of op(B): element (p, j0) is at p·ldb + j0 (stored as is) or j0·ldb + p
            // (stored transposed); of C at j0.
            let b_off = if tb { j0 * ldb } else { j0 };
            // SAFETY: inside the buffers bounded by the asserts above; the blocks write disjoint
            // columns of C.
            unsafe {
                self.sgemm_serial(RawGemm {
                    ta,
                    tb,
                    m,
                    n: BLOCK.min(n - j0),
                    k,
                    a: a_ptr as *const f32,
                    lda,
                    b: (b_ptr as *const f32).add(b_off),
                    ldb,
                    beta,
                    c: (c_ptr as *mut f32).add(j0),
                    ldc,
                })
            }
        });
    }

    /// [`Provider::sgemm`] on raw pointers, on the calling thread only.
    ///
    /// # Safety
    /// Every element the dimensions and leading dimensions reach must lie in live buffers, and
    /// no other thread may access the part of `C` written.
    pub unsafe fn sgemm_serial(&self, g: RawGemm) {
        let RawGemm { ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc } = g;
        if m == 0 || n == 0 {
            return;
        }
        match self {
            Provider::GemmCrate => {
                let (a_rs, a_cs) = if ta { (1, lda as isize) } else { (lda as isize, 1) };
                let (b_rs, b_cs) = if tb { (1, ldb as isize) } else { (ldb as isize, 1) };
                // SAFETY: the caller's contract.
                unsafe {
                    ::gemm::gemm(
                        m,
                        n,
                        k,
                        c,
                        1,
                        ldc as isize,
                        beta != 0.0,
                        a,
                        a_cs,
                        a_rs,
                        b,
                        b_cs,
                        b_rs,
                        beta,
                        1.0,
                        false,
                        false,
                        false,
                        ::gemm::Parallelism::None,
                    )
                }
            }
            Provider::OpenBlas(lib) => {
                const ROW_MAJOR: c_int = 101;
                let op = |t: bool| if t { 112 } else { 111 };
                let i = |v: usize| c_int::try_from(v).expect("sgemm dimension exceeds the BLAS integer range");
                // OpenBLAS runs single-threaded (its own threads spin and fight rayon's).
                // SAFETY: the caller's contract; a row-major CBLAS call.
                unsafe {
                    (lib.sgemm)(ROW_MAJOR, op(ta), op(tb), i(m), i(n), i(k), 1.0, a, i(lda), b, i(ldb), beta, c, i(ldc))
                }
            }
            // SAFETY: the caller's contract (the kernel checks the CPU itself).
            Provider::X86(isa) => unsafe { x86::sgemm(*isa, g) },
        }
    }
}
