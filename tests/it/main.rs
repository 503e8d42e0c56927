//! The integration tests: one binary (links burn and polars once), one module per area.
//! Shared fixtures live in [`common`]. Run one area with `cargo test --test it AREA::`.

mod common;

mod analysis_report;
mod architecture;
mod baselines;
mod cache_behaviour;
mod cli;
mod cnn_ts_pipeline;
mod command_stage;
mod deep_pipeline;
mod docs;
mod ensembles;
mod features_classic;
mod interrupt;
mod key_stability;
mod pipeline_errors;
mod pipeline_language;
mod remote_cache;
mod resample;
mod resources;
mod rocket;
mod slurm_executor;
mod stats_scipy;
mod status;
mod tsml_export;
#[cfg(feature = "wgpu")]
mod wgpu;
mod zoo_pipeline;
