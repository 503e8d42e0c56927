//! Classic baselines: 1-nearest-neighbour with Euclidean distance and DTW; hand-crafted features
//! with SVM and random-forest classifiers; the ROCKET, MiniRocket, MultiRocket, Hydra and
//! MultiRocket-Hydra transforms with a ridge classifier; QUANT with extremely randomised trees.

pub mod dtw;
pub mod extra_trees;
pub mod feature_file;
pub mod feature_models;
pub mod features;
pub mod fft;
pub mod hydra;
pub mod minirocket;
pub mod multirocket;
pub mod nn;
pub mod quant;
pub mod random_kernels;
pub mod ridge;
pub mod rocket;
pub mod simd;

pub use dtw::{Envelope, Window, dtw, dtw_bounded, lb_keogh};
pub use nn::{Metric, NnResult, OneNn, one_nn};

/// Errors of the classic baselines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassicError {
    #[error("the training split is empty")]
    EmptyTrain,
    #[error("test series are {test:?} (dims, len) but train series are {train:?}")]
    ShapeMismatch { train: (usize, usize), test: (usize, usize) },
}
