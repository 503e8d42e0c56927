//! MLP baseline for time-series classification (Wang et al. 2017): the flattened series →
//! dropout 0.1 → [dense 500 → ReLU → dropout] × 3 (rates 0.2, 0.2, 0.3) → softmax.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::init::Init;
use super::layers::{Dense, dropout};
use super::{ModelError, ModelOutput, ModelShape, Result};

/// MLP hyper-parameters; defaults are Wang et al.'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpSpec {
    /// Units of the hidden layers (paper: 500, 500, 500).
    pub hidden: Vec<usize>,
    /// Dropout rates: on the input, then after each hidden layer (paper: 0.1, 0.2, 0.2, 0.3);
    /// one more entry than `hidden`.
    pub dropout: Vec<f64>,
}

impl Default for MlpSpec {
    fn default() -> Self {
        Self { hidden: vec![500, 500, 500], dropout: vec![0.1, 0.2, 0.2, 0.3] }
    }
}

impl MlpSpec {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::InvalidSpec(format!("mlp: {m}")));
        if self.hidden.contains(&0) {
            return bad(format!("hidden layer sizes must be positive, got {:?}", self.hidden));
        }
        if self.dropout.len() != self.hidden.len() + 1 {
            return bad(format!(
                "dropout needs one rate for the input and one per hidden layer ({} rates), got {}",
                self.hidden.len() + 1,
                self.dropout.len()
            ));
        }
        if let Some(r) = self.dropout.iter().find(|r| !(0.0..1.0).contains(*r)) {
            return bad(format!("dropout rates must be in [0, 1), got {r}"));
        }
        Ok(())
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    pub layers: Vec<Dense>,
    pub head: Dense,
    pub dropout: Vec<f64>,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

impl Mlp {
    pub(crate) fn new(spec: &MlpSpec, shape: ModelShape, init: &mut Init) -> Self {
        let mut inputs = shape.dims * shape.len;
        let mut layers = Vec::with_capacity(spec.hidden.len());
        for &units in &spec.hidden {
            layers.push(Dense::new(init, inputs, units));
            inputs = units;
        }
        let head = Dense::new(init, inputs, shape.classes);
        Self { layers, head, dropout: spec.dropout.clone(), dims: shape.dims, len: shape.len, classes: shape.classes }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    /// Channels are concatenated (`C·T` inputs); dropout only with `dropout_rng`.
    pub fn forward(&self, x: Tensor<3>, mut dropout_rng: Option<&mut ChaCha8Rng>) -> ModelOutput {
        let [b, c, t] = x.dims();
        let mut maybe_drop = |h: Tensor<2>, i: usize| match dropout_rng.as_deref_mut() {
            Some(rng) => dropout(h, self.dropout.get(i).copied().unwrap_or(0.0), rng),
            None => h,
        };
        let mut h = maybe_drop(x.reshape([b, c * t]), 0);
        for (i, layer) in self.layers.iter().enumerate() {
            h = maybe_drop(relu(layer.forward(h)), i + 1);
        }
        ModelOutput { logits: self.head.forward(h.clone()), attention: None, features: h }
    }
}
