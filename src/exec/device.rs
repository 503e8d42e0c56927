//! Where a stage computes: the CPU (burn's `flex` backend) or a CUDA device.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Device {
    Cpu,
    Cuda(usize),
}

impl FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(i)) => {
                    if cfg!(feature = "cuda") {
                        Ok(Device::Cuda(i))
                    } else {
                        Err(format!("device `{other}` needs a build with `--features cuda`"))
                    }
                }
                _ => Err(format!("unknown device `{other}` (expected `cpu`, `cuda` or `cuda:N`)")),
            },
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl Device {
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
                crate::models::conv_gemm::Provider::best().id(),
                crate::models::conv_gemm::KERNELS_REVISION
            ),
            // Every CUDA device of a build computes alike; the index does not enter the key.
            Device::Cuda(_) => "burn-0.22.1/cuda".to_string(),
        }
    }

    pub fn is_accelerator(&self) -> bool {
        !matches!(self, Device::Cpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
        assert!("gpu".parse::<Device>().is_err());
        assert_eq!(Device::Cpu.to_string(), "cpu");
    }
}
