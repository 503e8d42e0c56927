//! OpenBLAS (32-bit integers) opened with `dlopen` at run time, so that a build without it still runs.

use std::ffi::{c_char, c_int};
use std::sync::OnceLock;

pub(super) type CblasSgemm = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    f32,
    *const f32,
    c_int,
    *const f32,
    c_int,
    f32,
    *mut f32,
    c_int,
);

/// An OpenBLAS shared library (32-bit integers) opened with `dlopen`, so that a build without it
/// still runs. Found at `$TSCPIPE_OPENBLAS`, else as `libopenblas.so.0` / `libopenblas.so`; the
/// symbols may carry scipy-openblas's `scipy_` prefix (numpy/scipy wheels bundle such a library).
pub struct OpenBlas {
    pub(super) sgemm: CblasSgemm,
    /// The kernel family OpenBLAS picked for this CPU (e.g. `Haswell`, `SkylakeX`).
    pub corename: String,
    /// The file that was opened.
    pub path: String,
    _lib: libloading::Library,
}

impl OpenBlas {
    /// The process-wide library, opened on first use; `None` when none could be opened.
    pub fn get() -> Option<&'static OpenBlas> {
        static LIB: OnceLock<Option<OpenBlas>> = OnceLock::new();
        LIB.get_or_init(|| OpenBlas::load().ok()).as_ref()
    }

    /// Opens the library (see the type's documentation).
    pub fn load() -> Result<OpenBlas, String> {
        let candidates: Vec<String> = match std::env::var("TSCPIPE_OPENBLAS") {
            Ok(p) if !p.is_empty() => vec![p],
            _ => vec!["libopenblas.so.0".into(), "libopenblas.so".into()],
        };
        let mut errors = Vec::new();
        for path in candidates {
            // SAFETY: loading OpenBLAS runs only its own initialisers.
            match unsafe { libloading::Library::new(&path) } {
                Ok(lib) => return Self::from_library(lib, path),
                Err(e) => errors.push(format!("{path}: {e}")),
            }
        }
        Err(errors.join("; "))
    }

    fn from_library(lib: libloading::Library, path: String) -> Result<OpenBlas, String> {
        // SAFETY: the symbols have the CBLAS / OpenBLAS C signatures named here.
        unsafe {
            let sgemm = ["cblas_sgemm", "scipy_cblas_sgemm"]
                .iter()
                .find_map(|s| lib.get::<CblasSgemm>(s.as_bytes()).ok().map(|f| *f))
                .ok_or_else(|| format!("{path}: no cblas_sgemm symbol"))?;
            let corename = ["openblas_get_corename", "scipy_openblas_get_corename"]
                .iter()
                .find_map(|s| lib.get::<unsafe extern "C" fn() -> *const c_char>(s.as_bytes()).ok().map(|f| *f))
                .map(|f| {
                    let p = f();
                    if p.is_null() {
                        "unknown".to_string()
                    } else {
                        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
                    }
                })
                .unwrap_or_else(|| "unknown".to_string());
            if let Some(set_threads) = ["openblas_set_num_threads", "scipy_openblas_set_num_threads"]
                .iter()
                .find_map(|s| lib.get::<unsafe extern "C" fn(c_int)>(s.as_bytes()).ok().map(|f| *f))
            {
                set_threads(1);
            }
            Ok(OpenBlas { sgemm, corename, path, _lib: lib })
        }
    }
}
