//! Running a pipeline: the scheduler, the executor behind it (in-process or SLURM), devices, events and their
//! renderings, and publishing results for people to open.

pub mod cache_setup;
pub mod device;
pub mod events;
pub mod executor;
pub mod progress;
pub mod publish;
pub mod scheduler;
pub mod slurm;

pub use crate::plan::{Status, StatusRow};
pub use device::Device;
pub use events::{Event, EventSink};
pub use executor::{Executor, LocalExecutor};
pub use scheduler::{Outcome, RunOptions, RunSummary, Scheduler};
