//! What the models add to [`crate::device::Device`]: the burn device to compute on (`cpu` is
//! burn's pure-Rust `flex` backend; `cuda:N` needs the crate feature `cuda`, `wgpu:N` the feature
//! `wgpu`) and the backend identity that enters the cache key of numeric stages. Off the CPU, the
//! models use burn's own `Conv1d` and `BatchNorm` (the fused CPU ops apply to `flex` tensors only).

use burn::tensor::Device as BurnDevice;

use super::ModelError;

use crate::device::Device;

impl Device {
    /// The inference device.
    pub fn device(&self) -> Result<BurnDevice, ModelError> {
        match self {
            Device::Cpu => {
                super::tune_host_allocator();
                Ok(BurnDevice::flex())
            }
            #[cfg(feature = "cuda")]
            Device::Cuda(i) => Ok(BurnDevice::cuda(*i)),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(_) => Err(ModelError::Device(format!(
                "{self} requested but this build has no CUDA support (build with --features cuda)"
            ))),
            Device::Wgpu(i) => super::probe::wgpu_device(*i),
        }
    }

    /// The training device (the inference device with autodiff).
    pub fn train_device(&self) -> Result<BurnDevice, ModelError> {
        Ok(self.device()?.autodiff())
    }

    /// Identifies the numeric backend and kernel flavour: results computed with different ones
    /// may differ in the last bits, so this enters the cache key of numeric stages.
    pub fn backend_id(&self) -> String {
        match self {
            // The convolutions' sgemm (OpenBLAS when it can be opened) and the revision of our
            // own CPU kernels change the bits too.
            Device::Cpu => format!(
                "burn-0.22.1/flex/{}{}+{}+kernels-{}",
                std::env::consts::ARCH,
                if cfg!(target_feature = "avx512f") { "-avx512" } else { "" },
                super::conv_gemm::Provider::best().id(),
                super::conv_gemm::KERNELS_REVISION
            ),
            // Every CUDA device of a build computes alike; the index does not enter the key.
            // `unfused`: burn's operation fusion is off in this build (Cargo.toml says why), which
            // changes which kernels run.
            Device::Cuda(_) => "burn-0.22.1/cuda/unfused".to_string(),
            // Adapters differ in their kernels' arithmetic: API, name, driver and its version
            // enter the key (the index does not), and so does cubecl's autotuning level, which
            // decides among kernels, and that fusion is off (`unfused`, as for CUDA).
            Device::Wgpu(i) => match super::probe::adapter(*i) {
                Ok(a) => {
                    format!("burn-0.22.1/wgpu/{}/autotune-{}/unfused", a.identity(), super::probe::autotune_level())
                }
                Err(_) => format!("burn-0.22.1/wgpu/no-adapter-{i}"),
            },
        }
    }
}

/// burn restores an optimizer's state on `Device::default()` and moves it to each parameter's
/// device at the next step (`ModuleOptimizer::load_record`). With an accelerator compiled in,
/// that default is the accelerator, not the CPU: a resumed CPU training would need a GPU, and a
/// resumed wgpu training moved its state between two cubecl clients of one adapter, a readback
/// that could wait forever on lavapipe (docs/gpu.md). `BURN_DEVICE` is the only way burn offers
/// to choose that default, and it reads it on every call, so it is set here, before main and
/// before any thread exists (which makes `set_var` sound), unless the user set it.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
#[ctor::ctor(unsafe)]
fn stage_restored_state_on_the_host() {
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: a constructor runs before main, while this process has one thread.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") }
    }
}

/// Fails, before a checkpoint's optimizer state is restored, where burn would put it on a
/// device other than the CPU (see [`stage_restored_state_on_the_host`]): `BURN_DEVICE` set to
/// something else by the user.
pub(super) fn check_restore_staging() -> Result<(), ModelError> {
    restore_staging(std::env::var_os("BURN_DEVICE").as_deref(), cfg!(any(feature = "wgpu", feature = "cuda")))
}

/// [`check_restore_staging`] for a given `BURN_DEVICE` and build.
fn restore_staging(burn_device: Option<&std::ffi::OsStr>, accelerated: bool) -> Result<(), ModelError> {
    match burn_device {
        Some(v) if v.eq_ignore_ascii_case("flex") => Ok(()),
        None if !accelerated => Ok(()),
        v => Err(ModelError::Device(format!(
            "resuming from a checkpoint needs BURN_DEVICE unset or `flex` (burn restores the \
             optimizer's state on that device before moving it to the training device), but it is {}",
            v.map_or_else(|| "unset".to_string(), |v| format!("`{}`", v.to_string_lossy()))
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::restore_staging;

    #[test]
    fn a_resume_refuses_a_default_device_off_the_host() {
        assert!(restore_staging(None, false).is_ok());
        assert!(restore_staging(Some(OsStr::new("FLEX")), true).is_ok());
        let e = restore_staging(Some(OsStr::new("wgpu")), true).unwrap_err().to_string();
        assert!(e.contains("BURN_DEVICE") && e.contains("`wgpu`"), "{e}");
        // An accelerator build whose constructor did not run.
        assert!(restore_staging(None, true).unwrap_err().to_string().contains("unset"));
    }
}
