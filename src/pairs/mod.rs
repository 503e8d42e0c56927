//! Pair expansion for CNN-TS (SPEC §3): a training split of N series becomes instances
//! `(x_i, x_j, c_i, c_j, c_ij)` with `c_ij = [c_i == c_j]`, `j` over all N series or over a
//! representative subset chosen by NearMiss.
//!
//! Only **index pairs** are stored (two `u32` per instance, 8 bytes): N = 2,000 with all N²
//! pairs is 32 MB, never copies of the series; a training loop gathers the series of a
//! mini-batch on the fly. Everything else (labels, same/different, class counts) is derived.
//!
//! * [`expand`] — [`PairSet`], the pair counts of eqs. 9–10, the binary artifact format.
//! * [`nearmiss`] — NearMiss-1/2/3 representatives (Zhang & Mani 2003, as imbalanced-learn).
//! * [`coefficients`] — the class-related loss coefficients of eqs. 7–8.
//! * [`vote`] — inference by voting over the representatives.

pub mod coefficients;
pub mod expand;
pub mod nearmiss;
pub mod vote;

pub use coefficients::{CoefficientMode, class_coefficients};
pub use expand::{PairCounts, PairSet};
pub use nearmiss::{NearMiss, nearmiss};
pub use vote::{VoteRule, vote};

/// Errors of pair expansion and representative selection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    #[error("the training split is empty")]
    Empty,
    #[error("{0} series do not fit 32-bit pair indices")]
    TooMany(usize),
    #[error("label {label} of series {index} is not below the number of classes {classes}")]
    BadLabel { index: usize, label: usize, classes: usize },
    #[error("representative index {0} is out of range")]
    BadIndex(usize),
    #[error("invalid NearMiss parameters: {0}")]
    InvalidParams(String),
    #[error("not a pair-set artifact: {0}")]
    Decode(String),
}
