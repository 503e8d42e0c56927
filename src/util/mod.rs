//! Small helpers with no knowledge of pipelines: CSV fields and tables, "did you mean" suggestions.
//! A leaf: nothing here imports from the rest of the crate.

pub mod csv;
pub mod suggest;
