//! Running a pipeline: the scheduler, the executor behind it (in-process, a child process, or
//! SLURM arrays), what an instance asks for and what it used, events and their
//! renderings, and publishing results for people to open.

pub mod cache_setup;
pub mod events;
pub mod executor;
pub mod jobfile;
pub mod progress;
pub mod publish;
pub mod resources;
pub mod scheduler;
pub mod slurm;
pub mod usage;

pub use crate::plan::{Status, StatusRow};
pub use events::{Event, EventSink};
pub use executor::{Executor, LocalExecutor};
pub use scheduler::{Outcome, RunOptions, RunSummary, Scheduler};
