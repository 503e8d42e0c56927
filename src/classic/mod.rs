//! Classic baselines: 1-nearest-neighbour with Euclidean distance and DTW; hand-crafted features
//! with SVM and random-forest classifiers; the MiniRocket, MultiRocket and
//! Hydra transforms with a ridge classifier.

pub mod dtw;
pub mod feature_models;
pub mod features;
pub mod fft;
pub mod hydra;
pub mod minirocket;
pub mod multirocket;
pub mod nn;
pub mod ridge;
pub mod rocket;

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
