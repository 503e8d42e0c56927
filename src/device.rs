//! Where a stage computes: the CPU (burn's `flex` backend), a CUDA device or a wgpu adapter
//! (Vulkan, Metal, DX12: burn's `wgpu` backend). The one device type of the crate: the command
//! line parses it, the scheduler queues by it, cache keys name its backend (`Device::backend_id`,
//! with the models) and models run on it (`Device::device`).

use std::fmt;
use std::str::FromStr;

/// Serialised as its string form (`"cpu"`, `"cuda:0"`, `"wgpu:1"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Device {
    #[default]
    Cpu,
    Cuda(usize),
    /// The N-th wgpu adapter as `tscpipe devices` lists them (GPUs first, software adapters last).
    Wgpu(usize),
}

impl Device {
    pub fn is_accelerator(&self) -> bool {
        !matches!(self, Device::Cpu)
    }

    /// Whether bit-identical results run to run are expected (the CPU backend).
    pub fn is_deterministic(&self) -> bool {
        matches!(self, Device::Cpu)
    }

    /// Whether this build can compute on the device (CUDA needs the crate feature `cuda`, wgpu
    /// the feature `wgpu`); whether the machine has it is the models' question.
    pub fn check_available(self) -> Result<Device, DeviceError> {
        let built = match self {
            Device::Cpu => true,
            Device::Cuda(_) => cfg!(feature = "cuda"),
            Device::Wgpu(_) => cfg!(feature = "wgpu"),
        };
        if !built {
            let feature = if matches!(self, Device::Cuda(_)) { "cuda" } else { "wgpu" };
            return Err(DeviceError::NotBuilt { device: self, feature });
        }
        Ok(self)
    }
}

/// A device name that is not one, or a device this build cannot compute on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device `{0}` (expected `cpu`, `cuda`, `cuda:N`, `wgpu` or `wgpu:N`)")]
    Unknown(String),
    #[error("device `{device}` needs a build with `--features {feature}`")]
    NotBuilt { device: Device, feature: &'static str },
}

impl FromStr for Device {
    type Err = DeviceError;

    /// `cpu`, `cuda` (device 0), `cuda:N`, `wgpu` (adapter 0) or `wgpu:N`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let indexed = |prefix: &str| t.strip_prefix(prefix).and_then(|i| i.parse().ok());
        match t.as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            "wgpu" => Ok(Device::Wgpu(0)),
            _ => indexed("cuda:")
                .map(Device::Cuda)
                .or_else(|| indexed("wgpu:").map(Device::Wgpu))
                .ok_or_else(|| DeviceError::Unknown(s.trim().to_string())),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
            Device::Wgpu(i) => write!(f, "wgpu:{i}"),
        }
    }
}

impl TryFrom<String> for Device {
    type Error = DeviceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Device> for String {
    fn from(d: Device) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices_one_way() {
        assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
        assert_eq!(" CUDA ".parse::<Device>().unwrap(), Device::Cuda(0));
        assert_eq!("cuda:1".parse::<Device>().unwrap(), Device::Cuda(1));
        assert_eq!("wgpu".parse::<Device>().unwrap(), Device::Wgpu(0));
        assert_eq!("WGPU:2".parse::<Device>().unwrap(), Device::Wgpu(2));
        for bad in ["gpu", "flex", "tpu", "cuda:x", "wgpu:-1", "auto"] {
            let e = bad.parse::<Device>().unwrap_err().to_string();
            assert!(e.contains("expected `cpu`, `cuda`, `cuda:N`, `wgpu` or `wgpu:N`"), "{e}");
        }
        assert_eq!(Device::Wgpu(1).to_string(), "wgpu:1");
        assert_eq!(Device::Wgpu(0).check_available().is_ok(), cfg!(feature = "wgpu"));
        assert_eq!(Device::Cpu.to_string(), "cpu");
        assert_eq!(serde_json::to_string(&Device::Cuda(2)).unwrap(), "\"cuda:2\"");
        assert_eq!(serde_json::from_str::<Device>("\"cpu\"").unwrap(), Device::Cpu);
    }
}
