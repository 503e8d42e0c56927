//! Backend/device selection: `cpu` is burn's pure-Rust `flex` backend; `cuda:N` (or `cuda`)
//! needs the crate feature `cuda`.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::ModelError;

/// Where a model runs. Serialised as its string form (`"cpu"`, `"cuda:0"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceSpec {
    #[default]
    Cpu,
    Cuda(usize),
}

impl DeviceSpec {
    /// The inference device.
    pub fn device(&self) -> Result<Device, ModelError> {
        match self {
            DeviceSpec::Cpu => {
                super::tune_host_allocator();
                Ok(Device::flex())
            }
            #[cfg(feature = "cuda")]
            DeviceSpec::Cuda(i) => Ok(Device::cuda(*i)),
            #[cfg(not(feature = "cuda"))]
            DeviceSpec::Cuda(_) => Err(ModelError::Device(format!(
                "{self} requested but this build has no CUDA support (build with --features cuda)"
            ))),
        }
    }

    /// The training device (the inference device with autodiff).
    pub fn train_device(&self) -> Result<Device, ModelError> {
        Ok(self.device()?.autodiff())
    }

    /// Whether bit-identical results run to run are expected (the CPU backend).
    pub fn is_deterministic(&self) -> bool {
        matches!(self, DeviceSpec::Cpu)
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "cpu" | "flex" => Ok(DeviceSpec::Cpu),
            "cuda" | "gpu" => Ok(DeviceSpec::Cuda(0)),
            _ => t
                .strip_prefix("cuda:")
                .and_then(|i| i.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| ModelError::Device(format!("unknown device {s:?} (expected \"cpu\" or \"cuda:N\")"))),
        }
    }
}

impl TryFrom<String> for DeviceSpec {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DeviceSpec> for String {
    fn from(d: DeviceSpec) -> String {
        d.to_string()
    }
}
