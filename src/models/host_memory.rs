//! Keeps the CPU backend's large buffers in the process instead of handing them back to the
//! kernel after every operation.
//!
//! A training step allocates and frees buffers of 1–200 MB many times (im2col columns,
//! activations, gradients). glibc serves blocks above its mmap threshold with a fresh `mmap` and
//! returns them with `munmap`, so every step page-faults its buffers in again and pays TLB
//! shoot-downs on both cores: a `perf` profile of the B=50, T=150 LSTM-FCN step showed ~30 % of
//! its time in the kernel (`ptep_clear_flush`, `do_anonymous_page`). Raising the mmap threshold to
//! glibc's maximum and never trimming the heap keeps those pages mapped: 172 → 124 ms per step
//! (`cargo bench --bench train_step -- --small`). Blocks above that maximum (32 MiB; 65 MB
//! activations at B=128, T=500) are kept off `mmap` altogether: a fresh mapping per step cost
//! the B=128, T=500 step ~170 of its 690 ms in page faults. Numbers do not change, only where
//! memory lives; the heap stays at the run's peak size.

use std::sync::Once;

/// Applies the tuning once per process (a no-op outside glibc). Called when a CPU device is made;
/// call it first thing in `main` to cover earlier allocations too.
pub fn tune_host_allocator() {
    static ONCE: Once = Once::new();
    ONCE.call_once(apply);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply() {
    // glibc's upper bound for M_MMAP_THRESHOLD on 64-bit targets (4 MiB · sizeof(long)); larger
    // values are rejected, so M_MMAP_MAX = 0 sends larger blocks to the heap too.
    const MMAP_THRESHOLD_MAX: libc::c_int = 32 << 20;
    // SAFETY: mallopt only changes allocator parameters; it takes the arena lock itself.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
        libc::mallopt(libc::M_MMAP_MAX, 0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply() {}
