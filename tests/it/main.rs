//! The integration tests: one binary (links burn and polars once), one module per area.
//! Shared fixtures live in [`common`]. Run one area with `cargo test --test it AREA::`.

mod common;

mod analysis_report;
mod baselines;
mod cache_behaviour;
mod cnn_ts_pipeline;
mod deep_pipeline;
mod features_classic;
mod interrupt;
mod pipeline_errors;
mod pipeline_language;
mod remote_cache;
mod rocket;
mod slurm_executor;
mod stats_scipy;
mod zoo_pipeline;
