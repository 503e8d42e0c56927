//! Deterministic parameter initialisation (Keras initialisers) from a ChaCha8 stream, with
//! deterministic parameter ids, independent of burn's process-wide RNG.

use burn::module::{Param, ParamId, RunningState};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// ChaCha stream used for initialisation; training epochs use streams `1 + epoch`.
pub(crate) const INIT_STREAM: u64 = 0;

/// The RNG of one purpose (`stream`) of a run seeded with `seed`.
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

pub(crate) struct Init {
    rng: ChaCha8Rng,
    next_id: u64,
    device: Device,
}

impl Init {
    pub(crate) fn new(seed: u64, device: &Device) -> Self {
        Self { rng: rng(seed, INIT_STREAM), next_id: 0, device: device.clone() }
    }

    pub(crate) fn device(&self) -> &Device {
        &self.device
    }

    /// Next deterministic parameter id.
    pub(crate) fn id(&mut self) -> ParamId {
        self.next_id += 1;
        ParamId::from(self.next_id)
    }

    pub(crate) fn tensor<const D: usize>(&self, values: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(values, shape), &self.device)
    }

    pub(crate) fn param<const D: usize>(&mut self, values: Vec<f32>, shape: [usize; D]) -> Param<Tensor<D>> {
        let mut p = Param::from_tensor(self.tensor(values, shape));
        p.id = self.id();
        p
    }

    /// A non-trainable running statistic with a deterministic id.
    pub(crate) fn running(&mut self, value: f32, len: usize) -> RunningState<Tensor<1>> {
        let id = self.id();
        RunningState::with_id(id, self.tensor(vec![value; len], [len]))
    }

    fn uniform_values(&mut self, n: usize, limit: f64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                let u: f64 = self.rng.random::<f64>();
                ((2.0 * u - 1.0) * limit) as f32
            })
            .collect()
    }

    pub(crate) fn constant<const D: usize>(&mut self, value: f32, shape: [usize; D]) -> Param<Tensor<D>> {
        let n = shape.iter().product();
        self.param(vec![value; n], shape)
    }

    /// He-uniform: `U(-sqrt(6 / fan_in), +sqrt(6 / fan_in))`.
    pub(crate) fn he_uniform<const D: usize>(&mut self, shape: [usize; D], fan_in: usize) -> Param<Tensor<D>> {
        let limit = (6.0 / fan_in as f64).sqrt();
        let v = self.uniform_values(shape.iter().product(), limit);
        self.param(v, shape)
    }

    /// Glorot-uniform: `U(±sqrt(6 / (fan_in + fan_out)))`.
    pub(crate) fn glorot_uniform<const D: usize>(
        &mut self,
        shape: [usize; D],
        fan_in: usize,
        fan_out: usize,
    ) -> Param<Tensor<D>> {
        let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
        let v = self.uniform_values(shape.iter().product(), limit);
        self.param(v, shape)
    }

    fn normal(&mut self) -> f64 {
        // Box–Muller; u1 in (0, 1].
        let u1 = 1.0 - self.rng.random::<f64>();
        let u2 = self.rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Orthogonal (Keras `orthogonal`): a `[rows, cols]` matrix with orthonormal rows (when
    /// `rows <= cols`) or columns, from Gram–Schmidt on a Gaussian matrix.
    pub(crate) fn orthogonal(&mut self, rows: usize, cols: usize) -> Param<Tensor<2>> {
        let (nvec, dim) = if rows <= cols { (rows, cols) } else { (cols, rows) };
        let mut vecs: Vec<Vec<f64>> = Vec::with_capacity(nvec);
        while vecs.len() < nvec {
            let mut v: Vec<f64> = (0..dim).map(|_| self.normal()).collect();
            for _ in 0..2 {
                for u in &vecs {
                    let d: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
                    v.iter_mut().zip(u).for_each(|(x, y)| *x -= d * y);
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 1e-6 {
                v.iter_mut().for_each(|x| *x /= norm);
                vecs.push(v);
            }
        }
        let mut out = vec![0f32; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                out[r * cols + c] = if rows <= cols { vecs[r][c] } else { vecs[c][r] } as f32;
            }
        }
        self.param(out, [rows, cols])
    }
}
