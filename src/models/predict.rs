//! Batched inference.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::train::check_split;
use super::{Model, Result};
use crate::data::dataset::Split;
use crate::device::Device;

/// Per-series outputs of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// Class probabilities `[n][K]`.
    pub probabilities: Vec<Vec<f32>>,
    /// Arg-max class per series.
    pub labels: Vec<usize>,
    /// Attention weights `[n][t][j]` (weight of input step `j` at LSTM step `t`; steps are the
    /// input's dimensions after the dimension shuffle), for attention models.
    pub attention: Option<Vec<Vec<Vec<f32>>>>,
    /// What the final dense layer sees, `[n][F]` (for the report's t-SNE figures).
    #[serde(default)]
    pub features: Vec<Vec<f32>>,
}

impl Predictions {
    /// Fraction of `labels` predicted correctly.
    pub fn accuracy(&self, labels: &[usize]) -> f64 {
        if labels.is_empty() {
            return 0.0;
        }
        let hits = self.labels.iter().zip(labels).filter(|(a, b)| a == b).count();
        hits as f64 / labels.len() as f64
    }
}

/// Runs `model` in inference mode over `split` in batches of `batch_size` (results do not
/// depend on the batch size beyond floating-point summation order inside the kernels).
pub fn predict(model: &Model, split: &Split, device: &Device, batch_size: usize) -> Result<Predictions> {
    let dev = device.device()?;
    let shape = model.shape();
    check_split(split, shape, "predicted")?;
    let model = model.valid().to_device(&dev);
    let k = shape.classes;
    let batch_size = batch_size.max(1);
    let mut probabilities = Vec::with_capacity(split.n);
    let mut labels = Vec::with_capacity(split.n);
    let mut attention: Option<Vec<Vec<Vec<f32>>>> = None;
    let mut features = Vec::with_capacity(split.n);
    let width = split.dims * split.len;
    let mut start = 0;
    while start < split.n {
        let b = batch_size.min(split.n - start);
        let x: Vec<f32> = split.values[start * width..(start + b) * width].iter().map(|&v| v as f32).collect();
        let x: Tensor<3> = Tensor::from_data(TensorData::new(x, [b, split.dims, split.len]), &dev);
        let out = model.forward(x, None);
        let [_, f] = out.features.dims();
        features.extend(to_vec(out.features.into_data()).chunks(f.max(1)).map(<[f32]>::to_vec));
        let p = to_vec(softmax(out.logits, 1).into_data());
        for row in p.chunks(k) {
            let arg = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc })
                .0;
            labels.push(arg);
            probabilities.push(row.to_vec());
        }
        if let Some(a) = out.attention {
            let [_, t, j] = a.dims();
            let v = to_vec(a.into_data());
            let all = attention.get_or_insert_with(|| Vec::with_capacity(split.n));
            for series in v.chunks(t * j) {
                all.push(series.chunks(j).map(|r| r.to_vec()).collect());
            }
        }
        start += b;
    }
    Ok(Predictions { probabilities, labels, attention, features })
}

fn to_vec(data: TensorData) -> Vec<f32> {
    data.convert::<f32>().try_into_vec::<f32>().expect("float tensor data converts to f32")
}
