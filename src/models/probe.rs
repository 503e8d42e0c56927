//! What this machine offers to compute on: the CPU with its sgemm kernel, the wgpu adapters
//! (feature `wgpu`) and the CUDA devices the driver reports (feature `cuda`). `tscpipe devices`
//! prints it, `--device auto` picks from it, and a wgpu adapter's identity enters the cache key
//! of the stages that train on it ([`crate::device::Device::backend_id`]).
//!
//! wgpu adapters are listed on the graphics API cubecl's `Auto` device settles on (Vulkan where
//! it exists), GPUs first and software rasterizers (lavapipe, llvmpipe: type `Cpu`) last, so
//! `wgpu` (= `wgpu:0`) is the best adapter and `wgpu:N` the N-th line of `tscpipe devices`.
//! The CUDA driver is asked directly (`libcuda.so.1` through `libloading`), not through cubecl,
//! whose device enumeration panics where no driver is installed.

use std::fmt;

use serde::Serialize;

use crate::device::Device;

use super::ModelError;

/// What wgpu reports an adapter to be, best first (the order of `wgpu:N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum AdapterType {
    DiscreteGpu,
    IntegratedGpu,
    VirtualGpu,
    Other,
    /// A software rasterizer (lavapipe, llvmpipe, WARP): runs everything, slowly.
    Cpu,
}

/// One wgpu adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adapter {
    /// `N` of `--device wgpu:N`.
    pub index: usize,
    pub name: String,
    pub device_type: AdapterType,
    /// The graphics API (`Vulkan`, `Metal`, `Dx12`, `Gl`).
    pub api: String,
    /// The driver and its version, as the driver reports them (e.g. `llvmpipe`, `Mesa 22.3.6 …`).
    pub driver: String,
    pub driver_info: String,
    /// Its index among the adapters of its type (how cubecl addresses it); `None` for a second
    /// software adapter, which cubecl cannot address.
    #[serde(skip)]
    #[cfg_attr(not(feature = "wgpu"), allow(dead_code, reason = "read where adapters are opened"))]
    type_index: Option<usize>,
}

impl Adapter {
    /// What identifies the adapter's arithmetic in a cache key: API, name, driver and version
    /// (not the index, which depends on what else is plugged in).
    pub fn identity(&self) -> String {
        format!("{}/{}/{} {}", self.api, self.name, self.driver, self.driver_info).trim_end().to_string()
    }
}

/// The wgpu adapters of this machine, listed once per process (empty without the feature `wgpu`
/// or without a Vulkan/Metal/DX12 driver).
pub fn wgpu_adapters() -> &'static [Adapter] {
    #[cfg(feature = "wgpu")]
    {
        wgpu_probe::adapters()
    }
    #[cfg(not(feature = "wgpu"))]
    {
        &[]
    }
}

/// Orders adapters best first and gives each its `wgpu:N` index and its index within its type.
#[cfg_attr(not(any(feature = "wgpu", test)), allow(dead_code, reason = "wgpu builds list adapters"))]
fn number(mut adapters: Vec<Adapter>) -> Vec<Adapter> {
    adapters.sort_by_key(|a| a.device_type);
    let mut seen: Vec<AdapterType> = Vec::new();
    for (i, a) in adapters.iter_mut().enumerate() {
        let same = seen.iter().filter(|t| **t == a.device_type).count();
        seen.push(a.device_type);
        a.index = i;
        a.type_index = (a.device_type != AdapterType::Cpu || same == 0).then_some(same);
    }
    adapters
}

#[cfg(feature = "wgpu")]
mod wgpu_probe {
    use std::future::Future;
    use std::sync::OnceLock;

    use burn::backend::wgpu::graphics::{AutoGraphicsApi, GraphicsApi};
    use burn::backend::wgpu::wgpu;
    use burn::backend::{WgpuDevice, WgpuDeviceKind};

    use super::{Adapter, AdapterType, ModelError, number};

    /// The adapters and the instance they were listed through, kept for the process: the
    /// Vulkan loader is not safe against instances created and destroyed on several threads.
    struct Probe {
        _instance: Option<wgpu::Instance>,
        adapters: Vec<Adapter>,
    }

    static PROBE: OnceLock<Probe> = OnceLock::new();

    pub(super) fn adapters() -> &'static [Adapter] {
        &PROBE.get_or_init(probe).adapters
    }

    fn probe() -> Probe {
        // The API an `Auto` device comes up on; without any driver the first of the chain,
        // which then lists nothing.
        let api = <AutoGraphicsApi as GraphicsApi>::backend();
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: api.into(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapters = ready(instance.enumerate_adapters(api.into()))
            .iter()
            .map(|a| {
                let info = a.get_info();
                Adapter {
                    index: 0,
                    name: info.name,
                    device_type: match info.device_type {
                        wgpu::DeviceType::DiscreteGpu => AdapterType::DiscreteGpu,
                        wgpu::DeviceType::IntegratedGpu => AdapterType::IntegratedGpu,
                        wgpu::DeviceType::VirtualGpu => AdapterType::VirtualGpu,
                        wgpu::DeviceType::Cpu => AdapterType::Cpu,
                        wgpu::DeviceType::Other => AdapterType::Other,
                    },
                    api: format!("{:?}", info.backend),
                    driver: info.driver,
                    driver_info: info.driver_info,
                    type_index: None,
                }
            })
            .collect();
        Probe { _instance: Some(instance), adapters: number(adapters) }
    }

    /// Native wgpu resolves adapter enumeration at once; poll until it does.
    fn ready<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::yield_now();
        }
    }

    /// cubecl's autotuning level in this process (`CUBECL_AUTOTUNE_LEVEL`, a `cubecl.toml`;
    /// cubecl's default is `balanced`). It decides which kernels run, so it is part of the
    /// adapter's cache key.
    pub(super) fn autotune_level() -> &'static str {
        use cubecl_runtime::config::autotune::AutotuneLevel;
        use cubecl_runtime::config::{CubeClRuntimeConfig, RuntimeConfig};
        match CubeClRuntimeConfig::get().autotune.level {
            AutotuneLevel::Minimal => "minimal",
            AutotuneLevel::Balanced => "balanced",
            AutotuneLevel::Extensive => "extensive",
            AutotuneLevel::Full => "full",
        }
    }

    /// The burn device of adapter `index`.
    pub(super) fn device(index: usize) -> Result<burn::tensor::Device, ModelError> {
        let a = super::adapter(index)?;
        let n = a.type_index.ok_or_else(|| {
            ModelError::Device(format!(
                "wgpu:{index} ({}) is a second software adapter, which cubecl cannot select",
                a.name
            ))
        })?;
        let kind = match a.device_type {
            AdapterType::DiscreteGpu => WgpuDeviceKind::DiscreteGpu(n),
            AdapterType::IntegratedGpu => WgpuDeviceKind::IntegratedGpu(n),
            AdapterType::VirtualGpu => WgpuDeviceKind::VirtualGpu(n),
            AdapterType::Other => WgpuDeviceKind::Other(n),
            AdapterType::Cpu => WgpuDeviceKind::Cpu,
        };
        Ok(burn::tensor::Device::new(WgpuDevice::new(kind)))
    }
}

/// The adapter `wgpu:index` names, or why there is none.
pub fn adapter(index: usize) -> Result<&'static Adapter, ModelError> {
    let all = wgpu_adapters();
    all.get(index).ok_or_else(|| {
        ModelError::Device(if !cfg!(feature = "wgpu") {
            format!("wgpu:{index} requested but this build has no wgpu support (build with --features wgpu)")
        } else if all.is_empty() {
            format!(
                "wgpu:{index}: no wgpu adapter on this machine (a Vulkan driver is needed; \
                 `apt-get install libvulkan1 mesa-vulkan-drivers` gives the software one)"
            )
        } else {
            format!("wgpu:{index}: this machine has {} wgpu adapter(s) (see `tscpipe devices`)", all.len())
        })
    })
}

/// The burn device of `wgpu:index`.
pub(super) fn wgpu_device(index: usize) -> Result<burn::tensor::Device, ModelError> {
    #[cfg(feature = "wgpu")]
    {
        wgpu_probe::device(index)
    }
    #[cfg(not(feature = "wgpu"))]
    {
        adapter(index).map(|_| unreachable!("no adapters without the feature"))
    }
}

/// cubecl's autotuning level (see `wgpu_probe::autotune_level`); "none" in a build without wgpu.
pub(super) fn autotune_level() -> &'static str {
    #[cfg(feature = "wgpu")]
    {
        wgpu_probe::autotune_level()
    }
    #[cfg(not(feature = "wgpu"))]
    {
        "none"
    }
}

/// Fails when the machine lacks the device: a wgpu adapter that is not there, or (builds with
/// `cuda`) no CUDA driver or no device `cuda:N`. Asked before any stage runs: cubecl's CUDA
/// runtime panics on its device thread where the driver is missing.
pub fn check_present(device: Device) -> Result<Device, ModelError> {
    match device {
        Device::Wgpu(i) => {
            adapter(i)?;
            if cfg!(feature = "wgpu") {
                wgpu_device(i)?;
            }
        }
        Device::Cuda(i) if cfg!(feature = "cuda") => cuda_present(cuda_devices(), i)?,
        _ => {}
    }
    Ok(device)
}

/// [`check_present`] of `cuda:index` given what the driver said.
fn cuda_present(driver: Result<CudaDevices, CudaUnavailable>, index: usize) -> Result<(), ModelError> {
    let c = driver.map_err(|e| ModelError::Device(e.to_string()))?;
    if index < c.devices.len() {
        return Ok(());
    }
    Err(ModelError::Device(format!(
        "the CUDA driver ({}) reports {} device(s), so there is no cuda:{index} (see `tscpipe devices`)",
        driver_version(c.driver_version),
        c.devices.len()
    )))
}

/// Why the CUDA driver could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum CudaUnavailable {
    #[error("no CUDA driver ({0})")]
    NoDriver(#[source] libloading::Error),
    #[error("{call} failed (CUresult {code})")]
    Call { call: &'static str, code: i32 },
}

/// One CUDA device as the driver reports it.
#[derive(Debug, Clone, Serialize)]
pub struct CudaDevice {
    pub index: usize,
    pub name: String,
    pub memory_bytes: u64,
}

/// The CUDA driver's version (e.g. 12040 for 12.4) and devices.
#[derive(Debug, Clone, Serialize)]
pub struct CudaDevices {
    pub driver_version: i32,
    pub devices: Vec<CudaDevice>,
}

/// Asks the CUDA driver API (`cuInit`, `cuDeviceGetCount`, `cuDeviceGetName`, …) for its devices.
pub fn cuda_devices() -> Result<CudaDevices, CudaUnavailable> {
    type Int1 = unsafe extern "C" fn(*mut i32) -> i32;
    type GetDevice = unsafe extern "C" fn(*mut i32, i32) -> i32;
    type GetName = unsafe extern "C" fn(*mut std::ffi::c_char, i32, i32) -> i32;
    type TotalMem = unsafe extern "C" fn(*mut usize, i32) -> i32;
    // SAFETY: libcuda is the NVIDIA driver library; loading it runs no initialisation that
    // could conflict with us (the driver initialises in `cuInit`).
    let lib = unsafe { libloading::Library::new("libcuda.so.1") }.map_err(CudaUnavailable::NoDriver)?;
    let check =
        |call: &'static str, code: i32| if code == 0 { Ok(()) } else { Err(CudaUnavailable::Call { call, code }) };
    // SAFETY: the symbols and signatures are those of the CUDA driver API (cuda.h), stable since
    // CUDA 3.2 (`_v2` for the memory size); every out-pointer points at a live local.
    unsafe {
        let init = lib.get::<unsafe extern "C" fn(u32) -> i32>(b"cuInit\0").map_err(CudaUnavailable::NoDriver)?;
        let version = lib.get::<Int1>(b"cuDriverGetVersion\0").map_err(CudaUnavailable::NoDriver)?;
        let count = lib.get::<Int1>(b"cuDeviceGetCount\0").map_err(CudaUnavailable::NoDriver)?;
        let get = lib.get::<GetDevice>(b"cuDeviceGet\0").map_err(CudaUnavailable::NoDriver)?;
        let name = lib.get::<GetName>(b"cuDeviceGetName\0").map_err(CudaUnavailable::NoDriver)?;
        let mem = lib.get::<TotalMem>(b"cuDeviceTotalMem_v2\0").map_err(CudaUnavailable::NoDriver)?;
        check("cuInit", init(0))?;
        let mut driver_version = 0;
        check("cuDriverGetVersion", version(&mut driver_version))?;
        let mut n = 0;
        check("cuDeviceGetCount", count(&mut n))?;
        let mut devices = Vec::new();
        for i in 0..n {
            let mut dev = 0;
            check("cuDeviceGet", get(&mut dev, i))?;
            let mut buf = [0 as std::ffi::c_char; 256];
            check("cuDeviceGetName", name(buf.as_mut_ptr(), buf.len() as i32, dev))?;
            let mut bytes = 0usize;
            check("cuDeviceTotalMem", mem(&mut bytes, dev))?;
            let name = std::ffi::CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned();
            devices.push(CudaDevice { index: i as usize, name, memory_bytes: bytes as u64 });
        }
        Ok(CudaDevices { driver_version, devices })
    }
}

/// What `--device auto` picks: the first CUDA device (builds with `cuda`), else the best wgpu
/// adapter that is a GPU (builds with `wgpu`; a software adapter is slower than the CPU
/// backend), else the CPU.
pub fn auto() -> Device {
    if cfg!(feature = "cuda") && cuda_devices().is_ok_and(|c| !c.devices.is_empty()) {
        return Device::Cuda(0);
    }
    match wgpu_adapters().first() {
        Some(a) if a.device_type != AdapterType::Cpu => Device::Wgpu(a.index),
        _ => Device::Cpu,
    }
}

/// Everything `tscpipe devices` prints.
#[derive(Debug)]
pub struct DevicesReport {
    /// The CPU backend: architecture and the sgemm kernel of the convolutions.
    pub cpu: String,
    /// `None`: built without `wgpu`.
    pub wgpu: Option<&'static [Adapter]>,
    /// `None`: built without `cuda`.
    pub cuda: Option<Result<CudaDevices, CudaUnavailable>>,
    pub auto: Device,
}

/// Looks at the machine (opens the graphics and CUDA drivers where built with them).
pub fn report() -> DevicesReport {
    DevicesReport {
        cpu: format!(
            "burn flex, {}{}, {}, {} threads",
            std::env::consts::ARCH,
            if cfg!(target_feature = "avx512f") { " (avx512 build)" } else { "" },
            super::conv_gemm::Provider::best().id(),
            rayon::current_num_threads()
        ),
        wgpu: cfg!(feature = "wgpu").then(wgpu_adapters),
        cuda: cfg!(feature = "cuda").then(cuda_devices),
        auto: auto(),
    }
}

impl fmt::Display for DevicesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "cpu        {}", self.cpu)?;
        match self.wgpu {
            None => writeln!(f, "wgpu       not in this build (--features wgpu)")?,
            Some([]) => writeln!(f, "wgpu       no adapter (no Vulkan/Metal/DX12 driver found)")?,
            Some(adapters) => {
                for a in adapters {
                    let note = if a.device_type == AdapterType::Cpu { ", software" } else { "" };
                    writeln!(
                        f,
                        "wgpu:{:<5} {} ({:?}{note}, {}, driver {} {})",
                        a.index, a.name, a.device_type, a.api, a.driver, a.driver_info
                    )?;
                }
            }
        }
        match &self.cuda {
            None => writeln!(f, "cuda       not in this build (--features cuda)")?,
            Some(Err(e)) => writeln!(f, "cuda       {e}")?,
            Some(Ok(c)) if c.devices.is_empty() => {
                writeln!(f, "cuda       driver {} reports no device", driver_version(c.driver_version))?
            }
            Some(Ok(c)) => {
                for d in &c.devices {
                    writeln!(
                        f,
                        "cuda:{:<5} {} ({:.1} GiB, driver {})",
                        d.index,
                        d.name,
                        d.memory_bytes as f64 / (1u64 << 30) as f64,
                        driver_version(c.driver_version)
                    )?;
                }
            }
        }
        write!(f, "auto       {}", self.auto)
    }
}

/// 12040 → "12.4".
fn driver_version(v: i32) -> String {
    format!("{}.{}", v / 1000, (v % 1000) / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(name: &str, device_type: AdapterType) -> Adapter {
        Adapter {
            index: 99,
            name: name.into(),
            device_type,
            api: "Vulkan".into(),
            driver: "d".into(),
            driver_info: String::new(),
            type_index: None,
        }
    }

    #[test]
    fn adapters_are_numbered_gpus_first_and_addressed_within_their_type() {
        let listed = number(vec![
            adapter("lavapipe", AdapterType::Cpu),
            adapter("igpu", AdapterType::IntegratedGpu),
            adapter("gpu0", AdapterType::DiscreteGpu),
            adapter("swiftshader", AdapterType::Cpu),
            adapter("gpu1", AdapterType::DiscreteGpu),
        ]);
        let names: Vec<_> = listed.iter().map(|a| (a.index, a.name.as_str(), a.type_index)).collect();
        assert_eq!(
            names,
            [
                (0, "gpu0", Some(0)),
                (1, "gpu1", Some(1)),
                (2, "igpu", Some(0)),
                (3, "lavapipe", Some(0)),
                (4, "swiftshader", None)
            ]
        );
        assert_eq!(listed[3].identity(), "Vulkan/lavapipe/d");
    }

    #[test]
    fn a_missing_cuda_driver_or_device_is_refused_with_the_reason() {
        // What `libloading` says on a machine without the driver.
        // SAFETY: loading a library that does not exist runs no code.
        let missing = unsafe { libloading::Library::new("libtscpipe-no-such-driver.so.1") }.unwrap_err();
        let e = cuda_present(Err(CudaUnavailable::NoDriver(missing)), 0).unwrap_err().to_string();
        assert!(e.contains("no CUDA driver (") && e.contains("libtscpipe-no-such-driver.so.1"), "{e}");
        let one = CudaDevices {
            driver_version: 12040,
            devices: vec![CudaDevice { index: 0, name: "GPU".into(), memory_bytes: 1 << 30 }],
        };
        assert!(cuda_present(Ok(one.clone()), 0).is_ok());
        let e = cuda_present(Ok(one), 1).unwrap_err().to_string();
        assert!(e.contains("12.4") && e.contains("1 device(s)") && e.contains("no cuda:1"), "{e}");
        // A build without `cuda` refuses the device earlier (`Device::check_available`).
        if !cfg!(feature = "cuda") {
            assert!(check_present(Device::Cuda(0)).is_ok());
        }
    }

    #[test]
    fn report_prints_every_backend_and_the_auto_choice() {
        let text = report().to_string();
        assert!(text.starts_with("cpu        burn flex, "), "{text}");
        assert!(text.contains("\nwgpu"), "{text}");
        assert!(text.contains("\ncuda"), "{text}");
        assert!(text.ends_with(&format!("auto       {}", auto())), "{text}");
        // A software adapter is never the automatic choice.
        if let Device::Wgpu(i) = auto() {
            assert_ne!(wgpu_adapters()[i].device_type, AdapterType::Cpu);
        }
        assert_eq!(driver_version(12040), "12.4");
    }
}
