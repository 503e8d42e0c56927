//! tscpipe: reproducible, cached pipelines for time-series-classification research.
//!
//! The crate is organised by concern:
//! - [`dsl`]: the TOML pipeline language (parse with spans, include, profiles, matrix, validation);
//! - [`graph`]: the instance DAG (petgraph), ordering, DOT/Mermaid;
//! - [`cache`]: content-hash keys, the on-disk store, locks, run records;
//! - [`exec`]: the scheduler, executors, progress, publishing results;
//! - [`stages`]: the stage kinds a pipeline can use;
//! - [`data`], [`classic`], [`metrics`]: datasets and readers, 1-NN/DTW baselines, evaluation metrics;
//! - [`pairs`]: CNN-TS pair expansion, NearMiss representatives, voting;
//! - [`settings`]: the `[cache]` (remote cache) and `[executor]` (SLURM) tables;
//! - [`app`]: the operations the command line offers, as library calls.

pub mod app;
pub mod cache;
pub mod classic;
pub mod data;
pub mod dsl;
pub mod embed;
pub mod exec;
pub mod graph;
pub mod metrics;
pub mod models;
pub mod pairs;
pub mod plot;
pub mod report;
pub mod settings;
pub mod stages;
pub mod stats;
