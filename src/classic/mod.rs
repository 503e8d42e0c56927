//! Classic baselines: 1-nearest-neighbour with Euclidean distance and DTW.

pub mod dtw;
pub mod nn;

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
