//! Class-related loss coefficients `C_k^i` (eqs. 7–8): every instance of the same class (for
//! output k) gets the same coefficient.
//!
//! The paper's text says minority classes get the *larger* coefficient; its eq. 8,
//! `C = T_k^i / T`, as printed gives them the smaller one. The default follows the text.

use serde::{Deserialize, Serialize};

/// How the per-class coefficients are computed from the class counts of one output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoefficientMode {
    /// `T / (K · T_c)` over the K classes present: minority classes weigh more, and the mean
    /// coefficient over all instances is 1 (the paper's text; Keras' "balanced" weights).
    #[default]
    InverseFrequency,
    /// `T_c / T`, eq. 8 exactly as printed (majority classes weigh more).
    PaperEq8,
    /// All ones.
    None,
}

/// Coefficient per class for instance counts `counts` (absent classes get 1; they never occur).
pub fn class_coefficients(counts: &[usize], mode: CoefficientMode) -> Vec<f64> {
    let total: usize = counts.iter().sum();
    let present = counts.iter().filter(|&&c| c > 0).count().max(1);
    counts
        .iter()
        .map(|&c| match mode {
            _ if c == 0 => 1.0,
            CoefficientMode::InverseFrequency => total as f64 / (present as f64 * c as f64),
            CoefficientMode::PaperEq8 => c as f64 / total as f64,
            CoefficientMode::None => 1.0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pairs::PairSet;

    #[test]
    fn inverse_frequency_balances_same_and_different() {
        // 3 classes × 4 series, all pairs: T_s = 48, T_d = 96 (eqs. 9–10)
        let labels: Vec<usize> = (0..12).map(|i| i % 3).collect();
        let main = PairSet::all(&labels, 3).unwrap().counts().main();
        assert_eq!(main, [96, 48]);
        let w = class_coefficients(&main, CoefficientMode::InverseFrequency);
        assert_eq!(w, vec![144.0 / (2.0 * 96.0), 144.0 / (2.0 * 48.0)]);
        // each class then carries half of the total weight, and the mean coefficient is 1
        assert!((w[0] * 96.0 - w[1] * 48.0).abs() < 1e-12);
        assert!(((w[0] * 96.0 + w[1] * 48.0) / 144.0 - 1.0).abs() < 1e-12);
        assert!(w[1] > w[0], "the minority (same) class weighs more");

        let literal = class_coefficients(&main, CoefficientMode::PaperEq8);
        assert_eq!(literal, vec![96.0 / 144.0, 48.0 / 144.0]);
        assert!(literal[1] < literal[0], "eq. 8 as printed weighs the minority less");
        assert_eq!(class_coefficients(&main, CoefficientMode::None), vec![1.0, 1.0]);
        // an absent class does not disturb the others
        assert_eq!(class_coefficients(&[0, 10, 30], CoefficientMode::InverseFrequency), vec![1.0, 2.0, 40.0 / 60.0]);
    }
}
