//! The hand-crafted, untrained convolution filters of H-InceptionTime and LITE (Ismail-Fawaz et
//! al. 2022, "Deep learning for time series classification using new hand-crafted convolution
//! filters"), as aeon's `InceptionNetwork.hybrid_layer` and `LITENetwork.hybrid_layer` define them:
//!
//! * increasing-trend detectors of lengths 2, 4, …, 64: `-1, +1, -1, +1, …`;
//! * decreasing-trend detectors of the same lengths: `+1, -1, +1, -1, …`;
//! * peak detectors for `k` = 4, 8, 16, 32, 64, of length `k + k/2`: with `q = k/4` and
//!   `l_i = ((i+1)/q)²` (`i < q`), the runs `-l`, `-reverse(l)`, `2l`, `2·reverse(l)`, `-l`,
//!   `-reverse(l)`.
//!
//! Each filter is one output channel summing over every input channel (a Keras `Conv1D(filters=1)`
//! whose kernel repeats the values over the channels), "same" padding (the odd zero on the right),
//! no bias, followed by a ReLU: 17 channels. They are constants, not parameters (Keras
//! `trainable=False`), so they enter neither the optimiser nor the saved weights.
//!
//! The 17 filters are computed as one convolution: each is placed in a window of the longest
//! filter's length so that its "same" alignment is kept (a filter of length `L` starts at
//! `left(W) - left(L)` with `left(n) = (n-1)/2`), zeros elsewhere.

use burn::tensor::activation::relu;
use burn::tensor::{Tensor, TensorData};

use super::conv_gemm::{Provider, conv1d_same};

/// Lengths of the trend detectors (the peak detectors use all but the first).
pub const LENGTHS: [usize; 6] = [2, 4, 8, 16, 32, 64];

/// Output channels of the filter bank: 6 increasing, 6 decreasing, 5 peak detectors.
pub const CHANNELS: usize = 2 * LENGTHS.len() + LENGTHS.len() - 1;

/// The 17 filters' values, in aeon's order (increasing, decreasing, peaks).
pub fn filters() -> Vec<Vec<f32>> {
    let mut out = Vec::with_capacity(CHANNELS);
    for first_negative in [true, false] {
        for &k in &LENGTHS {
            out.push((0..k).map(|i| if (i % 2 == 0) == first_negative { -1.0 } else { 1.0 }).collect());
        }
    }
    for &k in &LENGTHS[1..] {
        let q = k / 4;
        let left: Vec<f32> = (0..q).map(|i| ((i + 1) as f32 / q as f32).powi(2)).collect();
        let right: Vec<f32> = left.iter().rev().copied().collect();
        let mut f = Vec::with_capacity(k + k / 2);
        for (run, scale) in [(&left, -1.0), (&right, -1.0), (&left, 2.0), (&right, 2.0), (&left, -1.0), (&right, -1.0)]
        {
            f.extend(run.iter().map(|v| v * scale));
        }
        out.push(f);
    }
    out
}

/// The filter bank as one `[17, channels, W]` kernel (`W` the longest filter's length), every
/// filter repeated over the input channels and aligned as its own "same" convolution would be.
pub fn kernel(channels: usize) -> (Vec<f32>, [usize; 3]) {
    let fs = filters();
    let width = fs.iter().map(Vec::len).max().unwrap_or(1);
    let centre = (width - 1) / 2;
    let mut w = vec![0f32; fs.len() * channels * width];
    for (o, f) in fs.iter().enumerate() {
        let start = centre - (f.len() - 1) / 2;
        for c in 0..channels {
            let row = (o * channels + c) * width;
            w[row + start..row + start + f.len()].copy_from_slice(f);
        }
    }
    (w, [fs.len(), channels, width])
}

/// `(B, C, T)` → `(B, 17, T)`: the filters' responses after a ReLU (no gradient reaches the
/// filters; the input's gradient is not needed either, as the models apply them to their input).
pub fn forward(x: Tensor<3>) -> Tensor<3> {
    let [_, channels, _] = x.dims();
    let (values, shape) = kernel(channels);
    let weight = Tensor::from_data(TensorData::new(values, shape), &x.device());
    relu(conv1d_same(x, weight, None, Provider::best()))
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;

    #[test]
    fn filters_follow_the_reference_formulas() {
        let f = filters();
        assert_eq!(f.len(), CHANNELS);
        assert_eq!(f[0], vec![-1.0, 1.0]);
        assert_eq!(f[6], vec![1.0, -1.0]);
        assert_eq!(&f[1][..], &[-1.0, 1.0, -1.0, 1.0]);
        // k = 4: q = 1, l = [1]
        assert_eq!(f[12], vec![-1.0, -1.0, 2.0, 2.0, -1.0, -1.0]);
        // k = 8: q = 2, l = [0.25, 1]
        assert_eq!(f[13], vec![-0.25, -1.0, -1.0, -0.25, 0.5, 2.0, 2.0, 0.5, -0.25, -1.0, -1.0, -0.25]);
        let lens: Vec<usize> = f.iter().map(Vec::len).collect();
        assert_eq!(lens, [2, 4, 8, 16, 32, 64, 2, 4, 8, 16, 32, 64, 6, 12, 24, 48, 96]);
        // 438 constants per input channel: Keras' non-trainable count of the hybrid layer
        assert_eq!(lens.iter().sum::<usize>(), 438);
    }

    #[test]
    fn one_kernel_equals_each_filter_as_its_own_same_convolution() {
        let dev = Device::flex();
        let (b, c, t) = (2, 2, 37);
        let x: Vec<f32> = (0..b * c * t).map(|i| ((i * 29 % 53) as f32 / 26.0) - 1.0).collect();
        let xt = Tensor::<3>::from_data(TensorData::new(x.clone(), [b, c, t]), &dev);
        let got = forward(xt).into_data().try_into_vec::<f32>().unwrap();
        for (o, f) in filters().iter().enumerate() {
            let left = (f.len() - 1) / 2;
            for bi in 0..b {
                for ti in 0..t {
                    let mut s = 0f32;
                    for ci in 0..c {
                        for (j, w) in f.iter().enumerate() {
                            let src = ti as isize + j as isize - left as isize;
                            if (0..t as isize).contains(&src) {
                                s += w * x[(bi * c + ci) * t + src as usize];
                            }
                        }
                    }
                    let g = got[(bi * CHANNELS + o) * t + ti];
                    assert!((g - s.max(0.0)).abs() < 1e-4, "filter {o} b {bi} t {ti}: {g} vs {s}");
                }
            }
        }
    }
}
