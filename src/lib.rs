//! tscpipe: reproducible, cached pipelines for time-series-classification research.
//!
//! The crate is organised in layers; a module uses only modules of layers below it (the test
//! `tests/it/architecture.rs` holds the table), lowest first:
//! - leaves: [`util`] (CSV fields, suggestions, memory and time quantities), [`device`] (where a
//!   stage computes), [`graph`] (topological order), [`report`] (HTML pages), [`embed`] (t-SNE);
//! - [`config`] (TOML with spans, located errors, the `[cache]`/`[executor]` [`settings`]),
//!   [`data`] (datasets and readers), [`metrics`], [`cache`] (content-hash keys, the on-disk and
//!   remote store, run records), [`plot`];
//! - [`classic`] (1-NN/DTW baselines, features), then [`pairs`] (CNN-TS pairs), then [`models`]
//!   (burn) and [`stats`], then [`command`] (running a researcher's own program);
//! - [`stages`]: the stage kinds a pipeline can use, and their registry;
//! - [`dsl`]: the pipeline language (parse, include, profiles, matrix, validation against the kinds);
//! - [`plan`]: the instance graph, cache keys, the walk "keyed and looked up" and `status`;
//! - [`exec`]: the scheduler, executors (local, SLURM arrays), resource requests, retries, measured
//!   usage, progress, publishing results;
//! - [`app`]: the operations the command line offers, as library calls.

pub mod app;
pub mod cache;
pub mod classic;
pub mod command;
pub mod config;
pub mod data;
pub mod device;
pub mod dsl;
pub mod embed;
pub mod exec;
pub mod graph;
pub mod metrics;
pub mod models;
pub mod pairs;
pub mod plan;
pub mod plot;
pub mod report;
pub use config::settings;
pub mod stages;
pub mod stats;
pub mod util;
