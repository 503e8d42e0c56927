//! The device type lives in [`crate::device`]; exec re-exports it for its callers.

pub use crate::device::Device;
