//! Small helpers with no knowledge of pipelines: CSV fields and tables, "did you mean" suggestions,
//! the quantities a stage asks a machine for (memory, time, CPUs, GPUs).
//! A leaf: nothing here imports from the rest of the crate.

pub mod csv;
pub mod resources;
pub mod suggest;
